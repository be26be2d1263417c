import { join } from 'node:path';
import { EventWatcher } from '../../hub/adapters/event-watcher';
import { LmdbStore } from '../../hub/adapters/lmdb-store';
import { newPush } from '../support/records';
import { tempDir } from './fixtures';

describe('EventWatcher', () => {
  let dir: ReturnType<typeof tempDir>;
  let store: LmdbStore;
  let watcher: EventWatcher;
  beforeEach(() => {
    dir = tempDir();
    store = new LmdbStore({ path: join(dir.path, 'store'), sync: 'commit' });
    watcher = new EventWatcher(store);
  });
  afterEach(async () => {
    await store.close();
    dir.remove();
  });

  it('resolves a waiter when the push is notified terminal', async () => {
    const push = newPush();
    await store.create(push);
    const waiting = watcher.waitForTerminal(push.pushId, 5000);
    const done = await store.update(push.pushId, ['queued'], { status: 'acked', ackCode: 'AA', completedAt: Date.now() });
    watcher.notify(done!);
    await expect(waiting).resolves.toMatchObject({ pushId: push.pushId, status: 'acked' });
    expect(watcher.waiting()).toBe(0);
  });

  it('resolves at once for a push that was already terminal (the result won the race)', async () => {
    const push = newPush({ status: 'nacked', ackCode: 'AE', completedAt: 1 });
    await store.create(push);
    await expect(watcher.waitForTerminal(push.pushId, 5000)).resolves.toMatchObject({ status: 'nacked' });
  });

  it('ignores non-terminal notifications and resolves undefined at the timeout', async () => {
    const push = newPush();
    await store.create(push);
    const waiting = watcher.waitForTerminal(push.pushId, 50);
    watcher.notify({ ...push, status: 'sent' });
    await expect(waiting).resolves.toBeUndefined();
    expect(watcher.waiting()).toBe(0);
  });

  it('wakes every concurrent waiter of one push', async () => {
    const push = newPush();
    await store.create(push);
    const waits = Array.from({ length: 20 }, () => watcher.waitForTerminal(push.pushId, 5000));
    watcher.notify({ ...push, status: 'failed', error: 'x' });
    const results = await Promise.all(waits);
    expect(results.every((r) => r?.status === 'failed')).toBe(true);
  });
});
