/**
 * Sequential send-and-wait-for-ACK over MLLP on loopback, three implementations side by side:
 *   (a) our MllpDeviceClient against our listener (`edgepush hl7 listen` / startHl7Listener)
 *   (b) @medplum/hl7 Hl7Client against Hl7Server
 *   (c) a bare `net` baseline: the client writes a frame, the server writes back a fixed ACK
 *       frame, the client waits for FS CR. No parsing, no correlation: the floor for any MLLP code.
 * Same message, same count for each; rounds are interleaved so a noisy neighbour on the shared
 * machine hurts all three alike. Two set-ups, one table each:
 *   - separate processes: each server in its own child process (ours is the real CLI), the
 *     clients here; this is how a relay and a device meet, and how the figures in DESIGN.md
 *     were taken;
 *   - one process: client and server share one event loop, so no process wake-up hides
 *     per-message CPU cost; the harshest view of our overhead.
 *
 *   npx tsx bench/mllp.bench.ts [--count 20000] [--rounds 4] [--warmup 2000]   (needs `npm run build`)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
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
const CLI = join(__dirname, '../dist/edgepush.js');
const BARE_ACK = `\x0bMSH|^~\\&|R|F|S|F|20240101||ACK^A01^ACK|1|P|2.5.1\rMSA|AA|X\r\x1c\r`;

interface Endpoint {
  port: number;
  close(): Promise<void>;
}

interface Contender {
  name: string;
  /** Sends n messages one after another, each waiting for its ACK. */
  run(n: number): Promise<void>;
  close(): Promise<void>;
}

// ---- servers -------------------------------------------------------------------------------

function bareServerInProcess(): Promise<Endpoint> {
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

async function medplumServerInProcess(): Promise<Endpoint> {
  const server = new Hl7Server((connection) => {
    connection.addEventListener('message', (event: Hl7MessageEvent) => event.connection.send(event.message.buildAck()));
  });
  server.start(0);
  await new Promise<void>((resolve) => server.server!.once('listening', resolve));
  return { port: (server.server!.address() as { port: number }).port, close: () => server.stop() };
}

async function oursInProcess(): Promise<Endpoint> {
  const listener = await startHl7Listener({ port: 0 });
  return { port: listener.port, close: () => listener.close() };
}

/** Starts a server in a child process; it prints its port as the first number on stdout. */
function child(argv: string[]): Promise<Endpoint> {
  const proc: ChildProcess = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    proc.once('exit', (code) => reject(new Error(`server ${argv.join(' ')} exited with ${code}`)));
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /(?:^|:)(\d{2,5})\b/m.exec(out);
      if (!m) return;
      proc.removeAllListeners('exit');
      resolve({
        port: Number(m[1]),
        close: () =>
          new Promise<void>((r) => {
            proc.once('exit', () => r());
            proc.kill('SIGTERM');
          }),
      });
    });
  });
}

const BARE_SERVER_SRC = `
const net = require('net');
const ack = Buffer.from(${JSON.stringify(BARE_ACK)}, 'latin1');
const server = net.createServer((s) => {
  s.setNoDelay(true);
  s.on('data', (c) => { for (let i = c.indexOf(0x1c); i !== -1; i = c.indexOf(0x1c, i + 1)) s.write(ack); });
  s.on('error', () => {});
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
process.on('SIGTERM', () => process.exit(0));`;

const MEDPLUM_SERVER_SRC = `
const { Hl7Server } = require('@medplum/hl7');
const server = new Hl7Server((c) => c.addEventListener('message', (e) => e.connection.send(e.message.buildAck())));
server.start(0);
server.server.once('listening', () => console.log(server.server.address().port));
process.on('SIGTERM', () => process.exit(0));`;

// ---- clients -------------------------------------------------------------------------------

function ourClient(name: string, server: Endpoint): Contender {
  const client = new MllpDeviceClient({ host: '127.0.0.1', port: server.port, idleTimeoutMs: 0 });
  return {
    name,
    async run(n) {
      for (let i = 0; i < n; i++) {
        const r = await client.send(MESSAGE);
        if (r.ackCode !== 'AA') throw new Error(`unexpected ${r.ackCode}`);
      }
    },
    async close() {
      await client.close();
      await server.close();
    },
  };
}

function medplumClient(name: string, server: Endpoint): Contender {
  const client = new Hl7Client({ host: '127.0.0.1', port: server.port });
  return {
    name,
    async run(n) {
      for (let i = 0; i < n; i++) {
        // Its API takes a parsed Hl7Message, as ours takes text; parsing is part of using it.
        const ack = await client.sendAndWait(Hl7Message.parse(MESSAGE));
        if (ack.getSegment('MSA')?.getField(1)?.toString() !== 'AA') throw new Error('unexpected ACK');
      }
    },
    async close() {
      client.close();
      await server.close();
    },
  };
}

async function bareClient(name: string, server: Endpoint): Promise<Contender> {
  const frame = Buffer.from(`\x0b${MESSAGE}\x1c\r`, 'utf8');
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

// ---- measurement ---------------------------------------------------------------------------

async function measure(title: string, contenders: Contender[]): Promise<string[]> {
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
  const total = perRound * ROUNDS;
  const rate = elapsed.map((s) => total / s);
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  return [
    `**${title}**`,
    '',
    '| implementation | msg/s | mean round trip (µs) |',
    '| --- | ---: | ---: |',
    ...contenders.map((ct, i) => `| ${ct.name} | ${fmt(rate[i])} | ${((elapsed[i] / total) * 1e6).toFixed(1)} |`),
    '',
    `ours / @medplum/hl7: **${(rate[0] / rate[1]).toFixed(2)}x** (goal >= 3x); ours / bare baseline: **${((rate[0] / rate[2]) * 100).toFixed(0)}%** (goal >= 70%)`,
    '',
  ];
}

async function main(): Promise<void> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm run bench does)`);
  const out: string[] = [
    `Sequential send-and-wait-for-ACK on loopback: ${Math.ceil(COUNT / ROUNDS) * ROUNDS} messages per implementation in ${ROUNDS} interleaved rounds after ${WARMUP} warm-up, the same ${Buffer.byteLength(MESSAGE)}-byte ADT^A01; Node ${process.version}.`,
    '',
  ];
  out.push(
    ...(await measure('Servers in separate processes (ours: `edgepush hl7 listen`)', [
      ourClient('edgepush MllpDeviceClient -> `edgepush hl7 listen`', await child([CLI, 'hl7', 'listen', '0', '--log-level', 'silent'])),
      medplumClient('@medplum/hl7 Hl7Client -> Hl7Server', await child(['-e', MEDPLUM_SERVER_SRC])),
      await bareClient('bare net MLLP echo (baseline)', await child(['-e', BARE_SERVER_SRC])),
    ])),
  );
  out.push(
    ...(await measure('Client and server in one process', [
      ourClient('edgepush MllpDeviceClient -> startHl7Listener', await oursInProcess()),
      medplumClient('@medplum/hl7 Hl7Client -> Hl7Server', await medplumServerInProcess()),
      await bareClient('bare net MLLP echo (baseline)', await bareServerInProcess()),
    ])),
  );
  process.stdout.write(out.join('\n'));
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
