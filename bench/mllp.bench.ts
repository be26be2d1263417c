/**
 * Relay -> device over MLLP: sequential send-and-wait-for-ACK on loopback, three clients against
 * the same device.
 *   ours     the relay's device client (MllpDeviceClient as DeviceRegistry makes it), bundled by
 *            esbuild as scripts/build.mjs bundles dist/ (bench/mllp-ours.ts)
 *   medplum  @medplum/hl7's Hl7Client
 *   bare     a bare `net` client: writes one prebuilt frame, waits for FS; the floor for any client
 * The device (bench/mllp-device.mjs) is one separate process, started once: a few lines of `net`
 * that answer every frame with an AA for its MSH-10. Each client runs alone in a fresh process
 * per round (bench/mllp-solo.ts, bundled), rounds interleaved so a noisy neighbour on the shared
 * machine hurts all three alike. Reported per client: messages per second, mean round trip, and
 * the client process's CPU time per message.
 *
 *   npm run bench -- mllp          (or: npx tsx bench/mllp.bench.ts [--count 20000] [--rounds 4] [--warmup 10000])
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build, type BuildOptions } from 'esbuild';
import { generateExampleAdt } from '../hl7/example';

const args = process.argv.slice(2);
const arg = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? def : Number(args[i + 1]);
};
const COUNT = arg('count', 20000);
const ROUNDS = arg('rounds', 4);
// 10,000 warm-up messages in each fresh process: enough for V8 to optimise every client's hot path; a relay runs for days.
const WARMUP = arg('warmup', 10000);
const MESSAGE = generateExampleAdt();
const ROOT = join(__dirname, '..');

const CLIENTS = [
  ['ours', 'edgepush relay device client (MllpDeviceClient, bundled)'],
  ['medplum', '@medplum/hl7 Hl7Client'],
  ['bare', 'bare net client (floor)'],
] as const;

/** scripts/build.mjs's options for dist/: our code bundled, npm packages left to node_modules. */
const AS_SHIPPED: BuildOptions = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  packages: 'external',
  logLevel: 'warning',
};

/** Starts the device in its own process; it prints its port. */
function startDevice(): Promise<{ port: number; close(): Promise<void> }> {
  const proc = spawn(process.execPath, [join(__dirname, 'mllp-device.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`the bench device exited with ${code}`)));
    proc.stdout.once('data', (d: Buffer) => {
      proc.removeAllListeners('exit');
      resolve({
        port: Number(d.toString().trim()),
        close: () =>
          new Promise<void>((r) => {
            proc.once('exit', () => r());
            proc.kill('SIGTERM');
          }),
      });
    });
  });
}

async function main(): Promise<void> {
  // Inside the repo's node_modules, so the bundles resolve pino and @medplum/* as installed.
  const cache = join(ROOT, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, 'mllp-bench-'));
  const device = await startDevice();
  try {
    const ours = join(dir, 'ours.js');
    const runner = join(dir, 'solo.js');
    await build({ ...AS_SHIPPED, entryPoints: [join(__dirname, 'mllp-ours.ts')], outfile: ours });
    await build({ ...AS_SHIPPED, entryPoints: [join(__dirname, 'mllp-solo.ts')], outfile: runner });
    const seconds = CLIENTS.map(() => 0);
    const cpuMicros = CLIENTS.map(() => 0);
    const perRound = Math.ceil(COUNT / ROUNDS);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, [impl]] of CLIENTS.entries()) {
        const out = execFileSync(process.execPath, [runner, impl, String(device.port), String(perRound), String(WARMUP)], {
          cwd: ROOT,
          env: { ...process.env, MLLP_BENCH_MESSAGE: MESSAGE, MLLP_BENCH_OURS: ours },
          encoding: 'utf8',
        });
        const result = JSON.parse(out) as { seconds: number; cpuMicros: number };
        seconds[i] += result.seconds;
        cpuMicros[i] += result.cpuMicros;
      }
    }
    const total = perRound * ROUNDS;
    const rate = seconds.map((s) => total / s);
    const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
    process.stdout.write(
      [
        `Relay -> device, sequential send-and-wait-for-ACK on loopback: ${total} messages per client in ${ROUNDS} interleaved rounds, each in a fresh process after ${WARMUP} warm-up messages; the same ${Buffer.byteLength(MESSAGE)}-byte ADT^A01 and the same device (bench/mllp-device.mjs, its own process) for all; Node ${process.version}.`,
        '',
        '| client | msg/s | mean round trip (µs) | client CPU per message (µs) |',
        '| --- | ---: | ---: | ---: |',
        ...CLIENTS.map(
          ([, name], i) =>
            `| ${name} | ${fmt(rate[i])} | ${((seconds[i] / total) * 1e6).toFixed(1)} | ${(cpuMicros[i] / total).toFixed(1)} |`,
        ),
        '',
        `ours / bare: **${((rate[0] / rate[2]) * 100).toFixed(0)}%**; ours / @medplum/hl7: **${(rate[0] / rate[1]).toFixed(2)}x**`,
        '',
      ].join('\n'),
    );
  } finally {
    await device.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
