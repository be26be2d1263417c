import { connect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { buildAckFor } from '../../hl7/ack';
import { readMsh } from '../../hl7/msh';
import { encodeFrame } from '../../edge-agent/mllp/encoder';
import { startHl7Listener, type Hl7Listener } from '../../edge-agent/mllp/listener';
import { waitFor } from '../support/wait';
import { frame, frameBytes, message } from './support/fake-device';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** Captures pino lines so tests can assert on what was (and was not) logged. */
function captureLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      raw.push(chunk.toString());
      lines.push(JSON.parse(chunk.toString()));
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines, raw };
}

async function listen(options: Partial<Parameters<typeof startHl7Listener>[0]> = {}): Promise<Hl7Listener> {
  const l = await startHl7Listener({ port: 0, ...options });
  cleanups.push(() => l.close());
  return l;
}

/** A raw client that collects every byte the listener sends back. */
async function rawClient(port: number) {
  const socket: Socket = connect(port, '127.0.0.1');
  cleanups.push(() => void socket.destroy());
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  const state = { data: Buffer.alloc(0), closed: false };
  socket.on('data', (d) => (state.data = Buffer.concat([state.data, d])));
  socket.on('close', () => (state.closed = true));
  socket.on('error', () => undefined);
  const frames = () =>
    state.data
      .toString('latin1')
      .split('\x1c\r')
      .filter(Boolean)
      .map((f) => f.replace(/^\x0b/, ''));
  return { socket, state, frames };
}

describe('startHl7Listener', () => {
  it('ACKs each message with MSA-2 = its MSH-10, counts it and hands it to onMessage', async () => {
    const seen: string[] = [];
    const l = await listen({ onMessage: (m) => seen.push(m) });
    const c = await rawClient(l.port);
    c.socket.write(Buffer.concat([frame(message('L1')), frame(message('L2'))]));
    await waitFor(() => c.frames().length === 2);
    expect(c.frames()[0]).toMatch(/\rMSA\|AA\|L1\r$/);
    expect(c.frames()[1]).toMatch(/\rMSA\|AA\|L2\r$/);
    expect(c.frames()[0]).toMatch(/^MSH\|\^~\\&\|DEV\|FAC\|EP\|CLOUD\|/);
    expect(l.received).toBe(2);
    expect(seen).toEqual([message('L1'), message('L2')]);
  });

  it('ACKs a message framed with leading blank lines and \\n segment endings', async () => {
    const l = await listen();
    const c = await rawClient(l.port);
    c.socket.write(frame('\r\n' + message('LB').replace(/\r/g, '\n')));
    await waitFor(() => c.frames().length === 1);
    expect(c.frames()[0]).toContain('MSA|AA|LB');
  });

  it('still ACKs, and logs, when the onMessage callback throws', async () => {
    const { logger, lines } = captureLogger();
    const l = await listen({
      logger,
      onMessage: () => {
        throw new Error('boom');
      },
    });
    const c = await rawClient(l.port);
    c.socket.write(frame(message('OB')));
    await waitFor(() => c.frames().length === 1);
    expect(c.frames()[0]).toContain('MSA|AA|OB');
    expect(lines.some((l) => l.msg === 'onMessage callback threw' && l.err === 'boom')).toBe(true);
  });

  it('answers with the configured code', async () => {
    const l = await listen({ ack: 'AR' });
    const c = await rawClient(l.port);
    c.socket.write(frame(message('L3')));
    await waitFor(() => c.frames().length === 1);
    expect(c.frames()[0]).toContain('MSA|AR|L3');
  });

  it('waits delayMs before each ACK', async () => {
    const l = await listen({ delayMs: 200 });
    const c = await rawClient(l.port);
    const started = Date.now();
    c.socket.write(frame(message('L4')));
    await waitFor(() => c.frames().length === 1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('discards garbage between frames, logs it, and keeps the connection', async () => {
    const { logger, lines } = captureLogger();
    const l = await listen({ logger });
    const c = await rawClient(l.port);
    c.socket.write(Buffer.concat([Buffer.from('GET / HTTP/1.1\r\n\r\n'), frame(message('L5'))]));
    await waitFor(() => c.frames().length === 1);
    expect(c.frames()[0]).toContain('MSA|AA|L5');
    expect(lines.some((l) => l.msg === 'discarded bytes outside an MLLP frame' && l.bytes === 18)).toBe(true);
    expect(c.state.closed).toBe(false);
  });

  it('drops the connection on an oversized frame with a clear logged error, and keeps serving others', async () => {
    const { logger, lines } = captureLogger();
    const l = await listen({ logger, maxFrameBytes: 1000 });
    const c = await rawClient(l.port);
    c.socket.write(frame(message('BIG', 'x'.repeat(2000))));
    await waitFor(() => c.state.closed, 2000, 'connection drop');
    expect(c.frames()).toEqual([]);
    expect(lines.some((l) => l.level === 50 && l.code === 'FRAME_TOO_LARGE' && /1000-byte limit/.test(String(l.msg)))).toBe(true);
    const other = await rawClient(l.port);
    other.socket.write(frame(message('L6')));
    await waitFor(() => other.frames().length === 1);
  });

  it('does not ACK a frame that is not HL7, logs it, and carries on', async () => {
    const { logger, lines } = captureLogger();
    const l = await listen({ logger });
    const c = await rawClient(l.port);
    c.socket.write(frame('hello, not hl7'));
    c.socket.write(frame(message('L7')));
    await waitFor(() => c.frames().length === 1);
    expect(c.frames()[0]).toContain('MSA|AA|L7');
    expect(lines.some((l) => l.code === 'NOT_HL7')).toBe(true);
  });

  it('rejects (AR) a message without MSH-10', async () => {
    const l = await listen();
    const c = await rawClient(l.port);
    c.socket.write(frame('MSH|^~\\&|A|B|C|D|1||ADT^A01||P|2.5\r'));
    await waitFor(() => c.frames().length === 1);
    expect(c.frames()[0]).toMatch(/MSA\|AR\|\|MSH-10/);
  });

  it('logs message type and control id, never the body', async () => {
    const { logger, lines, raw } = captureLogger();
    const l = await listen({ logger });
    const c = await rawClient(l.port);
    c.socket.write(frame(message('L8', 'SECRETNAME')));
    await waitFor(() => c.frames().length === 1);
    expect(lines.find((l) => l.msg === 'message received')).toMatchObject({ messageType: 'ADT^A01', controlId: 'L8' });
    expect(raw.join('')).not.toContain('SECRETNAME');
    expect(raw.join('')).not.toContain('Doe^Jane');
  });

  it('decodes and answers in windows-1252', async () => {
    const seen: string[] = [];
    const l = await listen({ encoding: 'cp1252', onMessage: (m) => seen.push(m) });
    const c = await rawClient(l.port);
    c.socket.write(frameBytes(Buffer.from(message('L9', 'é'), 'latin1')));
    await waitFor(() => c.frames().length === 1);
    expect(seen[0]).toContain('Doe^Janeé');
  });

  /** MSH-7 and MSH-10 of an ACK change per call; blank them so two ACKs can be compared. */
  function masked(ack: string): string {
    const sep = ack[3];
    const [msh, ...rest] = ack.split('\r');
    const f = msh.split(sep);
    f[6] = '<ts>';
    f[9] = '<id>';
    return [f.join(sep), ...rest].join('\r');
  }

  // Each logging set-up the listener can run with: per-message logging off (the CLI's default
  // is info, the demo's and the tests' silent) and on. The ACK must not depend on it.
  const loggers = [
    ['no logger', () => undefined],
    ['level info', () => captureLogger().logger],
  ] as const;

  it.each(loggers)('answers every message with the ACK hl7/ack.ts builds for it (%s)', async (_label, makeLogger) => {
    const segments = [
      'MSH|^~\\&|EDGEPUSH|CLOUD|ADT_RECEIVER|HOSP|20240101120000||ADT^A01^ADT_A01|MSG00001|P|2.5.1',
      'MSH|^~\\&|A|B|C|D|20240101||ORU^R01|  ID7  |T|2.3',
      'MSH|^~\\&|A|B|C|D|20240101||ORU|ID8|T|2.3',
      'MSH|^~\\&|A|B|C|D|20240101||ORU^|ID9||2.4',
      'MSH|^~\\&|||||||ADT^A04|X1',
      'MSH|^~\\&|A|B|C|D|20240101||ADT^A01|ID11|P|2.5|extra|fields|here',
      'MSH#^~\\&#A#B#C#D#20240101##ADT^A01^ADT_A01#ID12#P#2.5.1',
      'MSH|^|A|B|C|D|20240101||ADT^A08|ID13|P|2.6',
      'MSH|#~\\&|A|B|C|D|20240101||ADT#A01|ID2|P|2.5',
      'MSH|^~\\&|A|B|C|D|20240101||ADT^A01|\tID15 |P|2.5',
    ];
    const l = await listen({ ack: 'AE', logger: makeLogger() });
    const c = await rawClient(l.port);
    c.socket.write(Buffer.concat(segments.map((s) => frame(`${s}\rPID|1\r`))));
    await waitFor(() => c.frames().length === segments.length);
    expect(c.frames().map(masked)).toEqual(segments.map((s) => masked(buildAckFor(readMsh(s), 'AE'))));
    // And framed as encodeFrame frames it (VT ... FS CR), nothing else on the wire.
    const expected = Buffer.concat(segments.map((s) => encodeFrame(buildAckFor(readMsh(s), 'AE'))));
    expect(c.state.data.length).toBe(expected.length);
  });

  it.each(loggers)('does not ACK a header whose field separator is its component separator (%s)', async (_label, makeLogger) => {
    // readMsh refuses 'MSH^^...' (MSH-2 would be empty), so there is no header to answer.
    const l = await listen({ logger: makeLogger() });
    const c = await rawClient(l.port);
    c.socket.write(frame('MSH^^~\\&^A^B^C^D^20240101^^ADT^A01^ID1^P^2.5\r'));
    c.socket.write(frame(message('L10')));
    // One connection answers in order: once L10's ACK is here, any ACK for the first frame would be too.
    await waitFor(() => c.frames().some((f) => f.includes('MSA|AA|L10')));
    expect(c.frames()).toHaveLength(1);
    expect(c.frames()[0]).toContain('MSA|AA|L10');
  });

  it('refuses bad options', async () => {
    await expect(startHl7Listener({ port: 0, encoding: 'ebcdic' })).rejects.toThrow(/unsupported character encoding/);
    await expect(startHl7Listener({ port: 0, ack: 'XX' as 'AA' })).rejects.toThrow(/AA, AE or AR/);
    await expect(startHl7Listener({ port: 0, delayMs: -1 })).rejects.toThrow(/delayMs/);
  });

  it('fails clearly when the port is taken', async () => {
    const l = await listen();
    await expect(startHl7Listener({ port: l.port })).rejects.toThrow(/EADDRINUSE/);
  });

  it('close() drops open connections', async () => {
    const l = await startHl7Listener({ port: 0 });
    const c = await rawClient(l.port);
    await l.close();
    await waitFor(() => c.state.closed, 2000, 'client closed');
  });
});
