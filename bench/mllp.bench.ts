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
 *   npx tsx bench/mllp.bench.ts [--count 20000] [--rounds 4] [--warmup 10000]   (needs `npm run build`)
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { build } from 'esbuild';
import { join } from 'node:path';
import { generateExampleAdt } from '../hl7/example';
import {
  BARE_ACK,
  bareClient,
  bareServerInProcess,
  type Contender,
  type Endpoint,
  medplumClient,
  medplumServerInProcess,
  ourClient,
  oursInProcess,
} from './mllp-contenders';

const args = process.argv.slice(2);
const arg = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? def : Number(args[i + 1]);
};
const COUNT = arg('count', 20000);
const ROUNDS = arg('rounds', 4);
// 10,000 warm-up messages: enough for V8 to optimise every contender's hot path; a relay runs for days.
const WARMUP = arg('warmup', 10000);
const MESSAGE = generateExampleAdt();
const CLI = join(__dirname, '../dist/edgepush.js');
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
  return table(
    title,
    contenders.map((c) => c.name),
    elapsed,
    perRound * ROUNDS,
  );
}

function table(title: string, names: readonly string[], elapsed: number[], total: number): string[] {
  const rate = elapsed.map((s) => total / s);
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  return [
    `**${title}**`,
    '',
    '| implementation | msg/s | mean round trip (µs) |',
    '| --- | ---: | ---: |',
    ...names.map((name, i) => `| ${name} | ${fmt(rate[i])} | ${((elapsed[i] / total) * 1e6).toFixed(1)} |`),
    '',
    `ours / @medplum/hl7: **${(rate[0] / rate[1]).toFixed(2)}x** (goal >= 3x); ours / bare baseline: **${((rate[0] / rate[2]) * 100).toFixed(0)}%** (goal >= 70%)`,
    '',
  ];
}

/**
 * Each implementation alone in a fresh process per round, our code bundled as dist/ ships it:
 * no contender's heap, JIT state or module loader (tsx compiles each of our modules on its
 * own, a cross-module call per export) colours another's figures.
 */
async function measureIsolated(title: string): Promise<string[]> {
  // Inside the repo's node_modules, so the bundle resolves @medplum/* as installed.
  const cache = join(__dirname, '..', 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, 'mllp-solo-'));
  try {
    const bundle = join(dir, 'solo.js');
    await build({
      entryPoints: [join(__dirname, 'mllp-solo.ts')],
      outfile: bundle,
      bundle: true,
      platform: 'node',
      target: 'node20',
      packages: 'external',
      logLevel: 'warning',
    });
    const impls = [
      ['ours', 'edgepush MllpDeviceClient -> startHl7Listener (bundled)'],
      ['medplum', '@medplum/hl7 Hl7Client -> Hl7Server'],
      ['bare', 'bare net MLLP echo (baseline)'],
    ] as const;
    const elapsed = impls.map(() => 0);
    const perRound = Math.ceil(COUNT / ROUNDS);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, [impl]] of impls.entries()) {
        const out = execFileSync(process.execPath, [bundle, impl, String(perRound), String(WARMUP)], {
          cwd: join(__dirname, '..'),
          env: { ...process.env, MLLP_BENCH_MESSAGE: MESSAGE },
          encoding: 'utf8',
        });
        elapsed[i] += (JSON.parse(out) as { seconds: number }).seconds;
      }
    }
    return table(
      title,
      impls.map(([, name]) => name),
      elapsed,
      perRound * ROUNDS,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm run bench does)`);
  const out: string[] = [
    `Sequential send-and-wait-for-ACK on loopback: ${Math.ceil(COUNT / ROUNDS) * ROUNDS} messages per implementation in ${ROUNDS} interleaved rounds after ${WARMUP} warm-up, the same ${Buffer.byteLength(MESSAGE)}-byte ADT^A01; Node ${process.version}.`,
    '',
  ];
  out.push(
    ...(await measure('Servers in separate processes (ours: `edgepush hl7 listen`)', [
      ourClient(
        'edgepush MllpDeviceClient -> `edgepush hl7 listen`',
        await child([CLI, 'hl7', 'listen', '0', '--log-level', 'silent']),
        MESSAGE,
      ),
      medplumClient('@medplum/hl7 Hl7Client -> Hl7Server', await child(['-e', MEDPLUM_SERVER_SRC]), MESSAGE),
      await bareClient('bare net MLLP echo (baseline)', await child(['-e', BARE_SERVER_SRC]), MESSAGE),
    ])),
  );
  out.push(
    ...(await measure('Client and server in one process', [
      ourClient('edgepush MllpDeviceClient -> startHl7Listener', await oursInProcess(), MESSAGE),
      medplumClient('@medplum/hl7 Hl7Client -> Hl7Server', await medplumServerInProcess(), MESSAGE),
      await bareClient('bare net MLLP echo (baseline)', await bareServerInProcess(), MESSAGE),
    ])),
  );
  out.push(
    ...(await measureIsolated('Client and server in one process, each implementation alone in a fresh process (ours bundled, as shipped)')),
  );
  process.stdout.write(out.join('\n'));
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
