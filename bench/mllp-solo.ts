/**
 * One MLLP client alone in a fresh process, sending to the device at <port>: bench/mllp.bench.ts
 * bundles this runner with esbuild and runs it once per client per round, so no client's heap
 * or JIT state touches another's.
 *
 *   node <bundle> ours|medplum|bare <port> <count> <warmup>
 * The message comes in MLLP_BENCH_MESSAGE; MLLP_BENCH_OURS is the path of the bundle of
 * bench/mllp-ours.ts (our code, loaded as shipped). Prints one JSON line:
 * {"impl", "count", "seconds", "cpuMicros"}, cpuMicros being this process's user + system CPU
 * time over the measured messages.
 */
import type { MllpDeviceClient } from '../edge-agent/mllp/device-client';
import { bareClient, type Contender, medplumClient, ourClient } from './mllp-contenders';

async function main(): Promise<void> {
  const [impl, portArg, countArg, warmupArg] = process.argv.slice(2);
  const message = process.env.MLLP_BENCH_MESSAGE;
  if (!message) throw new Error('MLLP_BENCH_MESSAGE is not set');
  const port = Number(portArg);
  const count = Number(countArg);
  const warmup = Number(warmupArg);
  let contender: Contender;
  if (impl === 'ours') {
    const bundle = process.env.MLLP_BENCH_OURS;
    if (!bundle) throw new Error('MLLP_BENCH_OURS is not set');
    const ours = require(bundle) as { relayDeviceClient(port: number): MllpDeviceClient };
    contender = ourClient(ours.relayDeviceClient(port), message);
  } else if (impl === 'medplum') contender = medplumClient(port, message);
  else if (impl === 'bare') contender = await bareClient(port, message);
  else throw new Error(`unknown implementation ${impl}`);
  await contender.run(warmup);
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await contender.run(count);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  await contender.close();
  process.stdout.write(`${JSON.stringify({ impl, count, seconds, cpuMicros: cpu.user + cpu.system })}\n`);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
