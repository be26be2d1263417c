/**
 * Through the hub: `edgepush hub` and `edgepush relay` as child processes (dist/edgepush.js),
 * 8 simulated devices (startHl7Listener) in this process, pushes over keep-alive HTTP.
 *   - latency: one client, waitForResponse:true, sequential; for --sync flush and commit
 *   - throughput: 32 concurrent clients across 8 devices, for a fixed time
 *   - hub and relay peak RSS (VmHWM)
 *   - where one push's time goes: each stage measured on its own, in this process
 * Prints markdown. Bounded: about 20 s.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { WebSocket } from 'ws';
import { startHl7Listener, type Hl7Listener } from '../edge-agent/mllp/listener';
import { MllpDeviceClient } from '../edge-agent/mllp/device-client';
import { LmdbStore } from '../hub/adapters/lmdb-store';
import { WsGateway } from '../hub/gateway/ws-gateway';
import { HubAuth } from '../hub/auth';
import { loadOrCreateKeys } from '../hub/keys';
import { mintToken } from '../hub/tokens';

const CLI = resolve(__dirname, '../dist/edgepush.js');
const DEVICES = 8;
const children: ChildProcess[] = [];

function msg(i: number): string {
  return `MSH|^~\\&|BENCH|CLOUD|LAB|SITE|20240101120000||ORU^R01|B${i}|P|2.5\rPID|1||${i}^^^MRN||DOE^JANE\rOBX|1|NM|GLU||5.4|mmol/L\r`;
}

function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; waitFor(re: RegExp): Promise<RegExpMatchArray> } {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return {
    child,
    waitFor: (re) =>
      new Promise((res, rej) => {
        const t = setInterval(() => {
          const m = out.match(re);
          if (m) {
            clearInterval(t);
            res(m);
          } else if (child.exitCode !== null) {
            clearInterval(t);
            rej(new Error(`exited: ${out}`));
          }
        }, 10);
      }),
  };
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

function post(url: string, token: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const data = JSON.stringify(body);
  return new Promise((res, rej) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
      },
      (r) => {
        let text = '';
        r.setEncoding('utf8');
        r.on('data', (c: string) => (text += c));
        r.on('end', () => res({ status: r.statusCode!, json: text ? JSON.parse(text) : {} }));
      },
    );
    req.on('error', rej);
    req.end(data);
  });
}

function get(url: string): Promise<number> {
  return new Promise((res, rej) => {
    request(url, { agent }, (r) => {
      r.resume();
      r.on('end', () => res(r.statusCode!));
    })
      .on('error', rej)
      .end();
  });
}

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;
const peakRss = (pid: number): number => {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmHWM:\s+(\d+) kB/);
  return m ? Number(m[1]) / 1024 : NaN;
};

interface Setup {
  hub: ChildProcess;
  relay: ChildProcess;
  url: string;
  token: string;
  dir: string;
}

async function setup(devices: Hl7Listener[], sync: 'flush' | 'commit'): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'edgepush-bench-'));
  const hub = spawnCli(['hub', '--port', '0', '--data', dir, '--log-level', 'warn', '--sync', sync]);
  const [, url] = await hub.waitFor(/Push API:\s+(http:\/\/\S+?)\/\s/);
  const [, wsUrl] = await hub.waitFor(/Relay WebSocket:\s+(ws:\/\/\S+)/);
  const token = await mintToken(await loadOrCreateKeys(dir));
  const created = await post(`${url}/agents`, token, { agentId: 'bench' });
  const args = ['relay', '--url', wsUrl, '--agent', 'bench', '--log-level', 'warn'];
  devices.forEach((d, i) => args.push('--device', `dev${i}=mllp://127.0.0.1:${d.port}`));
  const relay = spawnCli(args, { EDGEPUSH_AGENT_SECRET: String(created.json.secret) });
  // Wait until the relay said hello (devices known), via a push that must succeed.
  for (;;) {
    const r = await post(`${url}/agents/bench/push`, token, { destination: 'dev0', body: msg(0), waitTimeout: 2000 });
    if (r.status === 200) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { hub: hub.child, relay: relay.child, url: url, token, dir };
}

async function teardown(s: Setup): Promise<void> {
  for (const c of [s.relay, s.hub]) {
    await new Promise<void>((res) => {
      if (c.exitCode !== null) return res();
      c.once('exit', () => res());
      c.kill('SIGTERM');
    });
  }
  rmSync(s.dir, { recursive: true, force: true });
}

async function latency(s: Setup, n: number): Promise<{ p50: number; p99: number; mean: number }> {
  for (let i = 0; i < 200; i++) await post(`${s.url}/agents/bench/push`, s.token, { destination: 'dev0', body: msg(i) });
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    const r = await post(`${s.url}/agents/bench/push`, s.token, { destination: `dev${i % DEVICES}`, body: msg(i) });
    times.push(ms(t0));
    if (r.status !== 200) throw new Error(`push failed: ${r.status} ${JSON.stringify(r.json)}`);
  }
  times.sort((a, b) => a - b);
  return { p50: pct(times, 50), p99: pct(times, 99), mean: times.reduce((a, b) => a + b, 0) / times.length };
}

async function throughput(s: Setup, concurrency: number, seconds: number): Promise<{ rate: number; ok: number; other: number }> {
  const end = Date.now() + seconds * 1000;
  let ok = 0;
  let other = 0;
  let i = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (Date.now() < end) {
        const r = await post(`${s.url}/agents/bench/push`, s.token, { destination: `dev${worker % DEVICES}`, body: msg(i++) });
        if (r.status === 200) ok++;
        else other++;
      }
    }),
  );
  return { rate: ok / (ms(t0) / 1000), ok, other };
}

/** Median of `n` timed runs of one stage. */
async function stage(n: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 50; i++) await fn(i);
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await fn(i);
    times.push(ms(t0));
  }
  times.sort((a, b) => a - b);
  return pct(times, 50);
}

async function breakdown(devices: Hl7Listener[], hubUrl: string): Promise<[string, number][]> {
  const dir = mkdtempSync(join(tmpdir(), 'edgepush-bench-stages-'));
  const rows: [string, number][] = [];
  try {
    rows.push(['HTTP round trip on loopback (GET /health, keep-alive)', await stage(500, () => get(`${hubUrl}/health`))]);
    const keys = await loadOrCreateKeys(dir);
    const auth = new HubAuth(keys);
    const token = await mintToken(keys);
    rows.push([
      'JWT check + scope (ES256 verify, then cached per token)',
      await stage(500, () => auth.check('POST', '/agents/a/push', `Bearer ${token}`)),
    ]);
    for (const sync of ['flush', 'commit'] as const) {
      const store = new LmdbStore({ path: join(dir, `store-${sync}`), sync });
      const { newPush } = await import('../test/support/records');
      rows.push([
        `store write, sync=${sync} (one conditional update; a push makes 3 writes)`,
        await stage(300, async () => {
          const p = newPush();
          await store.create(p);
        }),
      ]);
      await store.close();
    }
    // WebSocket hop: gateway post -> client echo -> gateway message, as hub -> relay -> hub.
    const server = createServer();
    let onReply: (() => void) | undefined;
    const gateway = new WsGateway({
      backend: {
        authorize: async () => ({ agentId: 'a' }),
        connect: async () => undefined,
        message: async () => onReply?.(),
        disconnect: async () => undefined,
      },
    });
    gateway.attach(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const ws = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`);
    ws.on('message', (d) => ws.send(d.toString()));
    await new Promise((r) => ws.once('open', r));
    await new Promise((r) => setTimeout(r, 20));
    const [connectionId] = gateway.connectionIds();
    const body = JSON.stringify({
      type: 'push',
      v: 1,
      pushId: 'x',
      destination: 'dev0',
      contentType: 'x',
      body: msg(1),
      returnAck: 'first',
      expiresAt: 0,
    });
    rows.push([
      'WebSocket round trip (gateway post -> echo -> message)',
      await stage(
        500,
        () =>
          new Promise<void>((r) => {
            onReply = r;
            void gateway.post(connectionId, body);
          }),
      ),
    ]);
    ws.terminate();
    await gateway.closeAll();
    server.close();
    const client = new MllpDeviceClient({ host: '127.0.0.1', port: devices[0].port });
    rows.push(['MLLP send + ACK to the simulated device', await stage(500, (i) => client.send(msg(i)))]);
    await client.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

async function main(): Promise<void> {
  const devices = await Promise.all(Array.from({ length: DEVICES }, () => startHl7Listener({ port: 0 })));
  const out: string[] = [];
  try {
    out.push('| figure | sync=flush (default) | sync=commit |', '| --- | --- | --- |');
    const results: Record<
      string,
      { lat: Awaited<ReturnType<typeof latency>>; tp: Awaited<ReturnType<typeof throughput>>; hubRss: number; relayRss: number }
    > = {};
    let hubUrl = '';
    for (const sync of ['flush', 'commit'] as const) {
      const s = await setup(devices, sync);
      const lat = await latency(s, 1000);
      const tp = await throughput(s, 32, 4);
      results[sync] = { lat, tp, hubRss: peakRss(s.hub.pid!), relayRss: peakRss(s.relay.pid!) };
      if (sync === 'commit') {
        hubUrl = s.url;
        out.unshift(''); // placeholder keeps order simple
        const rows = await breakdown(devices, hubUrl);
        const f = results.flush;
        const c = results.commit;
        out.splice(
          0,
          out.length,
          '| figure | sync=flush (default) | sync=commit |',
          '| --- | --- | --- |',
          `| latency p50, 1 client, waitForResponse:true | ${f.lat.p50.toFixed(2)} ms | ${c.lat.p50.toFixed(2)} ms |`,
          `| latency p99 | ${f.lat.p99.toFixed(2)} ms | ${c.lat.p99.toFixed(2)} ms |`,
          `| latency mean | ${f.lat.mean.toFixed(2)} ms | ${c.lat.mean.toFixed(2)} ms |`,
          `| throughput, 32 concurrent across ${DEVICES} devices, 4 s | ${Math.round(f.tp.rate)} pushes/s (${f.tp.other} not 200) | ${Math.round(c.tp.rate)} pushes/s (${c.tp.other} not 200) |`,
          `| hub peak RSS (VmHWM) | ${f.hubRss.toFixed(0)} MB | ${c.hubRss.toFixed(0)} MB |`,
          `| relay peak RSS (VmHWM) | ${f.relayRss.toFixed(0)} MB | ${c.relayRss.toFixed(0)} MB |`,
          '',
          "Where one push's time goes (each stage timed alone, median):",
          '',
          '| stage | median |',
          '| --- | --- |',
          ...rows.map(([name, v]) => `| ${name} | ${v.toFixed(3)} ms |`),
          `| sum of the stages above (one HTTP, one JWT, 3 store writes, one WS, one MLLP) | ${(rows[0][1] + rows[1][1] + 3 * rows[3][1] + rows[4][1] + rows[5][1]).toFixed(3)} ms (commit) |`,
          `| the rest: JSON, validation, queue, waiter wake-up, relay logic, scheduling | ${(c.lat.p50 - (rows[0][1] + rows[1][1] + 3 * rows[3][1] + rows[4][1] + rows[5][1])).toFixed(3)} ms (commit p50 minus the sum) |`,
        );
      }
      await teardown(s);
    }
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await Promise.all(devices.map((d) => d.close()));
    agent.destroy();
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  process.exit(1);
});
