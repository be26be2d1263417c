/**
 * The hub under wrk (`npm run bench -- hub-wrk`): `edgepush hub` and `edgepush relay` from
 * dist/edgepush.js as child processes, 8 simulated devices (startHl7Listener) in this process,
 * and wrk (the Debian package) as the external HTTP client, POSTing pushes with
 * waitForResponse:true (bench/hub-wrk/push.lua). Runs sequential (1 connection) and 32
 * connections, and reports p50/p99, pushes/s and answers that were not 200.
 *
 * The hub runs with --cpu-prof (its top self-time functions are printed) and a preload that
 * counts lmdb write transactions and puts per push (bench/hub-wrk/count-store-writes.mjs).
 * HUB_WRK_CLI=path runs another build of the CLI (e.g. an older one, side by side);
 * HUB_WRK_SYNC=flush|commit runs one mode only; HUB_WRK_DATA_ROOT=/dev/shm puts the hub's data
 * directory on tmpfs (fsync is free there: what is left is the CPU path).
 *
 * CPU per process over each wrk run (from /proc: the hub, the relay, this process with the 8
 * devices, and wrk itself as this process's waited-for child) shows how the 2 cores are shared.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { startHl7Listener, type Hl7Listener } from '../edge-agent/mllp/listener';
import { loadOrCreateKeys } from '../hub/keys';
import { mintToken } from '../hub/tokens';

const CLI = resolve(process.env.HUB_WRK_CLI ?? join(__dirname, '../dist/edgepush.js'));
const LUA = join(__dirname, 'hub-wrk/push.lua');
const PRELOAD = join(__dirname, 'hub-wrk/count-store-writes.mjs');
const SECONDS = Number(process.env.HUB_WRK_SECONDS ?? 5);
const DEVICES = 8;

function spawnCli(nodeArgs: string[], args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [...nodeArgs, CLI, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const waitFor = (re: RegExp) =>
    new Promise<RegExpMatchArray>((res, rej) => {
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
    });
  return { child, waitFor };
}

function post(url: string, token: string, body: unknown): Promise<{ status: number; text: string }> {
  const data = JSON.stringify(body);
  return new Promise((res, rej) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
      },
      (r) => {
        let text = '';
        r.on('data', (c: Buffer) => (text += c.toString()));
        r.on('end', () => res({ status: r.statusCode ?? 0, text }));
      },
    );
    req.on('error', rej);
    req.end(data);
  });
}

const stop = (c: ChildProcess) =>
  new Promise<void>((res) => {
    if (c.exitCode !== null) return res();
    c.once('exit', () => res());
    c.kill('SIGTERM');
  });

interface WrkResult {
  requests: number;
  non200: number;
  p50: number;
  p99: number;
  rate: number;
  errors: number;
  /** CPU milliseconds per process over the run. */
  cpu?: CpuSplit;
}

interface CpuSplit {
  hub: number;
  relay: number;
  devices: number;
  wrk: number;
  wallMs: number;
}

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** utime+stime of a live process, and cutime+cstime (its exited, waited-for children), in ms. */
function procCpu(pid: number | 'self'): { own: number; children: number } {
  // Fields after the parenthesised command name, which may itself hold spaces.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { own: (Number(f[11]) + Number(f[12])) * TICK_MS, children: (Number(f[13]) + Number(f[14])) * TICK_MS };
}

/** Runs `fn` and splits the CPU time spent meanwhile between the hub, the relay, the devices and wrk. */
async function withCpu<T extends WrkResult>(hubPid: number, relayPid: number, fn: () => Promise<T>): Promise<T> {
  const before = { hub: procCpu(hubPid).own, relay: procCpu(relayPid).own, self: procCpu('self'), at: Date.now() };
  const result = await fn();
  const self = procCpu('self');
  result.cpu = {
    hub: procCpu(hubPid).own - before.hub,
    relay: procCpu(relayPid).own - before.relay,
    devices: self.own - before.self.own,
    wrk: self.children - before.self.children,
    wallMs: Date.now() - before.at,
  };
  return result;
}

/** Asynchronous on purpose: the simulated devices live in this process and must keep answering. */
async function wrk(url: string, token: string, connections: number): Promise<WrkResult> {
  const threads = Math.min(connections, 2);
  const { stdout: out } = await promisify(execFile)(
    'wrk',
    ['-t', String(threads), '-c', String(connections), '-d', `${SECONDS}s`, '--timeout', '10s', '-s', LUA, url],
    {
      env: { ...process.env, EDGEPUSH_TOKEN: token },
    },
  );
  const m = /RESULT requests=(\d+) non200=(\d+) p50_us=(\d+) p99_us=(\d+) duration_us=(\d+) errors=(\d+)/.exec(out);
  if (!m || m[1] === '0') throw new Error(`no result from wrk: ${out}`);
  const [requests, non200, p50, p99, duration, errors] = m.slice(1).map(Number);
  return { requests, non200, p50: p50 / 1000, p99: p99 / 1000, rate: requests / (duration / 1e6), errors };
}

/** Self time per function from a .cpuprofile, top n. */
function topSelf(file: string, n: number): { fn: string; pct: number }[] {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(prof.nodes.map((x) => [x.id, x]));
  const self = new Map<string, number>();
  let all = 0;
  prof.samples.forEach((id, i) => {
    const node = byId.get(id);
    const dt = prof.timeDeltas[i] ?? 0;
    if (!node) return;
    const cf = node.callFrame;
    const where = cf.url ? `${cf.url.replace(/^.*\/(node_modules\/)?/, '')}:${cf.lineNumber + 1}` : '';
    const key = `${cf.functionName || '(anonymous)'} ${where}`.trim();
    self.set(key, (self.get(key) ?? 0) + dt);
    all += dt;
  });
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([fn, t]) => ({ fn, pct: (100 * t) / all }));
}

interface HubRun {
  sync: string;
  seq: WrkResult;
  par: WrkResult;
  writes: { transactions: number; puts: number; removes: number };
  pushes: number;
  top: { fn: string; pct: number }[];
}

async function runHub(sync: 'flush' | 'commit'): Promise<HubRun> {
  const devices: Hl7Listener[] = [];
  for (let i = 0; i < DEVICES; i++) devices.push(await startHl7Listener({ port: 0 }));
  const dir = mkdtempSync(join(process.env.HUB_WRK_DATA_ROOT ?? tmpdir(), 'edgepush-wrk-'));
  const profDir = join(dir, 'prof');
  const countsFile = join(dir, 'writes.json');
  const hub = spawnCli(
    ['--import', PRELOAD, '--cpu-prof', '--cpu-prof-dir', profDir],
    ['hub', '--port', '0', '--data', join(dir, 'data'), '--log-level', 'warn', '--sync', sync],
    { EDGEPUSH_WRITE_COUNTS: countsFile },
  );
  const [, url] = await hub.waitFor(/Push API:\s+(http:\/\/\S+?)\/\s/);
  const [, wsUrl] = await hub.waitFor(/Relay WebSocket:\s+(ws:\/\/\S+)/);
  const token = await mintToken(await loadOrCreateKeys(join(dir, 'data')));
  const created = JSON.parse((await post(`${url}/agents`, token, { agentId: 'bench' })).text) as { secret: string };
  const args = ['relay', '--url', wsUrl, '--agent', 'bench', '--log-level', 'warn'];
  devices.forEach((d, i) => args.push('--device', `dev${i}=mllp://127.0.0.1:${d.port}`));
  const relay = spawnCli([], args, { EDGEPUSH_AGENT_SECRET: created.secret });
  try {
    for (let i = 0; ; i++) {
      const r = await post(`${url}/agents/bench/push`, token, {
        destination: 'dev0',
        body: 'MSH|^~\\&|A|B|C|D|20240101||ADT^A01|W|P|2.5\r',
        waitTimeout: 2000,
      });
      if (r.status === 200) break;
      if (i > 200) throw new Error(`the relay never answered: ${r.status} ${r.text}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const pushUrl = `${url}/agents/bench/push`;
    const warm = await wrk(pushUrl, token, 1);
    const pids = [hub.child.pid ?? 0, relay.child.pid ?? 0] as const;
    const seq = await withCpu(...pids, () => wrk(pushUrl, token, 1));
    const par = await withCpu(...pids, () => wrk(pushUrl, token, 32));
    await stop(relay.child);
    await stop(hub.child);
    const writes = JSON.parse(readFileSync(countsFile, 'utf8')) as HubRun['writes'];
    // Everything the hub stored: setup (agent, relay connect, the first push) is a few dozen writes.
    const pushes = warm.requests + seq.requests + par.requests + 1;
    const prof = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
    return { sync, seq, par, writes, pushes, top: prof ? topSelf(join(profDir, prof), 10) : [] };
  } finally {
    await stop(relay.child);
    await stop(hub.child);
    for (const d of devices) await d.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  const modes = (['flush', 'commit'] as const).filter((m) => !process.env.HUB_WRK_SYNC || process.env.HUB_WRK_SYNC === m);
  const runs: HubRun[] = [];
  for (const mode of modes) runs.push(await runHub(mode));
  const out: string[] = [];
  out.push('## The hub under wrk', '');
  out.push(
    `Command: \`npm run bench -- hub-wrk\` (wrk ${SECONDS} s per run, ${cpus().length} cores, load average ${loadavg()[0].toFixed(1)} at the end), CLI ${CLI.replace(/^.*\/(dist\/)/, '$1')}, data in ${process.env.HUB_WRK_DATA_ROOT ?? tmpdir()}.`,
    '',
  );
  out.push(
    '| --sync | run | pushes | pushes/s | p50 | p99 | not 200 | socket errors | goal |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  );
  for (const r of runs) {
    out.push(
      `| ${r.sync} | 1 connection (sequential) | ${r.seq.requests} | ${r.seq.rate.toFixed(0)} | ${r.seq.p50.toFixed(2)} ms | ${r.seq.p99.toFixed(2)} ms | ${r.seq.non200} | ${r.seq.errors} | p50 <= 1.5 ms: ${r.seq.p50 <= 1.5 ? 'met' : 'not met'} |`,
    );
    out.push(
      `| ${r.sync} | 32 connections, 8 devices | ${r.par.requests} | ${r.par.rate.toFixed(0)} | ${r.par.p50.toFixed(2)} ms | ${r.par.p99.toFixed(2)} ms | ${r.par.non200} | ${r.par.errors} | >= 4,000/s: ${r.par.rate >= 4000 ? 'met' : 'not met'} |`,
    );
  }
  out.push('');
  for (const r of runs) {
    out.push(
      `Store writes, --sync ${r.sync} (${r.pushes} pushes incl. warm-up, plus setup): ${r.writes.transactions} lmdb write transactions (${(r.writes.transactions / r.pushes).toFixed(2)} per push), ${r.writes.puts} puts and ${r.writes.removes} removes (${((r.writes.puts + r.writes.removes) / r.pushes).toFixed(2)} per push).`,
    );
  }
  out.push(
    '',
    'CPU per push during each run (ms of CPU / pushes; share of the 2 cores in brackets):',
    '',
    '| --sync | run | hub | relay | devices (bench process) | wrk | all |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const r of runs) {
    for (const [name, w] of [
      ['1 connection', r.seq],
      ['32 connections', r.par],
    ] as const) {
      const c = w.cpu;
      if (!c) continue;
      const cores = cpus().length;
      const cell = (ms: number) => `${((1000 * ms) / w.requests).toFixed(0)} µs (${((100 * ms) / (c.wallMs * cores)).toFixed(0)} %)`;
      out.push(
        `| ${r.sync} | ${name} | ${cell(c.hub)} | ${cell(c.relay)} | ${cell(c.devices)} | ${cell(c.wrk)} | ${cell(c.hub + c.relay + c.devices + c.wrk)} |`,
      );
    }
  }
  for (const r of runs) {
    out.push('', `Hub CPU profile (--cpu-prof), --sync ${r.sync}, top self time:`, '', '| function | self % |', '| --- | ---: |');
    for (const t of r.top) out.push(`| \`${t.fn}\` | ${t.pct.toFixed(1)} |`);
  }
  console.log(out.join('\n'));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
