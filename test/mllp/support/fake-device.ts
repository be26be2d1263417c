/**
 * A scriptable TCP "device" for tests. It parses MLLP with its own few lines (not our decoder),
 * so a bug in the decoder cannot hide itself in both ends of a test.
 */
import { createServer, type Server, type Socket } from 'node:net';

export const VT = '\x0b';
export const FSCR = '\x1c\r';

export function frame(text: string): Buffer {
  return Buffer.from(`${VT}${text}${FSCR}`, 'latin1');
}

export function frameBytes(payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0x0b]), payload, Buffer.from([0x1c, 0x0d])]);
}

/** MSH-10 of a message, read naively. */
export function controlIdOf(text: string): string {
  return text.split('\r')[0].split('|')[9];
}

export function ackFor(text: string, code = 'AA', controlId = controlIdOf(text)): string {
  return `MSH|^~\\&|DEV|FAC|EP|CLOUD|20240101000000||ACK^A01^ACK|D${Date.now()}|P|2.5.1\rMSA|${code}|${controlId}\r`;
}

export interface FakeDevice {
  port: number;
  server: Server;
  sockets: Set<Socket>;
  /** Payloads received, as raw bytes, in arrival order. */
  received: Buffer[];
  connections: number;
  close(): Promise<void>;
}

export type FrameHandler = (payload: Buffer, socket: Socket, device: FakeDevice) => void;

export async function startFakeDevice(onFrame: FrameHandler, port = 0): Promise<FakeDevice> {
  const sockets = new Set<Socket>();
  const server = createServer();
  const device: FakeDevice = {
    port: 0,
    server,
    sockets,
    received: [],
    connections: 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  server.on('connection', (socket) => {
    device.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const start = buf.indexOf(0x0b);
        const end = buf.indexOf(0x1c, start + 1);
        if (start === -1 || end === -1) break;
        const payload = buf.subarray(start + 1, end);
        buf = buf.subarray(end + 2);
        device.received.push(Buffer.from(payload));
        onFrame(payload, socket, device);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  device.port = (server.address() as { port: number }).port;
  return device;
}

/** Answers every message with an AA ACK. */
export const ackAll: FrameHandler = (payload, socket) => {
  socket.write(frame(ackFor(payload.toString('latin1'))));
};

export function message(controlId: string, extra = ''): string {
  return `MSH|^~\\&|EP|CLOUD|DEV|FAC|20240101000000||ADT^A01^ADT_A01|${controlId}|P|2.5.1\rPID|1||123||Doe^Jane${extra}\r`;
}
