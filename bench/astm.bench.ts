/**
 * ASTM orders per second to one simulated analyser (`npm run bench -- astm`). Prints markdown.
 *
 * The analyser is the shipped CLI (`node dist/edgepush.js astm listen`) in its own process. The
 * sender is the relay's link code, bundled with esbuild as the CLI is, sending one order message
 * at a time (send, wait for the last frame's ACK and EOT, send the next), as a relay does for one
 * device. Over TCP on loopback, and over a socat pseudo-terminal pair opened at 9600 baud.
 *
 * A Linux pty does not pace bytes at its baud rate, so the pty figure is the protocol's own cost
 * over a serial driver; the table also gives what a real 9600-baud line (8N1: 960 bytes/s) allows
 * for the same bytes, counted on the wire.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { buildSync } from 'esbuild';

const ROOT = join(__dirname, '..');
const CLI = join(ROOT, 'dist/edgepush.js');
const ORDERS = Number(process.env.ASTM_BENCH_ORDERS ?? 2_000);
const WARMUP = 200;

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

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'edgepush-astm-bench-'));
  const rows: string[] = [];
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
