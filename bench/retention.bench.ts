/**
 * Retention purge vs writes (issue 9, #13): 80,000 finished pushes are purged while a writer
 * creates pushes one after another. Reports the worst wait of one write during the purge, for
 * one transaction over everything (the old purge) and for batches of 500 (the hub's now).
 * `npm run bench -- retention`
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LmdbStore } from '../hub/adapters/lmdb-store';
import { newPush } from '../test/support/records';

const PUSHES = 80_000;

async function run(batch: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'edgepush-purge-'));
  const store = new LmdbStore({ path: dir, sync: 'commit' });
  for (let i = 0; i < PUSHES; i += 1000) {
    await Promise.all(Array.from({ length: 1000 }, () => store.create(newPush({ status: 'acked', ackCode: 'AA', completedAt: 1000 }))));
  }
  let done = false;
  let worst = 0;
  let writes = 0;
  const started = performance.now();
  const purge = store.purgeFinished(2000, batch).then((n) => {
    done = true;
    return n;
  });
  while (!done) {
    const t = performance.now();
    await store.create(newPush());
    worst = Math.max(worst, performance.now() - t);
    writes++;
  }
  const purged = await purge;
  const purgeMs = Math.round(performance.now() - started);
  console.log(`batch ${batch}: purged ${purged} in ${purgeMs} ms; ${writes} writes meanwhile, the slowest waited ${worst.toFixed(0)} ms`);
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}

void (async () => {
  await run(PUSHES);
  await run(500);
})();
