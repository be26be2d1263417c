/** The shipped systemd unit: hardened as promised, and accepted by systemd's own checker. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const UNIT = join(__dirname, '../../deploy/edgepush-relay.service');
const text = readFileSync(UNIT, 'utf8');
const directives = new Map<string, string[]>();
for (const line of text.split('\n')) {
  const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
  if (m) directives.set(m[1], [...(directives.get(m[1]) ?? []), m[2]]);
}
const value = (key: string): string | undefined => directives.get(key)?.at(-1);

describe('deploy/edgepush-relay.service', () => {
  it.each([
    ['DynamicUser', 'yes'],
    ['NoNewPrivileges', 'yes'],
    ['ProtectSystem', 'strict'],
    ['ProtectHome', 'yes'],
    ['PrivateTmp', 'yes'],
    ['RestrictAddressFamilies', 'AF_INET AF_INET6 AF_UNIX'],
    ['CapabilityBoundingSet', ''],
    ['Restart', 'always'],
    ['EnvironmentFile', '/etc/edgepush/relay.env'],
  ])('sets %s=%s', (key, expected) => {
    expect(value(key)).toBe(expected);
  });

  it('leaves MemoryDenyWriteExecute off (V8 JIT) and keeps the secret off the command line', () => {
    expect(directives.has('MemoryDenyWriteExecute')).toBe(false);
    expect(value('ExecStart')).toMatch(/edgepush relay/);
    expect(value('ExecStart')).not.toMatch(/--secret/);
  });

  it('passes systemd-analyze verify', () => {
    const analyze = spawnSync('systemd-analyze', ['--version']);
    if (analyze.status !== 0) throw new Error('systemd-analyze not found: install it (Debian package systemd) to verify the unit');
    const res = spawnSync('systemd-analyze', ['verify', UNIT], { encoding: 'utf8' });
    expect(res.stderr.trim()).toBe('');
    expect(res.status).toBe(0);
  });
});
