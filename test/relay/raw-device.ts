/**
 * A misbehaving MLLP device for bad-input tests, on a plain `net` server: it can stay silent,
 * or answer every message with a huge ACK. It counts connections, so a test can prove the
 * relay never dialled it.
 */
import net, { type AddressInfo } from 'node:net';

export type RawDeviceMode = 'silent' | 'bigAck';

export interface RawDevice {
  port: number;
  connections: number;
  messages: string[];
  close(): Promise<void>;
}

export function startRawDevice(mode: RawDeviceMode, ackPadBytes = 0): Promise<RawDevice> {
  const sockets = new Set<net.Socket>();
  const device: RawDevice = { port: 0, connections: 0, messages: [], close: async () => undefined };
  const server = net.createServer((socket) => {
    device.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buf = '';
    socket.on('data', (chunk) => {
      buf += chunk.toString('latin1');
      let end: number;
      while ((end = buf.indexOf('\x1c\r')) !== -1) {
        const start = buf.indexOf('\x0b');
        const msg = buf.slice(start + 1, end);
        buf = buf.slice(end + 2);
        device.messages.push(msg);
        if (mode === 'bigAck') {
          const controlId = msg.split('\r')[0].split('|')[9];
          const ack = `MSH|^~\\&|DEV|X|EP|Y|20250101||ACK|A${controlId}|P|2.5\rMSA|AA|${controlId}\rNTE|1||${'x'.repeat(ackPadBytes)}`;
          socket.write(`\x0b${ack}\x1c\r`, 'latin1');
        }
      }
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      device.port = (server.address() as AddressInfo).port;
      device.close = () =>
        new Promise<void>((done) => {
          for (const s of sockets) s.destroy();
          server.close(() => done());
        });
      resolve(device);
    });
  });
}
