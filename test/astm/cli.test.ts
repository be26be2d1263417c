/**
 * `edgepush astm send|listen` as a user runs them: real child processes, real TCP sockets and a
 * real serial line (a socat pseudo-terminal pair), against a peer written byte by byte in the test.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { simulatedValue } from '../../edge-agent/astm/analyser-simulator';
import { createAstmChannel } from '../../edge-agent/astm/astm-channel';
import { RecordingSink } from '../support/recording-sink';
import { RawPeer, type PeerMode } from './raw-peer';

const CLI = join(__dirname, '../../dist/edgepush.js');
const tmp = mkdtempSync(join(tmpdir(), 'edgepush-astm-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const ORDER = ['H|\\^&|||LIS^1||||||P|LIS2-A2', 'P|1|MRN7||||Doe^Jane', 'O|1|S-42||^^^GLU\\^^^NA|R', 'L|1|N'];

function orderFile(): string {
  const file = join(tmp, `order-${Math.random().toString(36).slice(2)}.astm`);
  writeFileSync(file, ORDER.join('\n') + '\n');
  return file;
}

function run(args: string[], timeoutMs = 20_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function rawAnalyser(mode: PeerMode = 'ack'): Promise<{ port: number; peer: () => RawPeer | undefined }> {
  let peer: RawPeer | undefined;
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => {
    sockets.push(socket);
    peer = new RawPeer(socket, mode);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => (sockets.forEach((s) => s.destroy()), server.close(() => resolve()))));
  return { port: (server.address() as { port: number }).port, peer: () => peer };
}

interface Listening {
  child: ChildProcess;
  out: () => string;
  port: number;
}

async function listen(args: string[]): Promise<Listening> {
  const child = spawn(process.execPath, [CLI, 'astm', 'listen', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      const m = /Listening for ASTM on (?:127\.0\.0\.1:(\d+)|\S+)/.exec(out);
      if (m) resolve(Number(m[1] ?? 0));
    });
    void exited.then((code) => reject(new Error(`astm listen exited with ${code}: ${err}`)));
  });
  return { child, out: () => out, port };
}

async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('edgepush astm send (TCP)', () => {
  it('delivers a message frame by frame and exits 0 once EOT is sent', async () => {
    const analyser = await rawAnalyser();
    const res = await run(['astm', 'send', '127.0.0.1', String(analyser.port), '--file', orderFile()]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/acked: 4 records/);
    const peer = analyser.peer()!;
    await peer.until(() => peer.messages.length === 1);
    expect(peer.messages[0]).toBe(ORDER.map((r) => r + '\r').join(''));
    expect(peer.frames.map((f) => [f.fn, f.checksumOk, f.final])).toEqual([
      [1, true, true],
      [2, true, true],
      [3, true, true],
      [4, true, true],
    ]);
    const wire = Buffer.concat(peer.seen);
    expect(wire[0]).toBe(0x05); // ENQ first
    expect(wire[wire.length - 1]).toBe(0x04); // EOT last
  });

  it('gets through garbage the analyser writes before its ACK', async () => {
    const analyser = await rawAnalyser('garbage-then-ack');
    const res = await run(['astm', 'send', '127.0.0.1', String(analyser.port), '--file', orderFile()]);
    expect(res.code).toBe(0);
  });

  it('exits 1 with TIMEOUT when the analyser never answers ENQ', async () => {
    const analyser = await rawAnalyser('silent');
    const res = await run(['astm', 'send', '127.0.0.1', String(analyser.port), '--file', orderFile(), '--timeout', '1s']);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/TIMEOUT: no reply to ENQ/);
  });

  it('exits 1 with NAK_LIMIT after six refusals of one frame, ending with EOT', async () => {
    const analyser = await rawAnalyser('nak-frames');
    const res = await run(['astm', 'send', '127.0.0.1', String(analyser.port), '--file', orderFile()]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/NAK_LIMIT/);
    const peer = analyser.peer()!;
    expect(peer.frames.map((f) => f.fn)).toEqual([1, 1, 1, 1, 1, 1]);
    await peer.until(() => Buffer.concat(peer.seen).at(-1) === 0x04);
  });

  it('exits 1 with LINK_DOWN when the analyser drops the line mid-message', async () => {
    const analyser = await rawAnalyser('drop-after-first-frame');
    const res = await run(['astm', 'send', '127.0.0.1', String(analyser.port), '--file', orderFile()]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/LINK_DOWN/);
  });

  it('exits 2 on usage errors, naming what to fix', async () => {
    const file = orderFile();
    expect(await run(['astm', 'send', '--file', file])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/<host> <port>, or --serial/),
    });
    expect(await run(['astm', 'send', 'localhost', '99999', '--file', file])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/port must be/),
    });
    expect(await run(['astm', 'send', 'localhost', '1', '--file', join(tmp, 'missing')])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/ENOENT/),
    });
    expect(await run(['astm', 'send', 'localhost', '1', '--file', file, '--timeout', 'soon'])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--timeout must be a duration/),
    });
    writeFileSync(join(tmp, 'bad.astm'), 'P|1\nL|1\n');
    expect(await run(['astm', 'send', 'localhost', '1', '--file', join(tmp, 'bad.astm')])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/starting with an H record/),
    });
  });
});

describe('edgepush astm send --as-analyser to a relay channel (TCP)', () => {
  it('delivers a result message to a listening ASTM channel, which hands it to the sink', async () => {
    const sink = new RecordingSink();
    const channel = createAstmChannel({ name: 'chem', protocol: 'astm', ack: 'fast' }, sink, { endpoint: 'astm://127.0.0.1:0?listen' });
    await channel.start();
    cleanups.push(() => channel.stop());
    const results = ['H|\\^&|||Analyser^1||||||P|LIS2-A2', 'P|1||MRN7', 'O|1|S-42||^^^GLU|R', 'R|1|^^^GLU|5.1|mmol/L||N||F', 'L|1|N'];
    const file = join(tmp, 'results.astm');
    writeFileSync(file, results.join('\r\n') + '\r\n');
    const res = await run(['astm', 'send', '127.0.0.1', String(channel.port), '--file', file, '--as-analyser']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/acked: 5 records/);
    await sink.until(() => sink.accepted.length === 1, 'the result in the sink');
    expect(sink.accepted.map((m) => [m.channel, m.contentType, m.body])).toStrictEqual([
      ['chem', 'application/astm', results.map((r) => r + '\r').join('')],
    ]);
  });
});

describe('edgepush astm listen (TCP)', () => {
  it('prints what an analyser-side client sends, and answers an order with results', async () => {
    const sim = await listen(['0', '--reply-results']);
    const socket = connect({ host: '127.0.0.1', port: sim.port });
    cleanups.push(() => void socket.destroy());
    await new Promise((r) => socket.once('connect', r));
    const peer = new RawPeer(socket);
    socket.write(Buffer.from('noise\x15\x06', 'latin1')); // garbage in neutral is ignored
    await peer.transmit(ORDER);
    await until(() => sim.out().includes('L|1|N'), 'the printed message');
    expect(sim.out()).toContain(ORDER.join('\n'));
    // The simulator bids and sends a result message for specimen S-42.
    await peer.until(() => peer.messages.length === 1);
    const records = peer.messages[0].split('\r').filter(Boolean);
    expect(records[0]).toMatch(/^H\|\\\^&/);
    expect(records).toContain('O|1|S-42||^^^GLU\\^^^NA|||||||||||||||||||||F');
    expect(records).toContain(`R|1|^^^GLU|${simulatedValue('GLU')}|||N||F`);
    expect(records).toContain(`R|2|^^^NA|${simulatedValue('NA')}|||N||F`);
    expect(records.at(-1)).toBe('L|1|N');
    expect(peer.frames.every((f) => f.checksumOk)).toBe(true);
  });
});

describe('edgepush astm over RS-232 (socat pty pair)', () => {
  let socat: ChildProcess | undefined;
  const a = join(tmp, 'ttyA');
  const b = join(tmp, 'ttyB');

  beforeAll(async () => {
    if (spawnSync('socat', ['-V']).error)
      throw new Error('socat is not installed: apt-get install socat (the serial tests need a pty pair)');
    socat = spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' });
    await until(() => existsSync(a) && existsSync(b), 'the socat pty pair');
  });
  afterAll(() => void socat?.kill());

  it('an analyser simulator on one end takes an order at 9600 baud and sends results back', async () => {
    const sim = await listen(['--serial', `${a}?baud=9600`, '--reply-results']);
    expect(sim.out()).toContain(`Listening for ASTM on ${a}`);
    const port = new SerialPort({ path: b, baudRate: 9600 });
    cleanups.push(() => new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve())));
    await new Promise((r) => port.once('open', r));
    const peer = new RawPeer(port);
    await peer.transmit(ORDER);
    await peer.until(() => peer.messages.length === 1);
    expect(peer.messages[0]).toContain(`R|1|^^^GLU|${simulatedValue('GLU')}|||N||F\r`);
    expect(sim.out()).toContain('O|1|S-42||^^^GLU\\^^^NA|R');
  });

  it('astm send --serial delivers to a raw analyser on the other end', async () => {
    const port = new SerialPort({ path: b, baudRate: 9600 });
    cleanups.push(() => new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve())));
    await new Promise((r) => port.once('open', r));
    const peer = new RawPeer(port);
    const res = await run(['astm', 'send', '--serial', `${a}?baud=9600&parity=none`, '--file', orderFile()]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    await peer.until(() => peer.messages.length === 1);
    expect(peer.messages[0]).toBe(ORDER.map((r) => r + '\r').join(''));
  });
});
