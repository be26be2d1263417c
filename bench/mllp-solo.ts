/**
 * One MLLP contender, client and server in this process and nothing else loaded: the
 * isolated table of bench/mllp.bench.ts runs this (bundled by esbuild, as dist/ ships our
 * code) once per implementation per round, so no contender's heap or JIT state touches another.
 *
 *   node <bundle> ours|medplum|bare <count> <warmup>    (the message comes in MLLP_BENCH_MESSAGE)
 * Prints one JSON line: {"impl", "count", "seconds"}.
 */
import {
  bareClient,
  bareServerInProcess,
  type Contender,
  medplumClient,
  medplumServerInProcess,
  ourClient,
  oursInProcess,
} from './mllp-contenders';

async function main(): Promise<void> {
  const [impl, countArg, warmupArg] = process.argv.slice(2);
  const message = process.env.MLLP_BENCH_MESSAGE;
  if (!message) throw new Error('MLLP_BENCH_MESSAGE is not set');
  const count = Number(countArg);
  const warmup = Number(warmupArg);
  let contender: Contender;
  if (impl === 'ours') contender = ourClient(impl, await oursInProcess(), message);
  else if (impl === 'medplum') contender = medplumClient(impl, await medplumServerInProcess(), message);
  else if (impl === 'bare') contender = await bareClient(impl, await bareServerInProcess(), message);
  else throw new Error(`unknown implementation ${impl}`);
  await contender.run(warmup);
  const t0 = process.hrtime.bigint();
  await contender.run(count);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await contender.close();
  process.stdout.write(`${JSON.stringify({ impl, count, seconds })}\n`);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
