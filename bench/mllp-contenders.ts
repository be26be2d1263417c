/**
 * The three MLLP clients bench/mllp.bench.ts compares, each sending to the same device
 * (bench/mllp-device.mjs): ours, @medplum/hl7's Hl7Client, and a bare `net` client, the floor
 * for any MLLP client (it writes one prebuilt frame and waits for FS: no encoding, no parsing,
 * no correlation).
 */
import { connect } from 'node:net';
import { Hl7Message } from '@medplum/core';
import { Hl7Client } from '@medplum/hl7';
import type { MllpDeviceClient } from '../edge-agent/mllp/device-client';

export interface Contender {
  /** Sends n messages one after another, each waiting for its ACK. */
  run(n: number): Promise<void>;
  close(): Promise<void>;
}

export function ourClient(client: MllpDeviceClient, message: string): Contender {
  return {
    async run(n) {
      for (let i = 0; i < n; i++) {
        const r = await client.send(message);
        if (r.ackCode !== 'AA') throw new Error(`unexpected ${r.ackCode}`);
      }
    },
    close: () => client.close(),
  };
}

export function medplumClient(port: number, message: string): Contender {
  const client = new Hl7Client({ host: '127.0.0.1', port });
  return {
    async run(n) {
      for (let i = 0; i < n; i++) {
        // Its API takes a parsed Hl7Message, as ours takes text; parsing is part of using it.
        const ack = await client.sendAndWait(Hl7Message.parse(message));
        if (ack.getSegment('MSA')?.getField(1)?.toString() !== 'AA') throw new Error('unexpected ACK');
      }
    },
    async close() {
      client.close();
    },
  };
}

export async function bareClient(port: number, message: string): Promise<Contender> {
  const frame = Buffer.from(`\x0b${message}\x1c\r`, 'utf8');
  const socket = connect(port, '127.0.0.1');
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
    },
  };
}
