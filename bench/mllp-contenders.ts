/**
 * The three MLLP contenders of bench/mllp.bench.ts (ours, @medplum/hl7, a bare `net` echo),
 * shared by the side-by-side run and by bench/mllp-solo.ts, which runs one of them alone in a
 * fresh process.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { Hl7Message } from '@medplum/core';
import { Hl7Client, Hl7Server, type Hl7MessageEvent } from '@medplum/hl7';
import { MllpDeviceClient } from '../edge-agent/mllp/device-client';
import { startHl7Listener } from '../edge-agent/mllp/listener';

export const BARE_ACK = `\x0bMSH|^~\\&|R|F|S|F|20240101||ACK^A01^ACK|1|P|2.5.1\rMSA|AA|X\r\x1c\r`;

export interface Endpoint {
  port: number;
  close(): Promise<void>;
}

export interface Contender {
  name: string;
  /** Sends n messages one after another, each waiting for its ACK. */
  run(n: number): Promise<void>;
  close(): Promise<void>;
}

// ---- servers -------------------------------------------------------------------------------

export function bareServerInProcess(): Promise<Endpoint> {
  const ack = Buffer.from(BARE_ACK, 'latin1');
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.setNoDelay(true);
    s.on('data', (chunk) => {
      for (let i = chunk.indexOf(0x1c); i !== -1; i = chunk.indexOf(0x1c, i + 1)) s.write(ack);
    });
    s.on('close', () => sockets.delete(s));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: (server.address() as { port: number }).port,
        close: () => {
          for (const s of sockets) s.destroy();
          return new Promise<void>((r) => server.close(() => r()));
        },
      }),
    ),
  );
}

export async function medplumServerInProcess(): Promise<Endpoint> {
  const server = new Hl7Server((connection) => {
    connection.addEventListener('message', (event: Hl7MessageEvent) => event.connection.send(event.message.buildAck()));
  });
  server.start(0);
  await new Promise<void>((resolve) => server.server!.once('listening', resolve));
  return { port: (server.server!.address() as { port: number }).port, close: () => server.stop() };
}

export async function oursInProcess(): Promise<Endpoint> {
  const listener = await startHl7Listener({ port: 0 });
  return { port: listener.port, close: () => listener.close() };
}

// ---- clients -------------------------------------------------------------------------------

export function ourClient(name: string, server: Endpoint, message: string): Contender {
  const client = new MllpDeviceClient({ host: '127.0.0.1', port: server.port, idleTimeoutMs: 0 });
  return {
    name,
    async run(n) {
      for (let i = 0; i < n; i++) {
        const r = await client.send(message);
        if (r.ackCode !== 'AA') throw new Error(`unexpected ${r.ackCode}`);
      }
    },
    async close() {
      await client.close();
      await server.close();
    },
  };
}

export function medplumClient(name: string, server: Endpoint, message: string): Contender {
  const client = new Hl7Client({ host: '127.0.0.1', port: server.port });
  return {
    name,
    async run(n) {
      for (let i = 0; i < n; i++) {
        // Its API takes a parsed Hl7Message, as ours takes text; parsing is part of using it.
        const ack = await client.sendAndWait(Hl7Message.parse(message));
        if (ack.getSegment('MSA')?.getField(1)?.toString() !== 'AA') throw new Error('unexpected ACK');
      }
    },
    async close() {
      client.close();
      await server.close();
    },
  };
}

export async function bareClient(name: string, server: Endpoint, message: string): Promise<Contender> {
  const frame = Buffer.from(`\x0b${message}\x1c\r`, 'utf8');
  const socket = connect(server.port, '127.0.0.1');
  socket.setNoDelay(true);
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  let waiting: (() => void) | undefined;
  socket.on('data', (chunk) => {
    if (chunk.indexOf(0x1c) !== -1 && waiting) {
      const w = waiting;
      waiting = undefined;
      w();
    }
  });
  return {
    name,
    async run(n) {
      for (let i = 0; i < n; i++) {
        await new Promise<void>((resolve) => {
          waiting = resolve;
          socket.write(frame);
        });
      }
    },
    async close() {
      socket.destroy();
      await server.close();
    },
  };
}
