/**
 * ASTM orders per second to one simulated analyser, and results per second from one
 * (`npm run bench -- astm`). Prints markdown.
 *
 * The analyser is the shipped CLI (`node dist/edgepush.js astm listen`) in its own process. The
 * sender is the relay's link code, bundled with esbuild as the CLI is, sending one order message
 * at a time (send, wait for the last frame's ACK and EOT, send the next), as a relay does for one
 * device. Over TCP on loopback, and over a socat pseudo-terminal pair opened at 9600 baud.
 *
 * A Linux pty does not pace bytes at its baud rate, so the pty figure is the protocol's own cost
 * over a serial driver; the table also gives what a real 9600-baud line (8N1: 960 bytes/s) allows
 * for the same bytes, counted on the wire.
 *
 * Results (inbound): the receiver is the relay's code, bundled the same way: a listening ASTM
 * channel (createAstmChannel) for TCP, an ASTM device with a sink on the pty. The analyser is the
 * test suite's byte-level peer (test/astm/raw-peer.ts) in this process, sending one result
 * transfer at a time (ENQ, one frame per record, EOT; its next ENQ waits for our ACK, which waits
 * for the sink). Sinks: in memory, and an append + fsync per message to a file, the cost the
 * relay's `fast` spool puts on the path.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { buildSync } from 'esbuild';
import type { InboundSink, InboundSubmission } from '../edge-agent/relay/inbound-sink';
import { RawPeer } from '../test/astm/raw-peer';

const ROOT = join(__dirname, '..');
const CLI = join(ROOT, 'dist/edgepush.js');
const ORDERS = Number(process.env.ASTM_BENCH_ORDERS ?? 2_000);
const WARMUP = 200;
const RESULTS = Number(process.env.ASTM_BENCH_RESULTS ?? 2_000);

const RESULT = [
  'H|\\^&|||Analyser^1||||||P|LIS2-A2|20260301101500',
  'P|1||MRN7',
  'O|1|S-42||^^^GLU\\^^^NA\\^^^K|R||||||||||||||||||F',
  'R|1|^^^GLU|5.1|mmol/L|3.9^6.1|N||F||||20260301101400',
  'R|2|^^^NA|140|mmol/L|135^145|N||F||||20260301101400',
  'R|3|^^^K|4.2|mmol/L|3.5^5.1|N||F||||20260301101400',
  'L|1|N',
];

const ORDER = [
  'H|\\^&|||LIS^1||||||P|LIS2-A2',
  'P|1|MRN7||||Doe^Jane||19800101|F',
  'O|1|S-42||^^^GLU\\^^^NA\\^^^K|R||20260301100000||||N||||||||||||||O',
  'L|1|N',
]
  .map((r) => r + '\r')
  .join('');

type LinkStreamModule = typeof import('../edge-agent/astm/link-stream');

/** Bundled next to the CLI bundle so its npm imports resolve from the repository's node_modules. */
function bundledLinkStream(): LinkStreamModule {
  const outfile = join(ROOT, 'dist/bench/astm-link-stream.js');
  buildSync({
    entryPoints: [join(ROOT, 'edge-agent/astm/link-stream.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    packages: 'external',
    minify: true,
  });

  return require(outfile) as LinkStreamModule;
}

async function startListen(args: string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [CLI, 'astm', 'listen', ...args, '--quiet'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      const m = /Listening for ASTM on (?:127\.0\.0\.1:(\d+)|\S+)/.exec(out);
      if (m) resolve(Number(m[1] ?? 0));
    });
    child.once('exit', (code) => reject(new Error(`astm listen exited ${code}`)));
  });
  return { child, port };
}

/** Sends ORDERS messages one at a time; returns orders/s and the bytes both ways per order. */
async function run(mod: LinkStreamModule, stream: Duplex): Promise<{ perSecond: number; bytesPerOrder: number }> {
  let wire = 0;
  stream.on('data', (d: Buffer) => (wire += d.length));
  const origWrite = stream.write.bind(stream) as (chunk: Buffer) => boolean;
  (stream as { write: (chunk: Buffer) => boolean }).write = (chunk: Buffer) => {
    wire += chunk.length;
    return origWrite(chunk);
  };
  const link = mod.attachLink(stream, { role: 'computer', onMessage: () => undefined });
  for (let i = 0; i < WARMUP; i++) await link.send(ORDER);
  wire = 0;
  const started = process.hrtime.bigint();
  for (let i = 0; i < ORDERS; i++) await link.send(ORDER);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  link.close();
  return { perSecond: ORDERS / seconds, bytesPerOrder: wire / ORDERS };
}

type ReceiveModule = typeof import('../edge-agent/astm/astm-channel') & typeof import('../edge-agent/astm/astm-device');

function bundledReceiver(): ReceiveModule {
  const outfile = join(ROOT, 'dist/bench/astm-receive.js');
  buildSync({
    stdin: {
      contents: "export * from './edge-agent/astm/astm-channel'; export * from './edge-agent/astm/astm-device';",
      resolveDir: ROOT,
      loader: 'ts',
    },
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    packages: 'external',
    minify: true,
  });
  return require(outfile) as ReceiveModule;
}

/** Counts what it took; with a file, appends each body and fsyncs before answering. */
function countingSink(file?: string): InboundSink & { count: number; close(): void } {
  const fd = file === undefined ? undefined : openSync(file, 'a');
  const sink = {
    count: 0,
    submit(m: InboundSubmission) {
      if (fd !== undefined) {
        writeSync(fd, JSON.stringify(m) + '\n');
        fsyncSync(fd);
      }
      sink.count++;
      return Promise.resolve({ outcome: 'accepted' as const });
    },
    close: () => fd !== undefined && closeSync(fd),
  };
  return sink;
}

/** Transfers RESULTS result messages one at a time from the raw peer; results/s and wire bytes per result. */
async function receive(stream: Duplex, sink: { count: number }): Promise<{ perSecond: number; bytesPerResult: number }> {
  let wire = 0;
  stream.on('data', (d: Buffer) => (wire += d.length));
  const origWrite = stream.write.bind(stream) as (chunk: Buffer) => boolean;
  (stream as { write: (chunk: Buffer) => boolean }).write = (chunk: Buffer) => {
    wire += chunk.length;
    return origWrite(chunk);
  };
  const peer = new RawPeer(stream);
  for (let i = 0; i < WARMUP; i++) await peer.transmit(RESULT);
  const base = sink.count;
  wire = 0;
  const started = process.hrtime.bigint();
  for (let i = 0; i < RESULTS; i++) await peer.transmit(RESULT);
  // The last transfer counts once the sink has it.
  while (sink.count < base + RESULTS) await new Promise((r) => setImmediate(r));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { perSecond: RESULTS / seconds, bytesPerResult: wire / RESULTS };
}

async function results(dir: string): Promise<string[]> {
  const mod = bundledReceiver();
  const rows: string[] = [];
  const settings = { name: 'chem', protocol: 'astm' as const, ack: 'fast' as const };
  for (const [label, file] of [
    ['in memory', undefined],
    ['append + fsync', join(dir, 'spool.jsonl')],
  ] as const) {
    const sink = countingSink(file);
    const channel = mod.createAstmChannel(settings, sink, { endpoint: 'astm://127.0.0.1:0?listen' });
    await channel.start();
    const socket = connect({ host: '127.0.0.1', port: channel.port });
    await new Promise((r) => socket.once('connect', r));
    socket.setNoDelay(true);
    const r = await receive(socket, sink);
    socket.destroy();
    await channel.stop();
    sink.close();
    rows.push(`| TCP, loopback, listening channel | ${label} | ${r.perSecond.toFixed(0)} | ${r.bytesPerResult.toFixed(0)} | n/a |`);
  }

  const a = join(dir, 'ttyC');
  const b = join(dir, 'ttyD');
  const socat = spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' });
  while (!existsSync(a) || !existsSync(b)) await new Promise((r) => setTimeout(r, 20));
  const sink = countingSink();
  const device = new mod.AstmDevice({
    endpoint: { kind: 'serial', path: a, baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1, encoding: 'latin1' },
    connectTimeoutMs: 5_000,
    inbound: { channel: 'chem', sink },
  });
  device.start();
  while (!device.linkUp) await new Promise((r) => setTimeout(r, 20));
  const { SerialPort } = require('serialport') as typeof import('serialport');
  const port = new SerialPort({ path: b, baudRate: 9600 });
  await new Promise((r) => port.once('open', r));
  const r = await receive(port, sink);
  await new Promise<void>((done) => port.close(() => done()));
  await device.close();
  socat.kill();
  rows.push(
    `| serial, socat pty at 9600, device with a sink | in memory | ${r.perSecond.toFixed(0)} | ${r.bytesPerResult.toFixed(0)} | ${(960 / r.bytesPerResult).toFixed(1)} |`,
  );
  return rows;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'edgepush-astm-bench-'));
  const rows: string[] = [];
  const resultRows: string[] = [];
  try {
    const mod = bundledLinkStream();

    const tcp = await startListen(['0']);
    const socket = connect({ host: '127.0.0.1', port: tcp.port });
    await new Promise((r) => socket.once('connect', r));
    socket.setNoDelay(true);
    const overTcp = await run(mod, socket);
    tcp.child.kill();
    rows.push(`| TCP, loopback | ${overTcp.perSecond.toFixed(0)} | ${overTcp.bytesPerOrder.toFixed(0)} | n/a |`);

    if (spawnSync('socat', ['-V']).error) throw new Error('socat is not installed (apt-get install socat)');
    const a = join(dir, 'ttyA');
    const b = join(dir, 'ttyB');
    const socat = spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' });
    while (!existsSync(a) || !existsSync(b)) await new Promise((r) => setTimeout(r, 20));
    const pty = await startListen(['--serial', `${a}?baud=9600`]);

    const { SerialPort } = require('serialport') as typeof import('serialport');
    const port = new SerialPort({ path: b, baudRate: 9600 });
    await new Promise((r) => port.once('open', r));
    const overPty = await run(mod, port);
    const lineRate = 960 / overPty.bytesPerOrder;
    rows.push(
      `| serial, socat pty at 9600 | ${overPty.perSecond.toFixed(0)} | ${overPty.bytesPerOrder.toFixed(0)} | ${lineRate.toFixed(1)} |`,
    );
    await new Promise<void>((r) => port.close(() => r()));
    pty.child.kill();
    socat.kill();
    resultRows.push(...(await results(dir)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(
    [
      `ASTM order messages (4 records, ${Buffer.byteLength(ORDER)} bytes of text), one at a time, ${ORDERS} after ${WARMUP} warm-up:`,
      '',
      '| link | orders/s | bytes on the wire per order (both ways) | a real 9600-baud 8N1 line allows, orders/s |',
      '| --- | --- | --- | --- |',
      ...rows,
      '',
      `ASTM result messages (${RESULT.length} records, ${Buffer.byteLength(RESULT.join('\r') + '\r')} bytes of text) from a raw analyser, one transfer at a time, ${RESULTS} after ${WARMUP} warm-up:`,
      '',
      '| link | sink | results/s | bytes on the wire per result (both ways) | a real 9600-baud 8N1 line allows, results/s |',
      '| --- | --- | --- | --- | --- |',
      ...resultRows,
      '',
    ].join('\n'),
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack}\n`);
    process.exit(1);
  },
);
