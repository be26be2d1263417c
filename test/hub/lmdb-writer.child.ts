/**
 * Child process for the kill -9 test: writes pushes to an lmdb store (and a `sent` marker on
 * every other one), prints each pushId once its write resolved, then waits to be killed.
 */
import { LmdbStore } from '../../hub/adapters/lmdb-store';
import { newPush } from '../support/records';

async function main(): Promise<void> {
  const [path, countArg, markerDelayArg] = process.argv.slice(2);
  const store = new LmdbStore({ path: path, sync: 'commit', markerWriteDelayMs: Number(markerDelayArg ?? 1000) });
  for (let i = 0; i < Number(countArg); i++) {
    const push = newPush({ destination: `dev-${i % 3}`, createdAt: 1000 });
    await store.create(push);
    if (i % 2 === 0) await store.update(push.pushId, ['queued'], { status: 'sent', attempts: 1, sentAt: 5 });
    process.stdout.write(`${push.pushId}\n`);
  }
  process.stdout.write('done\n');
  setInterval(() => undefined, 1000);
}
void main();
