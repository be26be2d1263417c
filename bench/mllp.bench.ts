/**
 * Relay -> device over MLLP: sequential send-and-wait-for-ACK on loopback, three clients against
 * the same device.
 *   ours     the relay's device client (MllpDeviceClient as DeviceRegistry makes it), bundled by
 *            esbuild as scripts/build.mjs bundles dist/ (bench/mllp-ours.ts)
 *   medplum  @medplum/hl7's Hl7Client
 *   bare     a bare `net` client: writes one prebuilt frame, waits for FS; the floor for any client
 * The device (bench/mllp-device.mjs) is one separate process, started once: a few lines of `net`
 * that answer every frame with an AA for its MSH-10. Each client runs in its own process
 * (bench/mllp-solo.ts, bundled), warmed up once, then the three take turns in many short rounds,
 * so a noisy neighbour on the shared machine hurts all three alike. Reported per client: messages per second, mean round trip, and
 * the client process's CPU time per message (user + system), the steadier figure when other work
 * shares the machine.
 *
 *   npm run bench -- mllp          (or: npx tsx bench/mllp.bench.ts [--count 20000] [--rounds 20] [--warmup 10000])
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
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
const ROUNDS = arg('rounds', 20);
// 10,000 warm-up messages per client: enough for V8 to optimise every client's hot path; a relay runs for days.
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

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

interface ClientProcess {
  run(n: number): Promise<{ seconds: number; cpuMicros: number }>;
  close(): Promise<void>;
}

/** Forks one client (plain node, not tsx) and waits for its warm-up to finish. */
function startClient(runner: string, ours: string, impl: string, port: number): Promise<ClientProcess> {
  const proc: ChildProcess = fork(runner, [impl, String(port), String(WARMUP)], {
    cwd: ROOT,
    execArgv: [],
    env: { ...process.env, MLLP_BENCH_MESSAGE: MESSAGE, MLLP_BENCH_OURS: ours },
  });
  const next = <T>() =>
    new Promise<T>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`the ${impl} client exited with ${code}`));
      proc.once('exit', onExit);
      proc.once('message', (m) => {
        proc.off('exit', onExit);
        resolve(m as T);
      });
    });
  return next<string>().then(() => ({
    run(n) {
      const answer = next<{ seconds: number; cpuMicros: number }>();
      proc.send({ run: n });
      return answer;
    },
    close: () =>
      new Promise<void>((resolve) => {
        proc.once('exit', () => resolve());
        proc.send({ close: true });
      }),
  }));
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
    const clients = await Promise.all(CLIENTS.map(([impl]) => startClient(runner, ours, impl, device.port)));
    const seconds = CLIENTS.map(() => 0);
    const cpuMicros = CLIENTS.map(() => 0);
    /** Per round, ours' msg/s over bare's and over medplum's: neighbours in time, so their median shrugs off bursts of load. */
    const vsBare: number[] = [];
    const vsMedplum: number[] = [];
    const perRound = Math.ceil(COUNT / ROUNDS);
    for (let round = 0; round < ROUNDS; round++) {
      const took: number[] = [];
      for (const [i, client] of clients.entries()) {
        const result = await client.run(perRound);
        took.push(result.seconds);
        seconds[i] += result.seconds;
        cpuMicros[i] += result.cpuMicros;
      }
      vsBare.push(took[2] / took[0]);
      vsMedplum.push(took[1] / took[0]);
    }
    await Promise.all(clients.map((c) => c.close()));
    const total = perRound * ROUNDS;
    const rate = seconds.map((s) => total / s);
    const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
    process.stdout.write(
      [
        `Relay -> device, sequential send-and-wait-for-ACK on loopback: ${total} messages per client in ${ROUNDS} interleaved rounds after ${WARMUP} warm-up messages, each client in its own process; the same ${Buffer.byteLength(MESSAGE)}-byte ADT^A01 and the same device (bench/mllp-device.mjs, its own process) for all; Node ${process.version}.`,
        '',
        '| client | msg/s | mean round trip (µs) | client CPU per message (µs) |',
        '| --- | ---: | ---: | ---: |',
        ...CLIENTS.map(
          ([, name], i) =>
            `| ${name} | ${fmt(rate[i])} | ${((seconds[i] / total) * 1e6).toFixed(1)} | ${(cpuMicros[i] / total).toFixed(1)} |`,
        ),
        '',
        `msg/s, whole run: ours / bare **${((rate[0] / rate[2]) * 100).toFixed(0)}%**, ours / @medplum/hl7 **${(rate[0] / rate[1]).toFixed(2)}x**; ` +
          `median of the ${ROUNDS} rounds: ours / bare **${(median(vsBare) * 100).toFixed(0)}%**, ours / @medplum/hl7 **${median(vsMedplum).toFixed(2)}x**. ` +
          `Client CPU per message: ours / bare **${(cpuMicros[0] / cpuMicros[2]).toFixed(2)}x**, @medplum/hl7 / ours **${(cpuMicros[1] / cpuMicros[0]).toFixed(2)}x**.`,
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
