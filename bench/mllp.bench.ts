/**
 * Sequential send-and-wait-for-ACK over MLLP on loopback, three implementations side by side:
 *   (a) our MllpDeviceClient against our startHl7Listener (the code behind `edgepush hl7 listen`)
 *   (b) @medplum/hl7 Hl7Client against Hl7Server
 *   (c) a bare `net` baseline: the client writes a frame, the server writes back a fixed ACK
 *       frame, the client waits for FS CR. No parsing, no correlation: the floor for any MLLP code.
 * Same message, same count for each. Rounds are interleaved so a noisy neighbour on the shared
 * machine hurts all three alike. Prints a markdown table.
 *
 *   npx tsx bench/mllp.bench.ts [--count 20000] [--rounds 4]
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { Hl7Message } from '@medplum/core';
import { Hl7Client, Hl7Server, type Hl7MessageEvent } from '@medplum/hl7';
import { generateExampleAdt } from '../edge-agent/hl7/example';
import { MllpDeviceClient } from '../edge-agent/mllp/device-client';
import { startHl7Listener } from '../edge-agent/mllp/listener';

const args = process.argv.slice(2);
const arg = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? def : Number(args[i + 1]);
};
const COUNT = arg('count', 20000);
const ROUNDS = arg('rounds', 4);
const WARMUP = arg('warmup', 2000);
const MESSAGE = generateExampleAdt();

interface Contender {
  name: string;
  /** Sends n messages one after another, each waiting for its ACK. */
  run(n: number): Promise<void>;
  close(): Promise<void>;
}

async function ours(): Promise<Contender> {
  const listener = await startHl7Listener({ port: 0 });
  const client = new MllpDeviceClient({ host: '127.0.0.1', port: listener.port, idleTimeoutMs: 0 });
  return {
    name: 'edgepush MllpDeviceClient -> startHl7Listener',
    async run(n) {
      for (let i = 0; i < n; i++) {
        const r = await client.send(MESSAGE);
        if (r.ackCode !== 'AA') throw new Error(`unexpected ${r.ackCode}`);
      }
    },
    async close() {
      await client.close();
      await listener.close();
    },
  };
}

async function medplum(): Promise<Contender> {
  const server = new Hl7Server((connection) => {
    connection.addEventListener('message', (event: Hl7MessageEvent) => event.connection.send(event.message.buildAck()));
  });
  server.start(0);
  await new Promise<void>((resolve) => server.server!.once('listening', resolve));
  const client = new Hl7Client({ host: '127.0.0.1', port: (server.server!.address() as { port: number }).port });
  return {
    name: '@medplum/hl7 Hl7Client -> Hl7Server',
    async run(n) {
      for (let i = 0; i < n; i++) {
        // Parsing is part of its API (sendAndWait takes an Hl7Message), as our send takes text.
        const ack = await client.sendAndWait(Hl7Message.parse(MESSAGE));
        if (ack.getSegment('MSA')?.getField(1)?.toString() !== 'AA') throw new Error('unexpected ACK');
      }
    },
    async close() {
      client.close();
      await server.stop();
    },
  };
}

async function bare(): Promise<Contender> {
  const ack = Buffer.from(`\x0bMSH|^~\\&|R|F|S|F|20240101||ACK^A01^ACK|1|P|2.5.1\rMSA|AA|X\r\x1c\r`, 'latin1');
  const frame = Buffer.from(`\x0b${MESSAGE}\x1c\r`, 'utf8');
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.setNoDelay(true);
    s.on('data', (chunk) => {
      for (let i = chunk.indexOf(0x1c); i !== -1; i = chunk.indexOf(0x1c, i + 1)) s.write(ack);
    });
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const socket = connect((server.address() as { port: number }).port, '127.0.0.1');
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
    name: 'bare net MLLP echo (baseline)',
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
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function main(): Promise<void> {
  const contenders = [await ours(), await medplum(), await bare()];
  for (const c of contenders) await c.run(WARMUP);
  const elapsed = contenders.map(() => 0);
  const perRound = Math.ceil(COUNT / ROUNDS);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, c] of contenders.entries()) {
      (globalThis as { gc?: () => void }).gc?.();
      const t0 = process.hrtime.bigint();
      await c.run(perRound);
      elapsed[i] += Number(process.hrtime.bigint() - t0) / 1e9;
    }
  }
  for (const c of contenders) await c.close();

  const rate = elapsed.map((s) => (perRound * ROUNDS) / s);
  const [a, b, c] = rate;
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const out = [
    `Sequential send-and-wait-for-ACK, loopback, ${perRound * ROUNDS} messages each (${ROUNDS} interleaved rounds, ${WARMUP} warm-up), ${Buffer.byteLength(MESSAGE)}-byte ADT^A01, Node ${process.version}`,
    '',
    '| implementation | msg/s | mean round trip (µs) |',
    '| --- | ---: | ---: |',
    ...contenders.map((ct, i) => `| ${ct.name} | ${fmt(rate[i])} | ${((elapsed[i] / (perRound * ROUNDS)) * 1e6).toFixed(1)} |`),
    '',
    `ours / @medplum/hl7: **${(a / b).toFixed(2)}x** (goal >= 3x)  `,
    `ours / bare baseline: **${((a / c) * 100).toFixed(0)}%** (goal >= 70%)`,
  ];
  process.stdout.write(out.join('\n') + '\n');
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
