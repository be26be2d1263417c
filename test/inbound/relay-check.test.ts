/** `edgepush relay --check` with channels: each channel's port is bound and released; a taken port fails (exit 1). */
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { runToEnd, stopAll, tempDir } from '../e2e/harness';
import { freePort } from '../support/free-port';

const env = { EDGEPUSH_AGENT_SECRET: 's3cret' };
afterAll(() => stopAll());
const args = (dir: string, ...channels: string[]): string[] => [
  'relay',
  '--check',
  '--url',
  'ws://127.0.0.1:1/ws',
  '--agent',
  'a1',
  '--data',
  dir,
  ...channels.flatMap((c) => ['--channel', c]),
];

it('reports each channel: ok when it can listen, FAIL when the port is taken', async () => {
  const dir = tempDir();
  const taken = net.createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
  try {
    const busy = (taken.address() as net.AddressInfo).port;
    const free = await freePort();
    const res = await runToEnd(args(dir.path, `lab=mllp://127.0.0.1:${free}`, `adt=mllp://127.0.0.1:${busy}?ack=cloud`), env);
    expect(res.stdout.trim().split('\n')).toStrictEqual([
      `ok   channel lab 127.0.0.1:${free}`,
      `FAIL channel adt 127.0.0.1:${busy} port in use`,
    ]);
    expect(res.code).toBe(1);
    const ok = await runToEnd(args(dir.path, `lab=mllp://127.0.0.1:${free}`), env);
    expect(ok.code).toBe(0);
  } finally {
    taken.close();
    dir.remove();
  }
});

it('refuses a bad channel URL with exit code 2 and says why', async () => {
  const dir = tempDir();
  try {
    const res = await runToEnd(args(dir.path, 'lab=mllp://0.0.0.0:2575?ack=sometimes'), env);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/channel lab: ack must be one of fast, cloud, app, got "sometimes"/);
  } finally {
    dir.remove();
  }
});

it('exits 1 and says so when the data dir for the spool cannot be written', async () => {
  const dir = tempDir();
  try {
    const file = join(dir.path, 'a-file');
    writeFileSync(file, '');
    const port = await freePort();
    const res = await runToEnd(
      ['relay', '--url', 'ws://127.0.0.1:1/ws', '--agent', 'a1', '--data', file, '--channel', `lab=mllp://127.0.0.1:${port}`],
      env,
    );
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`cannot open the data dir ${file}: ENOTDIR; give a writable --data DIR`);
  } finally {
    dir.remove();
  }
});

it('exits 1 and names the channel when its port is taken', async () => {
  const dir = tempDir();
  const taken = net.createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
  try {
    const busy = (taken.address() as net.AddressInfo).port;
    const res = await runToEnd(
      ['relay', '--url', 'ws://127.0.0.1:1/ws', '--agent', 'a1', '--data', dir.path, '--channel', `lab=mllp://127.0.0.1:${busy}`],
      env,
    );
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(new RegExp(`channel lab cannot listen on 127.0.0.1:${busy}: the port is in use`));
  } finally {
    taken.close();
    dir.remove();
  }
});
