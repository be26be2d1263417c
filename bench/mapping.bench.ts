/**
 * Mapping throughput and its cost on the push path (`npm run bench -- mapping`). Prints markdown.
 *
 * 1. Render throughput: the golden FHIR Bundle (ServiceRequest + Patient + Practitioner +
 *    Encounter, every delimiter in values, non-ASCII names) to ORM^O01, and to ASTM records;
 *    CPU time per message, median of 7 rounds, after a warm-up.
 * 2. The push path on the hub's core and store (lmdb, the hub's default 'flush' durability, the
 *    in-process queue), HTTP layer included (handleHttp), relay not involved
 *    (waitForResponse:false): the same ORM sent as `body` (pre-rendered), as `template` + `data`,
 *    and as `application/fhir+json`. CPU and wall time per accepted push, sequential, median of
 *    5 rounds that interleave the variants.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventWatcher } from '../hub/adapters/event-watcher';
import { LmdbStore, type SyncMode } from '../hub/adapters/lmdb-store';
import { MemoryQueue } from '../hub/adapters/memory-queue';
import { systemClock } from '../hub/adapters/system-clock';
import { createCore } from '../lambdas/core/core';
import { memoryInboundPorts } from '../test/support/memory-ports';
import type { Ports } from '../lambdas/core/ports';
import { handleHttp } from '../lambdas/http/router';
import { ORM_O01 } from '../mapping/builtin-templates';
import { fhirContext } from '../mapping/fhir-context';
import { renderFhir } from '../mapping/fhir-mapping';

const N = Number(process.env.MAPPING_BENCH_N ?? 5_000);
const PUSHES = Number(process.env.MAPPING_BENCH_PUSHES ?? 500);
const ROUNDS = 7;
const bundle = JSON.parse(
  readFileSync(join(__dirname, '..', 'test', 'golden', 'mapping', 'service-request-bundle.json'), 'utf8'),
) as unknown;
const options = (i: number) => ({
  now: new Date(),
  pushId: `3b241101-e2bb-4255-8caf-${String(i).padStart(12, '0')}`,
  timeZone: 'Europe/Berlin',
});
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function cpuPerCall(name: string, fn: (i: number) => { text: string }): string {
  let sink = 0;
  for (let i = 0; i < N / 4; i++) sink += fn(i).text.length;
  const cpu: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.cpuUsage();
    for (let i = 0; i < N; i++) sink += fn(i).text.length;
    const used = process.cpuUsage(start);
    cpu.push((used.user + used.system) / N);
  }
  if (sink === 0) throw new Error('unreachable');
  const us = median(cpu);
  return `| ${name} | ${us.toFixed(1)} µs | ${Math.round(1e6 / us).toLocaleString('en-US')} |`;
}

async function pushPath(sync: SyncMode): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'edgepush-mapping-bench-'));
  const store = new LmdbStore({ path: dir, sync });
  const queue = new MemoryQueue();
  const ports: Ports = {
    pushes: store,
    agents: store.agentStore(),
    queue,
    gateway: { post: () => Promise.resolve('gone'), close: () => Promise.resolve() },
    watcher: new EventWatcher(store),
    clock: systemClock,
    secretKey: { get: () => Promise.resolve(Buffer.alloc(32, 1)) },
    templates: store.templateStore(),
    // The push path only: inbound is not exercised here.
    inbound: memoryInboundPorts(),
  };
  // No relay: pushes stay queued, so lift the queue bounds for the run.
  const core = createCore(ports, { maxQueuedPerDestination: 1e9, maxQueuedPerAgent: 1e9 });
  const call = async (method: string, path: string, body: unknown): Promise<number> => {
    const res = await handleHttp(core, { method, path, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return res.status;
  };
  await call('POST', '/agents', { agentId: 'bench' });
  // The template route stores the built-in ORM as a template over the FHIR context.
  await call('PUT', '/templates/orm', { ...ORM_O01, timeZone: 'Europe/Berlin' });
  const body = renderFhir(bundle, 'hl7v2', options(0)).text;
  const data = fhirContext(bundle, new Date());
  const variants: [string, (i: number) => unknown][] = [
    ['`body` (ER7 rendered by the caller)', () => ({ destination: 'lab', body, waitForResponse: false })],
    ['`template` + `data` (stored ORM template)', () => ({ destination: 'lab', template: 'orm', data, waitForResponse: false })],
    [
      '`application/fhir+json` (the Bundle, built-in mapping)',
      () => ({ destination: 'lab', contentType: 'application/fhir+json', body: bundle, waitForResponse: false }),
    ],
  ];
  for (const [, make] of variants) for (let i = 0; i < 50; i++) await call('POST', '/agents/bench/push', make(i)); // warm-up
  // Rounds interleave the variants, so a busy moment on a shared machine hits all of them.
  const wall = variants.map((): number[] => []);
  const cpu = variants.map((): number[] => []);
  for (let r = 0; r < 5; r++) {
    for (const [v, [, make]] of variants.entries()) {
      const start = process.hrtime.bigint();
      const startCpu = process.cpuUsage();
      for (let i = 0; i < PUSHES; i++) {
        const status = await call('POST', '/agents/bench/push', make(i));
        if (status !== 202) throw new Error(`push answered ${status}`);
      }
      const used = process.cpuUsage(startCpu);
      cpu[v].push((used.user + used.system) / PUSHES);
      wall[v].push(Number(process.hrtime.bigint() - start) / 1000 / PUSHES);
    }
  }
  const base = median(cpu[0]);
  const rows = variants.map(([name], v) => {
    const c = median(cpu[v]);
    const extra = v === 0 ? '' : ` (+${(c - base).toFixed(0)} µs)`;
    return `| ${sync} | ${name} | ${c.toFixed(0)} µs${extra} | ${median(wall[v]).toFixed(0)} µs | ${Math.round(1e6 / median(wall[v])).toLocaleString('en-US')} |`;
  });
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return rows;
}

async function main(): Promise<void> {
  const orm = renderFhir(bundle, 'hl7v2', options(0)).text;
  const lines = [
    `FHIR Bundle (4 resources) -> ORM^O01 of ${orm.split('\r').length - 1} segments, ${Buffer.byteLength(orm)} bytes; Node ${process.version}; N=${N}, median of ${ROUNDS} rounds`,
    '',
    '| render | CPU per message | messages/s per core |',
    '|---|---|---|',
    cpuPerCall('FHIR Bundle -> ORM^O01 (context + template + MSH)', (i) => renderFhir(bundle, 'hl7v2', options(i))),
    cpuPerCall('FHIR Bundle -> ASTM H/P/O/C/L', (i) => renderFhir(bundle, 'astm', options(i))),
    '',
    `Push path on the hub's core (lmdb, in-process queue, HTTP layer, no relay), ${PUSHES} sequential pushes, median of 5 interleaved rounds:`,
    '',
    '| store sync | push with | CPU per push (vs body) | wall per push | pushes/s (wall) |',
    '|---|---|---|---|---|',
    ...(await pushPath('flush')),
    ...(await pushPath('commit')),
  ];
  console.log(lines.join('\n'));
}

void main();
