/**
 * One MLLP client alone in its own process, sending to the device at <port>: bench/mllp.bench.ts
 * bundles this runner with esbuild and forks one per client, so no client's heap or JIT state
 * touches another's, then drives them in turns over IPC.
 *
 *   fork(<bundle>, [ours|medplum|bare, <port>, <warmup>])
 * The message comes in MLLP_BENCH_MESSAGE; MLLP_BENCH_OURS is the path of the bundle of
 * bench/mllp-ours.ts (our code, loaded as shipped). After the warm-up it sends 'ready'; each
 * { run: n } is answered with { seconds, cpuMicros } for those n messages, cpuMicros being this
 * process's user + system CPU time; { close: true } closes the client and exits.
 */
import type { MllpDeviceClient } from '../edge-agent/mllp/device-client';
import { bareClient, type Contender, medplumClient, ourClient } from './mllp-contenders';

async function start(impl: string, port: number, message: string): Promise<Contender> {
  if (impl === 'medplum') return medplumClient(port, message);
  if (impl === 'bare') return bareClient(port, message);
  if (impl !== 'ours') throw new Error(`unknown implementation ${impl}`);
  const bundle = process.env.MLLP_BENCH_OURS;
  if (!bundle) throw new Error('MLLP_BENCH_OURS is not set');
  const ours = require(bundle) as { relayDeviceClient(port: number): MllpDeviceClient };
  return ourClient(ours.relayDeviceClient(port), message);
}

async function main(): Promise<void> {
  const [impl, portArg, warmupArg] = process.argv.slice(2);
  const message = process.env.MLLP_BENCH_MESSAGE;
  if (!message || !process.send) throw new Error('run by bench/mllp.bench.ts only (MLLP_BENCH_MESSAGE, IPC)');
  const contender = await start(impl, Number(portArg), message);
  await contender.run(Number(warmupArg));
  process.on('message', (msg: { run?: number; close?: boolean }) => {
    void (async () => {
      if (msg.close) {
        await contender.close();
        process.exit(0);
      }
      const cpu0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      await contender.run(msg.run ?? 0);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const cpu = process.cpuUsage(cpu0);
      process.send!({ seconds, cpuMicros: cpu.user + cpu.system });
    })();
  });
  process.send('ready');
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
