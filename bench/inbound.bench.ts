/**
 * Inbound through a fast channel (`npm run bench -- inbound`). Prints markdown.
 *
 * The shipped bundle runs as its own process (`node dist/edgepush.js relay --channel
 * lab=mllp://127.0.0.1:P`, the spool's fsync on, in a temp dir on this machine's disk) with the
 * cloud down, so every message only goes to the spool. One MLLP client in this process sends
 * sequentially (send, wait for the ACK, send): msg/s is what one device gets. The relay's RSS
 * (VmRSS) is read with INBOUND_BENCH_SPOOLED messages (default 100,000) spooled; then the cloud
 * (the test fake) comes up and the drain is timed.
 *   INBOUND_BENCH_MESSAGES: messages in the timed run (default 20,000).
 *   INBOUND_BENCH_FSYNC=0: spool without fsync (diagnostic: the disk's share of the time).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MllpDeviceClient } from '../edge-agent/mllp/device-client';
import { FakeCloud } from '../test/relay/fake-cloud';
import { adt } from '../test/relay/helpers';

const ROOT = join(__dirname, '..');
const TIMED = Number(process.env.INBOUND_BENCH_MESSAGES ?? 20_000);
const SPOOLED = Number(process.env.INBOUND_BENCH_SPOOLED ?? 100_000);
const MB = 1024 * 1024;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error('no VmRSS');
  return Number(m[1]) * 1024;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function writeConfig(dir: string): string {
  const file = join(dir, 'relay.json');
  writeFileSync(file, JSON.stringify({ spool: { fsync: false } }));
  return file;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'edgepush-inbound-bench-'));
  const port = await freePort();
  const cloudPort = await freePort();
  const relay = spawn(
    process.execPath,
    [
      join(ROOT, 'dist/edgepush.js'),
      'relay',
      '--url',
      `ws://127.0.0.1:${cloudPort}/ws`,
      '--agent',
      'agent-1',
      '--channel',
      `lab=mllp://127.0.0.1:${port}`,
      '--data',
      dir,
      '--log-level',
      'error',
      ...(process.env.INBOUND_BENCH_FSYNC === '0' ? ['--config', writeConfig(dir)] : []),
    ],
    { env: { ...process.env, EDGEPUSH_AGENT_SECRET: 's3cret' }, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const client = new MllpDeviceClient({ host: '127.0.0.1', port, connectTimeoutMs: 1_000 });
  let cloud: FakeCloud | undefined;
  try {
    for (let i = 0; ; i++) {
      try {
        await client.send(adt(`WARM-${i}`));
        break;
      } catch {
        await sleep(100);
      }
    }
    for (let i = 0; i < 1_000; i++) await client.send(adt(`WARM2-${i}`)); // JIT warm-up
    const size = Buffer.byteLength(adt('B-000000'));
    let sent = 1_001;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < TIMED; i++) {
      const r = await client.send(adt(`B-${i}`));
      if (r.ackCode !== 'AA') throw new Error(`got ${r.ackCode}`);
    }
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    sent += TIMED;
    while (sent < SPOOLED) {
      await client.send(adt(`S-${sent}`));
      sent++;
    }
    await sleep(2_000);
    const rssSpooled = rssBytes(relay.pid!);
    const spoolBytes = Number(execFileSync('du', ['-sb', join(dir, 'spool')], { encoding: 'utf8' }).split('\t')[0]);

    cloud = await FakeCloud.start({ port: cloudPort });
    const c = cloud;
    const d0 = Date.now();
    await c.waitFor(() => c.stored.length >= sent, 600_000, 'the drain');
    const drainSeconds = (Date.now() - d0) / 1000;
    const inOrder = c.inbound().every((m, i, all) => i === 0 || m.receivedAt >= all[i - 1].receivedAt);
    const rssDrained = rssBytes(relay.pid!);

    const rate = Math.round(TIMED / seconds);
    console.log(
      [
        `| inbound, one MLLP client sending sequentially to a fast channel (fsync ${process.env.INBOUND_BENCH_FSYNC === '0' ? '**off**' : 'on'}) | figure | goal |`,
        '| --- | ---: | :---: |',
        `| throughput, ${TIMED.toLocaleString('en')} ADT^A01 of ${size} bytes, send -> AA -> send | ${rate.toLocaleString('en')} msg/s (${((seconds / TIMED) * 1e6).toFixed(0)} µs each) | ≥ 2,000: ${rate >= 2000 ? 'yes' : '**no**'} |`,
        `| relay RSS with ${sent.toLocaleString('en')} messages spooled (cloud down; spool ${(spoolBytes / MB).toFixed(0)} MB on disk) | ${(rssSpooled / MB).toFixed(1)} MB | |`,
        `| drain when the cloud (test fake, loopback) comes up: ${c.stored.length.toLocaleString('en')} messages, in order: ${inOrder ? 'yes' : '**no**'} | ${drainSeconds.toFixed(1)} s (${Math.round(c.stored.length / drainSeconds).toLocaleString('en')} msg/s) | |`,
        `| relay RSS after the drain | ${(rssDrained / MB).toFixed(1)} MB | |`,
      ].join('\n'),
    );
  } finally {
    await client.close();
    relay.kill('SIGTERM');
    await new Promise((r) => relay.once('exit', r));
    await cloud?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
