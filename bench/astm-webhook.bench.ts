/**
 * Time from an ASTM result's EOT to the application's webhook (issue 12), on the shipped bundle:
 * `edgepush hub` and `edgepush relay --channel chem=astm://127.0.0.1:P?listen` as child
 * processes; an independent byte-level analyser (test/astm/raw-peer.ts) and the webhook server in
 * this process, so both timestamps come from one clock. One transfer at a time: the next starts
 * once the previous one reached the webhook. ack=fast (spool, fsync) and ack=cloud.
 *
 *   npm run bench -- astm-webhook        (ASTM_WEBHOOK_BENCH_N sets the transfers per mode)
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { RawPeer } from '../test/astm/raw-peer';

const CLI = resolve(__dirname, '../dist/edgepush.js');
const N = Number(process.env.ASTM_WEBHOOK_BENCH_N ?? 300);
const children: ChildProcess[] = [];

function start(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; out: () => string } {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return { child, out: () => out };
}

async function until<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, what: string, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'edgepush-astm-webhook-'));
  const arrived = new Map<string, bigint>();
  const hook = createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      const at = process.hrtime.bigint();
      const m = /O\|1\|(S-[\w-]+)/.exec((JSON.parse(raw) as { body: string }).body);
      if (m) arrived.set(m[1], at);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;

  const hub = start(['hub', '--port', '0', '--data', join(dir, 'hub'), '--log-level', 'warn']);
  const [, api] = await until(() => /Push API:\s+(http:\/\/\S+?)\/\s/.exec(hub.out()) ?? undefined, 'the hub');
  const [, ws] = await until(() => /Relay WebSocket:\s+(ws:\/\/\S+)/.exec(hub.out()) ?? undefined, 'the hub');
  const token = spawnSync(process.execPath, [CLI, 'token', '--data', join(dir, 'hub')], { encoding: 'utf8' }).stdout.trim();
  const call = (method: string, path: string, body: unknown) =>
    fetch(api + path, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then((r) => r.json() as Promise<Record<string, string>>);

  console.log(`| mode | transfers | p50 | p95 | p99 |\n| --- | ---: | ---: | ---: | ---: |`);
  for (const ack of ['fast', 'cloud'] as const) {
    const agentId = `chem-${ack}`;
    const { secret } = await call('POST', '/agents', { agentId });
    await call('PUT', `/agents/${agentId}/webhook`, { url: hookUrl });
    const port = await freePort();
    const relayArgs = ['relay', '--url', ws, '--agent', agentId, '--data', join(dir, agentId), '--log-level', 'warn'];
    start([...relayArgs, '--channel', `chem=astm://127.0.0.1:${port}?listen&ack=${ack}`], { EDGEPUSH_AGENT_SECRET: secret });
    const socket = await until(
      () =>
        new Promise<ReturnType<typeof connect> | undefined>((res) => {
          const s = connect({ host: '127.0.0.1', port });
          s.once('connect', () => res(s));
          s.once('error', () => res(undefined));
        }),
      'the channel',
    );
    await until(
      async () => (await call('GET', `/agents/${agentId}`, undefined).catch((): Record<string, string> => ({}))).status === 'connected',
      'the relay',
    );
    const peer = new RawPeer(socket);
    const times: number[] = [];
    for (let i = 0; i < N + 20; i++) {
      const id = `S-${ack}-${i}`;
      await peer.transmit([
        'H|\\^&|||Analyser^1||||||P|LIS2-A2',
        'P|1||MRN7',
        `O|1|${id}||^^^GLU|R`,
        'R|1|^^^GLU|5.1|mmol/L||N||F',
        'L|1|N',
      ]);
      const eot = process.hrtime.bigint();
      const at = await until(() => arrived.get(id), `result ${id} at the webhook`);
      if (i >= 20) times.push(Number(at - eot) / 1e6); // 20 warm-up transfers
    }
    socket.destroy();
    times.sort((a, b) => a - b);
    const ms = (v: number) => `${v.toFixed(2)} ms`;
    console.log(`| ack=${ack} | ${N} | ${ms(pct(times, 50))} | ${ms(pct(times, 95))} | ${ms(pct(times, 99))} |`);
  }
  hook.close();
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  for (const c of children) c.kill('SIGKILL');
  process.exit(1);
});
