/**
 * Results from analysers to the inbound sink over real lines: an analyser written byte by byte
 * (raw-peer.ts) sends result transfers to (a) an ASTM device the relay code dials, (b) a
 * listening ASTM channel, (c) a device on a serial line (a socat pty pair); the sink is a real
 * in-memory recorder. No relay process: the integrator connects these to the relay's sink.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { astmChannelDevice, createAstmChannel, type AstmChannel } from '../../edge-agent/astm/astm-channel';
import { AstmDevice } from '../../edge-agent/astm/astm-device';
import { parseAstmUrl, type AstmEndpoint } from '../../edge-agent/astm/astm-url';
import { messageToJson, readHostQuery } from '../../astm/records';
import { astmAcked } from '../../edge-agent/relay/outcome';
import { freePort } from '../support/free-port';
import { RecordingSink } from '../support/recording-sink';
import { RawPeer } from './raw-peer';

const RESULT_1 = ['H|\\^&|||Analyser^1||||||P|LIS2-A2', 'P|1||MRN7', 'O|1|S-1||^^^GLU|R', 'R|1|^^^GLU|5.1|mmol/L||N||F', 'L|1|N'];
const RESULT_2 = ['H|\\^&|||Analyser^1||||||P|LIS2-A2', 'P|1||MRN8', 'O|1|S-2||^^^NA|R', 'R|1|^^^NA|140|mmol/L||N||F', 'L|1|N'];
const QUERY = ['H|\\^&|||Analyser^1||||||P|LIS2-A2', 'Q|1|^S-77\\^S-78||ALL||||||||O', 'L|1|N'];
const body = (records: string[]) => records.map((r) => r + '\r').join('');
const FAST_RETRY = { initialDelayMs: 100, maxDelayMs: 200 };

const tmp = mkdtempSync(join(tmpdir(), 'edgepush-astm-inbound-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** An analyser the relay dials: a TCP server whose connections are raw peers. */
async function analyserServer(port = 0): Promise<{ port: number; peers: RawPeer[]; sockets: Socket[] }> {
  const peers: RawPeer[] = [];
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => {
    sockets.push(socket);
    peers.push(new RawPeer(socket));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => (sockets.forEach((s) => s.destroy()), server.close(() => resolve()))));
  return { port: (server.address() as { port: number }).port, peers, sockets };
}

function device(endpoint: AstmEndpoint, sink: RecordingSink, name = 'chem'): AstmDevice {
  const d = new AstmDevice({
    endpoint: endpoint as Extract<AstmEndpoint, { kind: 'dial' | 'serial' }>,
    connectTimeoutMs: 2_000,
    inbound: { channel: name, sink, retry: FAST_RETRY },
    reconnect: { initialDelayMs: 50, maxDelayMs: 100 },
  });
  cleanups.push(() => d.close());
  return d;
}

describe('ASTM inbound (a): a dialed analyser sends results', () => {
  it('connects at start, and each transfer reaches the sink as one message of the device name', async () => {
    const analyser = await analyserServer();
    const sink = new RecordingSink();
    device(parseAstmUrl(`astm://127.0.0.1:${analyser.port}`), sink).start();
    await until(() => analyser.peers.length === 1, 'the relay to dial the analyser');
    const peer = analyser.peers[0];
    await peer.transmit(RESULT_1);
    await peer.transmit(RESULT_2);
    await sink.until(() => sink.accepted.length === 2, 'two results');
    expect(sink.accepted.map((m) => [m.channel, m.contentType, m.body])).toStrictEqual([
      ['chem', 'application/astm', body(RESULT_1)],
      ['chem', 'application/astm', body(RESULT_2)],
    ]);
    expect(messageToJson(sink.accepted[0].body).map((r) => r.type)).toStrictEqual(['H', 'P', 'O', 'R', 'L']);
  });

  it('while the sink refuses, the analyser is told busy (NAK to ENQ); results then arrive in order', async () => {
    const analyser = await analyserServer();
    const sink = new RecordingSink('refuse');
    device(parseAstmUrl(`astm://127.0.0.1:${analyser.port}`), sink).start();
    await until(() => analyser.peers.length === 1, 'the connection');
    const peer = analyser.peers[0];
    await peer.transmit(RESULT_1); // ACKed frame by frame: the sink refuses it after EOT
    await sink.until(() => sink.attempts.length >= 1, 'the first submission');
    await expect(peer.transmit(RESULT_2)).rejects.toThrow('did not ACK our ENQ');
    sink.mode = 'accept';
    await sink.until(() => sink.accepted.length === 1, 'the refused transfer stored on a resubmission');
    await peer.transmit(RESULT_2); // the analyser's retry after its busy wait
    await sink.until(() => sink.accepted.length === 2, 'the second result');
    expect(sink.bodies()).toStrictEqual([body(RESULT_1), body(RESULT_2)]);
  });

  it('a line dropped mid-transfer submits nothing; the device reconnects and takes the next transfer', async () => {
    const analyser = await analyserServer();
    const sink = new RecordingSink();
    device(parseAstmUrl(`astm://127.0.0.1:${analyser.port}`), sink).start();
    await until(() => analyser.peers.length === 1, 'the connection');
    await analyser.peers[0].transmit(RESULT_1, { stopAfterFrames: 3 });
    analyser.sockets[0].destroy();
    await until(() => analyser.peers.length === 2, 'the reconnect');
    await analyser.peers[1].transmit(RESULT_2);
    await sink.until(() => sink.accepted.length === 1, 'the result after the reconnect');
    expect(sink.attempts.map((m) => m.body)).toStrictEqual([body(RESULT_2)]);
  });

  it('keeps dialing an analyser that is not up yet, and takes its results once it is', async () => {
    const port = await freePort();
    const sink = new RecordingSink();
    const d = device(parseAstmUrl(`astm://127.0.0.1:${port}`), sink);
    d.start();
    await new Promise((r) => setTimeout(r, 300)); // a few refused connects
    expect(d.linkUp).toBe(false);
    const analyser = await analyserServer(port);
    await until(() => analyser.peers.length === 1, 'the relay to dial the analyser once it listens');
    await analyser.peers[0].transmit(RESULT_1);
    await sink.until(() => sink.accepted.length === 1, 'the result');
  });

  it('carries pushes down and results up on the same link', async () => {
    const analyser = await analyserServer();
    const sink = new RecordingSink();
    const d = device(parseAstmUrl(`astm://127.0.0.1:${analyser.port}`), sink);
    d.start();
    await until(() => analyser.peers.length === 1, 'the connection');
    const peer = analyser.peers[0];
    const order = 'H|\\^&\rP|1\rO|1|S-9||^^^GLU|R\rL|1|N\r';
    // One after the other: the raw peer does not play contention (link.test.ts covers it).
    await d.send(order);
    await peer.transmit(RESULT_1);
    await sink.until(() => sink.accepted.length === 1, 'the result');
    await d.send(order);
    await peer.until(() => peer.messages.length === 2);
    expect(peer.messages).toStrictEqual([order, order]);
    expect(sink.bodies()).toStrictEqual([body(RESULT_1)]);
  });

  it('a device without a sink keeps refusing the analyser (NAK to ENQ): it keeps its results', async () => {
    const analyser = await analyserServer();
    const d = new AstmDevice({
      endpoint: parseAstmUrl(`astm://127.0.0.1:${analyser.port}`) as Extract<AstmEndpoint, { kind: 'dial' }>,
      connectTimeoutMs: 2_000,
    });
    cleanups.push(() => d.close());
    await d.send('H|\\^&\rL|1|N\r'); // the link opens on the first push
    await expect(analyser.peers[0].transmit(RESULT_1)).rejects.toThrow('did not ACK our ENQ');
  });

  it('a host query arrives as an inbound message whose records say what is asked', async () => {
    const analyser = await analyserServer();
    const sink = new RecordingSink();
    device(parseAstmUrl(`astm://127.0.0.1:${analyser.port}`), sink).start();
    await until(() => analyser.peers.length === 1, 'the connection');
    await analyser.peers[0].transmit(QUERY);
    await sink.until(() => sink.accepted.length === 1, 'the query');
    expect(readHostQuery(sink.accepted[0].body)).toStrictEqual([
      {
        sequence: '1',
        specimenIds: ['S-77', 'S-78'],
        startRange: [
          ['', 'S-77'],
          ['', 'S-78'],
        ],
        tests: ['ALL'],
        status: 'O',
      },
    ]);
  });
});

describe('ASTM inbound (b): an analyser dials a listening channel', () => {
  async function channel(sink: RecordingSink): Promise<AstmChannel> {
    const ch = createAstmChannel({ name: 'haem', protocol: 'astm', ack: 'fast' }, sink, {
      endpoint: 'astm://127.0.0.1:0?listen',
      retry: FAST_RETRY,
    });
    await ch.start();
    cleanups.push(() => ch.stop());
    return ch;
  }

  async function dial(port: number): Promise<{ peer: RawPeer; socket: Socket }> {
    const socket = connect({ host: '127.0.0.1', port });
    cleanups.push(() => void socket.destroy());
    await new Promise((r) => socket.once('connect', r));
    return { peer: new RawPeer(socket), socket };
  }

  it('takes result transfers from a connected analyser, under the channel name', async () => {
    const sink = new RecordingSink();
    const ch = await channel(sink);
    const { peer, socket } = await dial(ch.port);
    socket.write(Buffer.from('\x00noise\x06', 'latin1')); // garbage in neutral is ignored
    await peer.transmit(RESULT_1);
    await peer.transmit(RESULT_2);
    await sink.until(() => sink.accepted.length === 2, 'two results');
    expect(sink.accepted.map((m) => [m.channel, m.body])).toStrictEqual([
      ['haem', body(RESULT_1)],
      ['haem', body(RESULT_2)],
    ]);
  });

  it('pushes go down the connected analyser; with none connected the push fails retryable (CONNECT_FAILED)', async () => {
    const sink = new RecordingSink();
    const ch = await channel(sink);
    await expect(ch.send('H|\\^&\rL|1|N\r')).rejects.toMatchObject({ code: 'CONNECT_FAILED', delivered: false });
    const { peer } = await dial(ch.port);
    await until(() => ch.connections === 1, 'the channel to see the connection');
    await ch.send('H|\\^&\rO|1|S-3||^^^K|R\rL|1|N\r');
    await peer.until(() => peer.messages.length === 1);
    expect(peer.messages).toStrictEqual(['H|\\^&\rO|1|S-3||^^^K|R\rL|1|N\r']);
  });

  it('as a push destination: acked down the connection; failed and retryable with no analyser connected', async () => {
    const ch = await channel(new RecordingSink());
    const driver = astmChannelDevice(ch);
    const push = (pushId: string, body: string) =>
      driver.deliver({
        type: 'push',
        v: 1,
        pushId,
        destination: 'haem',
        contentType: 'application/astm',
        body,
        returnAck: 'first',
        expiresAt: Date.now() + 60_000,
      });
    expect(await push('p-1', 'H|\\^&\rL|1|N\r')).toMatchObject({ pushId: 'p-1', status: 'failed', retryable: true });
    const { peer } = await dial(ch.port);
    await until(() => ch.connections === 1, 'the connection');
    expect(await push('p-2', 'H|\\^&\rO|1|S-4||^^^K|R\rL|1|N\r')).toStrictEqual(astmAcked('p-2'));
    await peer.until(() => peer.messages.length === 1);
  });

  it('holds the ENQ of the next transfer while the previous one is stored, then ACKs it', async () => {
    const sink = new RecordingSink('manual');
    const ch = await channel(sink);
    const { peer } = await dial(ch.port);
    await peer.transmit(RESULT_1);
    await sink.until(() => sink.held === 1, 'the first submission');
    let second = false;
    const sending = peer.transmit(RESULT_2).then(() => (second = true));
    await new Promise((r) => setTimeout(r, 200));
    expect(second).toBe(false); // no reply to its ENQ yet: not NAK, not ACK
    sink.release();
    await sink.until(() => sink.held === 1, 'the second submission, right after');
    sink.release();
    await sending;
    expect(sink.bodies()).toStrictEqual([body(RESULT_1), body(RESULT_2)]);
  });

  it('refuses the next transfer while the sink refuses, on any connection of the channel', async () => {
    const sink = new RecordingSink('refuse');
    const ch = await channel(sink);
    const first = await dial(ch.port);
    await first.peer.transmit(RESULT_1);
    await sink.until(() => sink.attempts.length >= 1, 'the refused submission');
    first.socket.destroy(); // the analyser reconnects: the refusal holds on the new connection
    const second = await dial(ch.port);
    await expect(second.peer.transmit(RESULT_2)).rejects.toThrow('did not ACK our ENQ');
    sink.mode = 'accept';
    await sink.until(() => sink.accepted.length === 1, 'the resubmission');
    await second.peer.transmit(RESULT_2);
    await sink.until(() => sink.accepted.length === 2, 'the second result');
    expect(sink.bodies()).toStrictEqual([body(RESULT_1), body(RESULT_2)]);
  });

  it('stop() closes connections and frees the port', async () => {
    const sink = new RecordingSink();
    const ch = createAstmChannel({ name: 'haem', protocol: 'astm', ack: 'fast' }, sink, { endpoint: 'astm://127.0.0.1:0?listen' });
    await ch.start();
    const { socket } = await dial(ch.port);
    const closed = new Promise((r) => socket.once('close', r));
    await ch.stop();
    await closed;
    const again = createServer();
    await new Promise<void>((resolve) => again.listen(ch.port, '127.0.0.1', resolve));
    await new Promise((r) => again.close(r));
  });

  it('rejects a configuration that is not a listening ASTM URL, naming the fix', () => {
    const sink = new RecordingSink();
    expect(() => createAstmChannel({ name: 'x', protocol: 'astm', ack: 'fast' }, sink, { endpoint: 'astm://10.0.0.5:5000' })).toThrow(
      /is a device/,
    );
    expect(() => createAstmChannel({ name: 'x', protocol: 'mllp', ack: 'fast' }, sink, { endpoint: 'astm://0.0.0.0:1?listen' })).toThrow(
      /needs protocol astm/,
    );
  });
});

describe('ASTM inbound (c): results over RS-232 (socat pty pair)', () => {
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

  it('a serial analyser at 9600 baud sends results to a device with a sink', async () => {
    const sink = new RecordingSink();
    const d = device(parseAstmUrl(`astm+serial://${a}?baud=9600`), sink, 'urine');
    d.start();
    await until(() => d.linkUp, 'the relay side to open its end of the line');
    const port = new SerialPort({ path: b, baudRate: 9600 });
    cleanups.push(() => new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve())));
    await new Promise((r) => port.once('open', r));
    const peer = new RawPeer(port);
    await peer.transmit(RESULT_1);
    await sink.until(() => sink.accepted.length === 1, 'the result over the pty');
    expect(sink.accepted.map((m) => [m.channel, m.body])).toStrictEqual([['urine', body(RESULT_1)]]);
  });
});
