/**
 * A 5 MB ORU (base64 PDF in OBX-5) through the hub: `edgepush hub` and `edgepush relay` as
 * child processes (dist/edgepush.js), one startHl7Listener device in this process. Each push
 * goes HTTP -> hub -> ~80 chunks over the WebSocket -> relay -> one MLLP frame -> AA back,
 * waitForResponse:true, one after another. Reports per-push time and the hub's and relay's
 * peak RSS (VmHWM) against an idle baseline. Prints markdown. Bounded: about 15 s.
 *   npm run bench -- large-message
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startHl7Listener } from '../edge-agent/mllp/listener';
import { loadOrCreateKeys } from '../hub/keys';
import { mintToken } from '../hub/tokens';

const CLI = resolve(__dirname, '../dist/edgepush.js');
const PUSHES = 10;
const children: ChildProcess[] = [];
const agent = new Agent({ keepAlive: true });

function oru(i: number, pdfBytes: number): string {
  const pdf = Buffer.alloc(pdfBytes, i);
  return `MSH|^~\\&|LIS|LAB|EMR|HOSP|20260101120000||ORU^R01|L${i}|P|2.5\rPID|1||P1\rOBX|1|ED|PDF^Report||^AP^PDF^Base64^${pdf.toString('base64')}\r`;
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
        r.on('end', () => res({ status: r.statusCode ?? 0, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} }));
      },
    );
    req.on('error', rej);
    req.end(data);
  });
}

const rss = (pid: number, field: 'VmHWM' | 'VmRSS'): number => {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`${field}:\\s+(\\d+) kB`));
  return m ? Number(m[1]) / 1024 : NaN;
};
const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function main(): Promise<void> {
  const device = await startHl7Listener({ port: 0, maxFrameBytes: 16 * 1024 * 1024 });
  const dir = mkdtempSync(join(tmpdir(), 'edgepush-bench-'));
  try {
    const hub = spawnCli(['hub', '--port', '0', '--data', dir, '--log-level', 'warn']);
    const [, url] = await hub.waitFor(/Push API:\s+(http:\/\/\S+?)\/\s/);
    const [, wsUrl] = await hub.waitFor(/Relay WebSocket:\s+(ws:\/\/\S+)/);
    const token = await mintToken(await loadOrCreateKeys(dir));
    const created = await post(`${url}/agents`, token, { agentId: 'bench' });
    const relay = spawnCli(
      ['relay', '--url', wsUrl, '--agent', 'bench', '--log-level', 'warn', '--device', `lab=mllp://127.0.0.1:${device.port}`],
      {
        EDGEPUSH_AGENT_SECRET: String(created.json.secret),
      },
    );
    for (;;) {
      const r = await post(`${url}/agents/bench/push`, token, { destination: 'lab', body: oru(0, 100), waitTimeout: 2000 });
      if (r.status === 200) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const hubPid = hub.child.pid ?? 0;
    const relayPid = relay.child.pid ?? 0;
    const baseline = { hub: rss(hubPid, 'VmRSS'), relay: rss(relayPid, 'VmRSS') };
    const body = oru(1, 3_900_000);
    const bytes = Buffer.byteLength(body);
    const times: number[] = [];
    for (let i = 0; i < PUSHES; i++) {
      const t0 = process.hrtime.bigint();
      const r = await post(`${url}/agents/bench/push`, token, {
        destination: 'lab',
        body: body.replace('|L1|', `|L1-${i}|`),
        waitTimeout: 20_000,
      });
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (r.status !== 200 || r.json.status !== 'acked') throw new Error(`push ${i}: ${r.status} ${String(r.json.status)}`);
    }
    const sorted = [...times].sort((a, b) => a - b);
    const mb = bytes / 1024 / 1024;
    console.log(`\n${PUSHES} pushes of a ${mb.toFixed(2)} MiB ORU (base64 PDF), sequential, waitForResponse, node ${process.version}\n`);
    console.log('| measure | value |');
    console.log('| --- | --- |');
    console.log(`| time per push, p50 | ${pct(sorted, 50).toFixed(0)} ms |`);
    console.log(`| time per push, max | ${sorted[sorted.length - 1].toFixed(0)} ms |`);
    console.log(`| throughput | ${((mb * PUSHES) / (times.reduce((a, b) => a + b, 0) / 1000)).toFixed(1)} MiB/s |`);
    console.log(`| hub RSS idle -> peak (VmHWM) | ${baseline.hub.toFixed(0)} -> ${rss(hubPid, 'VmHWM').toFixed(0)} MB |`);
    console.log(`| relay RSS idle -> peak (VmHWM) | ${baseline.relay.toFixed(0)} -> ${rss(relayPid, 'VmHWM').toFixed(0)} MB |`);
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await device.close();
    agent.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((err: unknown) => {
  console.error(err);
  for (const c of children) c.kill('SIGKILL');
  process.exit(1);
});
