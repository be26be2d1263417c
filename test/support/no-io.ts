/**
 * Setup for the unit project (test/unit/**): a unit test that opens a socket or starts a child
 * process fails, naming the rule, instead of quietly making `npm run test:unit` slow. Such a
 * test belongs outside test/unit/. Restored after each file, since a jest worker may run an
 * integration file next.
 */
import childProcess from 'node:child_process';
import net from 'node:net';

type Patchable = Record<string, unknown>;
const saved: [Patchable, string, unknown][] = [];

function forbid(target: Patchable, name: string, what: string): void {
  saved.push([target, name, target[name]]);
  target[name] = () => {
    throw new Error(`unit tests must not ${what} (${name}): move this test out of test/unit/`);
  };
}

forbid(net.Socket.prototype as unknown as Patchable, 'connect', 'open sockets');
forbid(net.Server.prototype as unknown as Patchable, 'listen', 'open sockets');
for (const name of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork']) {
  forbid(childProcess, name, 'start child processes');
}

afterAll(() => {
  for (const [target, name, original] of saved.reverse()) target[name] = original;
});
