import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { LmdbStore } from '../../hub/adapters/lmdb-store';
import { newAgent, newPush } from '../support/records';
import { tempDir } from './fixtures';

describe('LmdbStore', () => {
  let dir: ReturnType<typeof tempDir>;
  let store: LmdbStore;
  beforeEach(() => {
    dir = tempDir();
    store = new LmdbStore({ path: join(dir.path, 'store') });
  });
  afterEach(async () => {
    await store.close();
    dir.remove();
  });

  it('keeps pushes, agents and idempotency keys across a close and reopen', async () => {
    const push = newPush({ idempotencyKey: 'k1' });
    await store.create(push);
    await store.update(push.pushId, ['queued'], { status: 'acked', ackCode: 'AA', completedAt: Date.now() });
    const agent = newAgent();
    await store.agentStore().create(agent);
    await store.close();

    store = new LmdbStore({ path: join(dir.path, 'store') });
    expect(await store.get(push.pushId)).toMatchObject({ status: 'acked', ackCode: 'AA', body: push.body });
    expect(await store.agentStore().get(agent.agentId)).toEqual(agent);
    const replay = await store.create(newPush({ idempotencyKey: 'k1' }));
    expect(replay).toMatchObject({ created: false, push: { pushId: push.pushId } });
  });

  it('applies conditional updates atomically: of many racing transitions exactly one wins', async () => {
    const push = newPush();
    await store.create(push);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        store.update(push.pushId, ['queued'], { status: 'sent', attempts: 1, connectionId: `c${i}` }, 0),
      ),
    );
    const winners = results.filter(Boolean);
    expect(winners).toHaveLength(1);
    expect(await store.get(push.pushId)).toEqual(winners[0]);
  });

  it('refuses an update whose attempts do not match, and changes nothing', async () => {
    const push = newPush({ status: 'sent', attempts: 2 });
    await store.create(push);
    expect(await store.update(push.pushId, ['sent'], { status: 'queued' }, 1)).toBeUndefined();
    expect(await store.get(push.pushId)).toEqual(push);
  });

  it('applies a patch in place: undefined removes an attribute, the others keep their order', async () => {
    const push = newPush({ status: 'queued', retryAt: 5000, error: 'device down' });
    await store.create(push);
    const updated = await store.update(push.pushId, ['queued'], { status: 'sent', attempts: 1, retryAt: undefined, connectionId: 'c1' });
    const { retryAt: _gone, ...rest } = push;
    const expected = { ...rest, status: 'sent', attempts: 1, connectionId: 'c1' };
    expect(updated).toStrictEqual(expected);
    expect(Object.keys((await store.get(push.pushId)) ?? {})).toStrictEqual(Object.keys(expected));
  });

  it('reads an agent back as written, after every kind of agent write, and hands out copies', async () => {
    const agents = store.agentStore();
    const agent = newAgent();
    await agents.create(agent);
    const read = await agents.get(agent.agentId);
    expect(read).toEqual(agent);
    read!.secretHash = 'changed by a caller';
    expect((await agents.get(agent.agentId))?.secretHash).toBe(agent.secretHash);

    await agents.touch(agent.agentId, { lastSeenAt: 7, devices: ['lab'] });
    expect(await agents.get(agent.agentId)).toMatchObject({ lastSeenAt: 7, devices: ['lab'] });
    await agents.claimConnection(agent.agentId, { connectionId: 'c1', at: 8, staleBefore: 0 });
    expect((await agents.get(agent.agentId))?.connectionId).toBe('c1');
    await agents.clearConnection(agent.agentId, 'c1');
    expect((await agents.get(agent.agentId))?.connectionId).toBeUndefined();
    await agents.setDisabled(agent.agentId, true);
    expect((await agents.get(agent.agentId))?.disabled).toBe(true);
    await agents.delete(agent.agentId);
    expect(await agents.get(agent.agentId)).toBeUndefined();
  });

  it('lists open pushes in acceptance order, dropping those that became terminal', async () => {
    const pushes = Array.from({ length: 5 }, (_, i) => newPush({ createdAt: 1000, destination: `d${i % 2}` }));
    for (const p of pushes) await store.create(p);
    await store.update(pushes[1].pushId, ['queued'], { status: 'failed', error: 'x', completedAt: 2000 });
    await store.update(pushes[3].pushId, ['queued'], { status: 'sent', attempts: 1 });
    expect(store.listOpen().map((p) => p.pushId)).toEqual([pushes[0], pushes[2], pushes[3], pushes[4]].map((p) => p.pushId));
  });

  it('purges finished pushes older than the retention cut-off, and their idempotency keys', async () => {
    const old = newPush({ idempotencyKey: 'old' });
    const recent = newPush();
    const open = newPush();
    for (const p of [old, recent, open]) await store.create(p);
    await store.update(old.pushId, ['queued'], { status: 'acked', ackCode: 'AA', completedAt: 1_000 });
    await store.update(recent.pushId, ['queued'], { status: 'acked', ackCode: 'AA', completedAt: 5_000 });
    expect(await store.purgeFinished(2_000)).toBe(1);
    expect(await store.get(old.pushId)).toBeUndefined();
    expect(await store.get(recent.pushId)).toBeDefined();
    expect(await store.get(open.pushId)).toBeDefined();
    // The key is free again once its push is gone.
    expect((await store.create(newPush({ idempotencyKey: 'old' }))).created).toBe(true);
  });

  it('purges in small transactions, so a write issued meanwhile does not wait for the whole purge', async () => {
    await store.close();
    store = new LmdbStore({ path: join(dir.path, 'store'), sync: 'commit' });
    const finished = Array.from({ length: 3000 }, () => newPush({ status: 'acked', ackCode: 'AA', completedAt: 1_000 }));
    await Promise.all(finished.map((p) => store.create(p)));
    const order: string[] = [];
    const purge = store.purgeFinished(2_000, 100).then((n) => {
      order.push('purge');
      return n;
    });
    // Let the purge's first batch begin, then write: one transaction over every old push would
    // commit before this create; batches let it in between.
    await new Promise((r) => setImmediate(r));
    const write = store.create(newPush()).then(() => order.push('write'));
    await Promise.all([purge, write]);
    expect(order).toEqual(['write', 'purge']);
    expect(await purge).toBe(3000);
    expect(await store.get(finished[2999].pushId)).toBeUndefined();
  });

  it('keeps a marker in memory, where reads see it, and writes it after markerWriteDelayMs', async () => {
    await store.close();
    store = new LmdbStore({ path: join(dir.path, 'markers'), markerWriteDelayMs: 100 });
    const push = newPush();
    await store.create(push);
    const sent = await store.update(push.pushId, ['queued'], { status: 'sent', attempts: 1, sentAt: 5, connectionId: 'c1' }, 0);
    expect(await store.get(push.pushId)).toStrictEqual(sent);
    expect(store.listOpen().map((p) => p.status)).toStrictEqual(['queued']); // not on disk yet
    // A second marker on top of the first, decided against it.
    expect(await store.update(push.pushId, ['queued'], { status: 'sent' })).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(store.listOpen().map((p) => ({ ...p }))).toStrictEqual([sent]);
  });

  it('writes a result over an unwritten marker with the marker fields, and the other markers at close', async () => {
    const [answered, inFlight] = [newPush(), newPush()];
    for (const p of [answered, inFlight]) {
      await store.create(p);
      await store.update(p.pushId, ['queued'], { status: 'sent', attempts: 1, sentAt: 5, connectionId: 'c1' }, 0);
    }
    const acked = await store.update(answered.pushId, ['sent'], { status: 'acked', ackCode: 'AA', completedAt: 9 });
    expect(acked).toMatchObject({ status: 'acked', attempts: 1, sentAt: 5, connectionId: 'c1' });
    // A repeated result finds it acked.
    expect(await store.update(answered.pushId, ['sent'], { status: 'nacked', completedAt: 10 })).toBeUndefined();
    await store.close();

    store = new LmdbStore({ path: join(dir.path, 'store') });
    expect({ ...(await store.get(answered.pushId)) }).toStrictEqual(acked);
    expect(await store.get(inFlight.pushId)).toMatchObject({ status: 'sent', attempts: 1, connectionId: 'c1' });
  });

  it('loses no accepted push when its process is killed with SIGKILL; markers younger than the delay are lost', async () => {
    await store.close();
    const path = join(dir.path, 'killed');
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'lmdb-writer.child.ts'), path, '20', '600000'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const written: string[] = [];
    await new Promise<void>((resolve, reject) => {
      let buffer = '';
      child.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        const lines = buffer.split('\n');
        buffer = lines.pop()!;
        for (const line of lines) {
          if (line === 'done') {
            child.kill('SIGKILL');
            resolve();
          } else written.push(line);
        }
      });
      child.on('exit', (code) => (code !== null && code !== 0 ? reject(new Error(`child exited ${code}`)) : undefined));
    });
    await new Promise((resolve) => child.once('exit', resolve));

    store = new LmdbStore({ path });
    expect(written).toHaveLength(20);
    const open = store.listOpen();
    expect(open.map((p) => p.pushId)).toEqual(written);
    // The `sent` markers were still in memory: those pushes are queued again, to be re-sent.
    expect(open.map((p) => p.status)).toStrictEqual(written.map(() => 'queued'));
  }, 20000);
});
