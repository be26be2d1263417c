/**
 * Retention runs soon after the hub starts (issue 9, #13): a hub restarted more often than the
 * purge interval must still delete old pushes.
 */
import { join } from 'node:path';
import { LmdbStore } from '../../hub/adapters/lmdb-store';
import { startHub } from '../../hub/hub';
import { loadOrCreateKeys } from '../../hub/keys';
import { mintToken } from '../../hub/tokens';
import { tempDir } from './fixtures';
import { newPush } from '../support/records';

it('deletes finished pushes past retention within seconds of starting', async () => {
  const dir = tempDir();
  const day = 86_400_000;
  const old = newPush({ status: 'acked', ackCode: 'AA', createdAt: Date.now() - 40 * day, completedAt: Date.now() - 40 * day });
  const recent = newPush({ status: 'acked', ackCode: 'AA', completedAt: Date.now() - day });
  const seed = new LmdbStore({ path: join(dir.path, 'store') });
  await seed.create(old);
  await seed.create(recent);
  await seed.close();

  const hub = await startHub({ port: 0, dataDir: dir.path, retentionDays: 30 });
  try {
    const token = await mintToken(await loadOrCreateKeys(dir.path));
    const status = async (pushId: string) =>
      (await fetch(`${hub.url}/pushes/${pushId}`, { headers: { authorization: `Bearer ${token}` } })).status;
    expect(await status(old.pushId)).toBe(200);
    const deadline = Date.now() + 15_000;
    while ((await status(old.pushId)) !== 404) {
      if (Date.now() > deadline) throw new Error('the old push was not purged after start');
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(await status(recent.pushId)).toBe(200);
  } finally {
    await hub.close();
    dir.remove();
  }
}, 30_000);
