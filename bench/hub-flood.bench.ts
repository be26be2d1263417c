/**
 * The hub under hostile load (issue 9 #3 and #4), `edgepush hub` and `edgepush relay` as child
 * processes (dist/edgepush.js), one simulated device in this process:
 *   - hub memory (VmRSS sampled every 20 ms) while one authenticated connection sends 300,000
 *     heartbeats (about 9 MB) as fast as it can;
 *   - push latency (waitForResponse:true, sequential) at rest, then while 1,000 bogus relay
 *     upgrade attempts (unknown agents, wrong secrets) run, 100 at a time, from this process.
 * Prints markdown. Bounded: about 30 s.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { WebSocket } from 'ws';
import { startHl7Listener } from '../edge-agent/mllp/listener';
import { loadOrCreateKeys } from '../hub/keys';
import { mintToken } from '../hub/tokens';

const CLI = resolve(__dirname, '../dist/edgepush.js');
const BOGUS = 1000;
const BOGUS_CONCURRENCY = 100;
const HEARTBEATS = 300_000;
const children: ChildProcess[] = [];
const agent = new Agent({ keepAlive: true, maxSockets: 8 });

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
        r.on('end', () => res({ status: r.statusCode!, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} }));
      },
    );
    req.on('error', rej);
    req.end(data);
  });
}

const msg = (i: number) => `MSH|^~\\&|BENCH|CLOUD|LAB|SITE|20240101120000||ORU^R01|F${i}|P|2.5\rPID|1||${i}^^^MRN||DOE^JANE\r`;
const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const procMb = (pid: number, field: 'VmRSS'): number => {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`${field}:\\s+(\\d+) kB`));
  return m ? Number(m[1]) / 1024 : NaN;
};

async function pushLatencies(
  url: string,
  token: string,
  n: number,
  from: number,
  keepGoing: () => boolean = () => true,
): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n && keepGoing(); i++) {
    const t0 = process.hrtime.bigint();
    const r = await post(`${url}/agents/bench/push`, token, { destination: 'dev', body: msg(from + i) });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (r.status !== 200) throw new Error(`push failed: ${r.status} ${JSON.stringify(r.json)}`);
  }
  return times.sort((a, b) => a - b);
}

/**
 * The flood runs in its own process, so its 1,000 handshakes do not slow this process's
 * push timing. One bogus upgrade: half name unknown agents, half the real agent id with a
 * wrong secret. Prints {status: count} as JSON at the end.
 */
const FLOOD_SCRIPT = `
const { WebSocket } = require('ws');
const [wsUrl, total, concurrency] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
const counts = {};
let launched = 0;
const one = (i) => new Promise((res) => {
  const ws = new WebSocket(wsUrl, { headers: { 'x-edgepush-agent-id': i % 2 ? 'nobody-' + i : 'bench', 'x-edgepush-agent-secret': 'wrong-' + i } });
  ws.once('unexpected-response', (_q, r) => { r.resume(); ws.terminate(); res(r.statusCode); });
  ws.once('open', () => { ws.terminate(); res(101); });
  ws.once('error', () => res('socket error'));
});
Promise.all(Array.from({ length: concurrency }, async () => {
  while (launched < total) { const s = await one(launched++); counts[s] = (counts[s] || 0) + 1; }
})).then(() => console.log(JSON.stringify(counts)));
`;

function runFlood(wsUrl: string): Promise<Record<string, number>> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, ['-e', FLOOD_SCRIPT, wsUrl, String(BOGUS), String(BOGUS_CONCURRENCY)], {
      cwd: resolve(__dirname, '..'),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => (code === 0 ? res(JSON.parse(out) as Record<string, number>) : rej(new Error(`flood exited ${code}`))));
  });
}

async function main(): Promise<void> {
  const device = await startHl7Listener({ port: 0 });
  const dir = mkdtempSync(join(tmpdir(), 'edgepush-bench-flood-'));
  try {
    const hub = spawnCli(['hub', '--port', '0', '--data', dir, '--log-level', 'warn']);
    const [, url] = await hub.waitFor(/Push API:\s+(http:\/\/\S+?)\/\s/);
    const [, wsUrl] = await hub.waitFor(/Relay WebSocket:\s+(ws:\/\/\S+)/);
    const token = await mintToken(await loadOrCreateKeys(dir));
    const created = await post(`${url}/agents`, token, { agentId: 'bench' });
    const flooder = await post(`${url}/agents`, token, { agentId: 'flooder' });
    spawnCli(['relay', '--url', wsUrl, '--agent', 'bench', '--log-level', 'warn', '--device', `dev=mllp://127.0.0.1:${device.port}`], {
      EDGEPUSH_AGENT_SECRET: String(created.json.secret),
    });
    for (;;) {
      const r = await post(`${url}/agents/bench/push`, token, { destination: 'dev', body: msg(0), waitTimeout: 2000 });
      if (r.status === 200) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const hubPid = hub.child.pid!;
    // The heartbeat flooder connects first: after the upgrade flood its address is rate-limited.
    const ws = new WebSocket(wsUrl, {
      headers: { 'x-edgepush-agent-id': 'flooder', 'x-edgepush-agent-secret': String(flooder.json.secret) },
    });
    await new Promise((r, j) => {
      ws.once('open', r);
      ws.once('error', j);
    });
    let acks = 0;
    ws.on('message', () => acks++);

    // ---- heartbeat flood: hub memory ----
    const rssBefore = procMb(hubPid, 'VmRSS');
    acks = 0;
    let peakRss = rssBefore;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, procMb(hubPid, 'VmRSS'))), 20);
    const hb = JSON.stringify({ action: 'heartbeat', v: 1 });
    const f0 = Date.now();
    for (let i = 0; i < HEARTBEATS; i++) ws.send(hb);
    const deadline = Date.now() + 60_000;
    while (acks < HEARTBEATS && ws.readyState === WebSocket.OPEN && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const floodSeconds = (Date.now() - f0) / 1000;
    clearInterval(sampler);
    const probe = await pushLatencies(url, token, 20, 50_000);
    console.log('## Hub memory under a heartbeat flood\n');
    console.log(
      `One authenticated connection sends ${HEARTBEATS.toLocaleString('en')} heartbeats (${((hb.length * HEARTBEATS) / 1e6).toFixed(1)} MB) at once; ` +
        `the hub answered ${acks.toLocaleString('en')} in ${floodSeconds.toFixed(1)} s.\n`,
    );
    console.log('| hub RSS before | hub RSS peak during the flood | push p50 right after |');
    console.log('| ---: | ---: | ---: |');
    console.log(`| ${rssBefore.toFixed(0)} MB | ${peakRss.toFixed(0)} MB | ${pct(probe, 50).toFixed(1)} ms |`);
    // ---- push latency at rest, then during the upgrade flood ----
    await pushLatencies(url, token, 50, 1); // warm-up
    const rest = await pushLatencies(url, token, 200, 100);
    let flooding = true;
    const t0 = Date.now();
    const flood = runFlood(wsUrl).finally(() => (flooding = false));
    const during = await pushLatencies(url, token, 10_000, 1000, () => flooding);
    const statuses = await flood;
    const floodMs = Date.now() - t0;

    console.log('## Push latency while 1,000 bogus relay upgrades run\n');
    console.log(
      `${BOGUS} upgrade attempts with wrong credentials, ${BOGUS_CONCURRENCY} at a time from another process, for ${floodMs} ms; pushes sequential.\n`,
    );
    console.log('| | pushes | p50 ms | p95 ms | max ms |');
    console.log('| --- | ---: | ---: | ---: | ---: |');
    for (const [name, t] of [
      ['at rest', rest],
      ['during the flood', during],
    ] as const) {
      console.log(`| ${name} | ${t.length} | ${pct(t, 50).toFixed(1)} | ${pct(t, 95).toFixed(1)} | ${t[t.length - 1].toFixed(1)} |`);
    }
    const answered = Object.entries(statuses).map(([s, n]) => `${s}: ${n}`);
    console.log(`\nUpgrade answers: ${answered.join(', ')}.\n`);

    ws.terminate();
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await device.close();
    agent.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  for (const c of children) c.kill('SIGKILL');
  process.exit(1);
});
