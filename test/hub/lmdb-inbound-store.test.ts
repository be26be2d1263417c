/**
 * What the hub's inbound store adds beyond the port contract: it survives a reopen (cursors go
 * on from where they were), lists pending deliveries in order for the queue rebuild, and
 * deletes expired messages with their indexes.
 */
import { LmdbInboundStore } from '../../hub/adapters/lmdb-inbound-store';
import { newInbound } from '../support/records';
import { tempDir } from './fixtures';

const DAY = 86_400_000;

describe('LmdbInboundStore', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());

  it('keeps messages, cursors and pending deliveries across a reopen; retention deletes what expired', async () => {
    let store = new LmdbInboundStore({ path: dir.path });
    const now = Date.now();
    const old = (await store.put(newInbound({ expiresAt: now - 1 }), DAY)).message;
    const a = (await store.put(newInbound({ expiresAt: now + DAY }), DAY)).message;
    const b = (await store.put(newInbound({ expiresAt: now + DAY, delivery: { status: 'none', attempts: 0 } }), DAY)).message;
    const c = (await store.put(newInbound({ expiresAt: now + DAY }), DAY)).message;
    await store.updateDelivery(a.messageId, { status: 'delivered', attempts: 1 }, 0);
    await store.close();

    store = new LmdbInboundStore({ path: dir.path });
    expect(store.listPending().map((m) => m.messageId)).toStrictEqual([old.messageId, c.messageId]);
    const d = (await store.put(newInbound({ expiresAt: now + DAY }), DAY)).message;
    expect(Number(d.cursor)).toBe(Number(c.cursor) + 1);

    expect(await store.purgeExpired(now)).toBe(1);
    expect(await store.get(old.messageId)).toBeUndefined();
    expect(store.listPending().map((m) => m.messageId)).toStrictEqual([c.messageId, d.messageId]);
    const listed = await store.list({ agentId: 'agent-1', limit: 10 });
    expect(listed.messages.map((m) => m.messageId)).toStrictEqual([a, b, c, d].map((m) => m.messageId));
    // The expired message's dedupe key is free again.
    expect((await store.put(newInbound({ dedupeKey: old.dedupeKey, expiresAt: now + DAY }), DAY)).created).toBe(true);
    expect(await store.purgeExpired(now)).toBe(0);
    await store.close();
  });

  it('keeps a webhook across a reopen', async () => {
    const hooks = tempDir();
    const path = hooks.path;
    let store = new LmdbInboundStore({ path });
    await store.webhookStore().put({ agentId: 'a1', url: 'https://x.example/h', secretSealed: 'v1.a.b.c', createdAt: 1 });
    await store.close();
    store = new LmdbInboundStore({ path });
    expect(await store.webhookStore().get('a1')).toEqual({
      agentId: 'a1',
      url: 'https://x.example/h',
      secretSealed: 'v1.a.b.c',
      createdAt: 1,
    });
    await store.close();
    hooks.remove();
  });
});
