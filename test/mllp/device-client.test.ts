import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { DeviceError, MllpDeviceClient, type DeviceClientOptions } from '../../edge-agent/mllp/device-client';
import { freePort } from '../support/free-port';
import { sleep, waitFor } from '../support/wait';
import { ackAll, ackFor, controlIdOf, frame, frameBytes, message, startFakeDevice, type FakeDevice } from './support/fake-device';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function device(handler = ackAll, port = 0): Promise<FakeDevice> {
  const d = await startFakeDevice(handler, port);
  cleanups.push(() => d.close());
  return d;
}

function client(port: number, options: Partial<DeviceClientOptions> = {}): MllpDeviceClient {
  const c = new MllpDeviceClient({ host: '127.0.0.1', port, ackTimeoutMs: 2000, connectTimeoutMs: 2000, ...options });
  cleanups.push(() => c.close());
  return c;
}

async function failure(p: Promise<unknown>): Promise<DeviceError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(DeviceError);
    return err as DeviceError;
  }
  throw new Error('expected the send to fail');
}

describe('MllpDeviceClient', () => {
  it('sends a message and resolves with the ACK whose MSA-2 is its MSH-10', async () => {
    const d = await device();
    const c = client(d.port);
    const result = await c.send(message('C1'));
    expect(result.ackCode).toBe('AA');
    expect(result.controlId).toBe('C1');
    expect(result.ack).toContain('MSA|AA|C1');
    expect(d.received.map((b) => b.toString())).toEqual([message('C1')]);
  });

  it('normalises \\n line endings before sending', async () => {
    const d = await device();
    const c = client(d.port);
    await c.send('MSH|^~\\&|A|B|C|D|1||ADT^A01|N1|P|2.5\nPID|1\n\n');
    expect(d.received[0].toString()).toBe('MSH|^~\\&|A|B|C|D|1||ADT^A01|N1|P|2.5\rPID|1\r');
  });

  it('matches an ACK that starts with a blank line and declares its own field separator', async () => {
    const d = await device((payload, socket) => {
      const ack = ackFor(payload.toString()).replace(/\|/g, '#');
      socket.write(frame(`\r\n${ack}`));
    });
    const c = client(d.port, { ackTimeoutMs: 1000 });
    const result = await c.send(message('SEP1'));
    expect(result).toMatchObject({ ackCode: 'AA', controlId: 'SEP1' });
    expect(c.stats.unmatchedAcks).toBe(0);
  });

  it('ignores an ACK with another control id and keeps waiting for the right one', async () => {
    const d = await device((payload, socket) => {
      const text = payload.toString();
      socket.write(frame(ackFor(text, 'AA', 'SOMEONE-ELSE')));
      setTimeout(() => socket.write(frame(ackFor(text, 'AE'))), 50);
    });
    const c = client(d.port);
    const result = await c.send(message('C2'));
    expect(result.ackCode).toBe('AE');
    expect(result.controlId).toBe('C2');
    expect(c.stats.unmatchedAcks).toBe(1);
  });

  it('fails with ACK_TIMEOUT (delivered) when only wrong control ids come back', async () => {
    const d = await device((payload, socket) => socket.write(frame(ackFor(payload.toString(), 'AA', 'WRONG'))));
    const c = client(d.port, { ackTimeoutMs: 300 });
    const err = await failure(c.send(message('C3')));
    expect(err.code).toBe('ACK_TIMEOUT');
    expect(err.delivered).toBe(true);
    expect(err.message).toMatch(/MSA-2 = C3/);
    expect(c.stats.unmatchedAcks).toBe(1);
  });

  it('logs the control id and message type of a message that got no ACK, not its body', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'warn' }, new Writable({ write: (chunk, _enc, cb) => (lines.push(JSON.parse(chunk.toString())), cb()) }));
    const d = await device(() => undefined);
    const c = client(d.port, { ackTimeoutMs: 150, logger, encoding: 'windows-1252' });
    expect((await failure(c.send(message('LOG1', 'é')))).code).toBe('ACK_TIMEOUT');
    const line = lines.find((l) => l.msg === 'no ACK from device in time');
    expect(line).toMatchObject({ controlId: 'LOG1', messageType: 'ADT^A01', ackTimeoutMs: 150 });
    expect(JSON.stringify(lines)).not.toContain('Doe');
  });

  it('rate-limits the warning for frames that answer nothing: 2,000 stray ACKs, one warn line', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'warn' }, new Writable({ write: (chunk, _enc, cb) => (lines.push(JSON.parse(chunk.toString())), cb()) }));
    const d = await device((payload, socket) => {
      const text = payload.toString();
      const stray = frame(ackFor(text, 'AA', 'NOT-YOURS'));
      socket.write(Buffer.concat(Array.from({ length: 2000 }, () => stray)));
      socket.write(frame(ackFor(text)));
    });
    const c = client(d.port, { logger });
    await expect(c.send(message('FLOOD1'))).resolves.toMatchObject({ ackCode: 'AA', controlId: 'FLOOD1' });
    expect(c.stats.unmatchedAcks).toBe(2000);
    expect(lines.filter((l) => l.msg === 'frame from device matches no message in flight; ignored')).toHaveLength(1);
  });

  it('fails with ACK_TIMEOUT when the device never answers, then carries on with the next message', async () => {
    let n = 0;
    const d = await device((payload, socket) => {
      if (n++ > 0) ackAll(payload, socket, d);
    });
    const c = client(d.port, { ackTimeoutMs: 2000 });
    const err = await failure(c.send(message('C4'), { ackTimeoutMs: 200 }));
    expect(err.code).toBe('ACK_TIMEOUT');
    expect(err.delivered).toBe(true);
    await expect(c.send(message('C5'))).resolves.toMatchObject({ ackCode: 'AA', controlId: 'C5' });
  });

  it('after an ACK timeout, sends the next message on a fresh connection, not into the dead one', async () => {
    // The first connection is a black hole (a NAT that dropped it silently, a hung device
    // thread); a new connection is answered. Reusing the dead one would time out every push.
    let first: Socket | undefined;
    const d = await device((payload, socket, dev) => {
      first ??= socket;
      if (socket !== first) ackAll(payload, socket, dev);
    });
    const c = client(d.port, { ackTimeoutMs: 300 });
    expect((await failure(c.send(message('BH1')))).code).toBe('ACK_TIMEOUT');
    await expect(c.send(message('BH2'))).resolves.toMatchObject({ ackCode: 'AA', controlId: 'BH2' });
    expect(d.connections).toBe(2);
  });

  it('times out each in-flight message on its own deadline, the shorter first', async () => {
    const d = await device(() => undefined);
    const c = client(d.port, { concurrency: 2 });
    const started = Date.now();
    const long = failure(c.send(message('T-LONG'), { ackTimeoutMs: 1500 }));
    const short = await failure(c.send(message('T-SHORT'), { ackTimeoutMs: 200 }));
    expect(short.code).toBe('ACK_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(c.pending).toBe(1);
    expect((await long).code).toBe('ACK_TIMEOUT');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
  });

  it('fails with CLOSED_MID_FRAME when the device closes halfway through its ACK', async () => {
    const d = await device((payload, socket) => {
      const ack = frame(ackFor(payload.toString()));
      socket.write(ack.subarray(0, 20), () => socket.destroy());
    });
    const c = client(d.port);
    const err = await failure(c.send(message('C6')));
    expect(err.code).toBe('CLOSED_MID_FRAME');
    expect(err.delivered).toBe(true);
  });

  it('fails with CONNECTION_CLOSED when the device closes without answering', async () => {
    const d = await device((_payload, socket) => socket.end());
    const c = client(d.port);
    const err = await failure(c.send(message('C7')));
    expect(err.code).toBe('CONNECTION_CLOSED');
    expect(err.delivered).toBe(true);
  });

  it('fails with CONNECT_REFUSED, delivered=false, after its connect attempts', async () => {
    const port = await freePort();
    const c = client(port, { reconnect: { initialDelayMs: 20, maxDelayMs: 50, maxAttempts: 3 } });
    const started = Date.now();
    const err = await failure(c.send(message('C8')));
    expect(err.code).toBe('CONNECT_REFUSED');
    expect(err.delivered).toBe(false);
    expect(err.message).toMatch(/connection refused/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(20); // it backed off at least once
  });

  it('connects when the device comes up during the backoff', async () => {
    const port = await freePort();
    const c = client(port, { reconnect: { initialDelayMs: 100, maxDelayMs: 200, maxAttempts: 10 } });
    const sent = c.send(message('C9'));
    await sleep(150);
    await device(ackAll, port);
    await expect(sent).resolves.toMatchObject({ controlId: 'C9' });
  });

  it('reconnects after the device restarts, on one persistent connection in between', async () => {
    let d = await device();
    const port = d.port;
    const c = client(port);
    await c.send(message('R1'));
    await c.send(message('R2'));
    expect(d.connections).toBe(1); // kept alive
    await d.close();
    await waitFor(() => !c.connected, 2000, 'client to see the close');
    d = await device(ackAll, port);
    await expect(c.send(message('R3'))).resolves.toMatchObject({ controlId: 'R3' });
    expect(c.stats.connects).toBe(2);
  });

  it('delivers queued messages in order, one at a time by default', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const d = await device((payload, socket) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      setTimeout(
        () => {
          inFlight--;
          socket.write(frame(ackFor(payload.toString())));
        },
        Math.floor(Math.random() * 5),
      );
    });
    const c = client(d.port);
    const ids = Array.from({ length: 30 }, (_, i) => `Q${i}`);
    const results = await Promise.all(ids.map((id) => c.send(message(id))));
    expect(results.map((r) => r.controlId)).toEqual(ids);
    expect(d.received.map((b) => controlIdOf(b.toString()))).toEqual(ids);
    expect(maxInFlight).toBe(1);
  });

  it('keeps up to `concurrency` messages in flight and still matches each ACK', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const d = await device((payload, socket) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      // Answer in reverse-ish order to prove correlation is by control id, not position.
      setTimeout(
        () => {
          inFlight--;
          socket.write(frame(ackFor(payload.toString())));
        },
        30 - (Number(controlIdOf(payload.toString()).slice(1)) % 3) * 10,
      );
    });
    const c = client(d.port, { concurrency: 3 });
    const ids = Array.from({ length: 12 }, (_, i) => `P${i}`);
    const results = await Promise.all(ids.map((id) => c.send(message(id))));
    expect(results.map((r) => r.controlId)).toEqual(ids);
    expect(maxInFlight).toBe(3);
  });

  it('closes an idle connection after idleTimeoutMs and reconnects on the next send', async () => {
    const d = await device();
    const c = client(d.port, { idleTimeoutMs: 150 });
    await c.send(message('I1'));
    expect(d.sockets.size).toBe(1);
    await waitFor(() => d.sockets.size === 0, 2000, 'idle close');
    expect(c.connected).toBe(false);
    await c.send(message('I2'));
    expect(d.connections).toBe(2);
  });

  it('keeps a connection with idleTimeoutMs 0', async () => {
    const d = await device();
    const c = client(d.port, { idleTimeoutMs: 0 });
    await c.send(message('K1'));
    await sleep(300);
    expect(d.sockets.size).toBe(1);
  });

  it("returnAck 'application' skips a CA commit ACK; 'first' returns it", async () => {
    const d = await device((payload, socket) => {
      const text = payload.toString();
      socket.write(frame(ackFor(text, 'CA')));
      setTimeout(() => socket.write(frame(ackFor(text, 'AA'))), 30);
    });
    const c = client(d.port);
    await expect(c.send(message('A1'), { returnAck: 'application' })).resolves.toMatchObject({ ackCode: 'AA' });
    await expect(c.send(message('A2'), { returnAck: 'first' })).resolves.toMatchObject({ ackCode: 'CA' });
  });

  it('refuses a non-HL7 message or one without MSH-10 with NOT_HL7 and sends nothing', async () => {
    const d = await device();
    const c = client(d.port);
    const notHl7 = await failure(c.send('{"hello":"world"}'));
    expect(notHl7.code).toBe('NOT_HL7');
    expect(notHl7.delivered).toBe(false);
    const noId = await failure(c.send('MSH|^~\\&|A|B|C|D|1||ADT^A01||P|2.5\r'));
    expect(noId.code).toBe('NOT_HL7');
    expect(noId.message).toMatch(/MSH-10/);
    expect(d.connections).toBe(0);
  });

  it('refuses a message holding an MLLP framing byte (VT or FS) instead of letting the device ACK a truncated copy', async () => {
    const d = await device();
    const c = client(d.port);
    for (const byte of ['\x1c', '\x0b']) {
      const err = await failure(c.send(message('FS1').replace('PID|', `OBX|1|ED|||A${byte}B\rPID|`)));
      expect(err.code).toBe('NOT_HL7');
      expect(err.delivered).toBe(false);
      expect(err.message).toMatch(/0x0B|0x1C/);
    }
    expect(d.connections).toBe(0);
  });

  it('drops the connection with FRAME_TOO_LARGE when the device sends an oversized frame', async () => {
    const d = await device((_payload, socket) => socket.write(frame('MSH|' + 'x'.repeat(5000))));
    const c = client(d.port, { maxFrameBytes: 1024 });
    const err = await failure(c.send(message('F1')));
    expect(err.code).toBe('FRAME_TOO_LARGE');
    expect(err.delivered).toBe(true);
  });

  it('ignores garbage from the device around the ACK', async () => {
    const d = await device((payload, socket) => {
      socket.write(Buffer.concat([Buffer.from('\x00garbage\r\n'), frame(ackFor(payload.toString())), Buffer.from('trailing')]));
    });
    const c = client(d.port);
    await expect(c.send(message('G1'))).resolves.toMatchObject({ ackCode: 'AA' });
  });

  it('sends in the device encoding (windows-1252) and decodes the ACK in it', async () => {
    const d = await device((payload, socket) => {
      const ack = Buffer.from(ackFor(payload.toString('latin1')).replace('MSA|AA|', 'MSA|AA|').replace(/\r$/, '|reçu\r'), 'latin1');
      socket.write(frameBytes(ack));
    });
    const c = client(d.port, { encoding: 'windows-1252' });
    const result = await c.send(message('E1', 'é'));
    expect(d.received[0].includes(Buffer.from([0xe9]))).toBe(true);
    expect(d.received[0].includes(Buffer.from([0xc3, 0xa9]))).toBe(false);
    expect(result.ack).toContain('reçu');
  });

  it('close() fails queued and in-flight messages with CLIENT_CLOSED; later sends fail too', async () => {
    const d = await device(() => undefined);
    const c = client(d.port);
    const first = failure(c.send(message('X1')));
    const second = failure(c.send(message('X2')));
    await waitFor(() => d.received.length === 1, 2000, 'first message at the device');
    await c.close();
    expect(await first).toMatchObject({ code: 'CLIENT_CLOSED', delivered: true });
    expect(await second).toMatchObject({ code: 'CLIENT_CLOSED', delivered: false });
    expect(await failure(c.send(message('X3')))).toMatchObject({ code: 'CLIENT_CLOSED' });
  });

  it('close() during the connect backoff ends the wait at once with CLIENT_CLOSED', async () => {
    const port = await freePort();
    const c = client(port, { reconnect: { initialDelayMs: 5000, maxDelayMs: 5000, maxAttempts: 3 } });
    const sent = failure(c.send(message('B1')));
    await sleep(100); // first attempt refused; now sleeping before the second
    const started = Date.now();
    await c.close();
    expect(await sent).toMatchObject({ code: 'CLIENT_CLOSED', delivered: false });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('drain() resolves once every message is answered', async () => {
    const d = await device();
    const c = client(d.port);
    const sends = [c.send(message('D1')), c.send(message('D2'))];
    await c.drain();
    expect(c.pending).toBe(0);
    await Promise.all(sends);
  });

  it('rejects bad options up front', () => {
    expect(() => new MllpDeviceClient({ host: '127.0.0.1', port: 0 })).toThrow(/port/);
    expect(() => new MllpDeviceClient({ host: '127.0.0.1', port: 2575, encoding: 'utf-16' })).toThrow(/unsupported character encoding/);
    expect(() => new MllpDeviceClient({ host: '127.0.0.1', port: 2575, concurrency: 0 })).toThrow(/concurrency/);
  });
});

// A listening socket whose accept queue is full drops further SYNs, so connect() hangs: the
// only portable way to provoke a connect timeout on loopback. This process always accepts, so a
// child node whose event loop is blocked (it never calls accept()) plays the device. backlog 1,
// because node reads 0 as "the default".
it('fails with CONNECT_TIMEOUT when the device never completes the handshake', async () => {
  const blocked =
    "const s=require('net').createServer().listen({port:0,host:'127.0.0.1',backlog:1},()=>{" +
    'console.log(s.address().port);Atomics.wait(new Int32Array(new SharedArrayBuffer(4)),0,0,60000)})';
  const device: ChildProcess = spawn(process.execPath, ['-e', blocked]);
  const fillers: Socket[] = [];
  try {
    const port = await new Promise<number>((resolve) => device.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
    for (let i = 0; i < 3; i++) fillers.push(connect(port, '127.0.0.1').on('error', () => undefined));
    await sleep(200);
    const c = new MllpDeviceClient({
      host: '127.0.0.1',
      port,
      connectTimeoutMs: 300,
      reconnect: { initialDelayMs: 10, maxDelayMs: 10, maxAttempts: 1 },
    });
    const err = await failure(c.send(message('T1')));
    expect(err.code).toBe('CONNECT_TIMEOUT');
    expect(err.delivered).toBe(false);
    await c.close();
  } finally {
    for (const s of fillers) s.destroy();
    device.kill();
  }
});
