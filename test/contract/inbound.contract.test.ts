/**
 * The inbound port contract: InboundStore, WebhookStore and InboundQueue semantics the core's
 * inbound direction relies on. One suite, run against every set in inbound-adapter-sets.ts.
 */
import { randomUUID } from 'node:crypto';
import { DomainError } from '../../lambdas/core/domain-errors';
import type { InboundRecord } from '../../lambdas/core/inbound-records';
import type { InboundQueueItem } from '../../lambdas/core/ports';
import { MAX_BODY_BYTES } from '../../protocol/limits';
import { newInbound } from '../support/records';
import { inboundAdapterSets, type InboundAdapterSet } from './inbound-adapter-sets';

const DAY = 86_400_000;
const freshAgent = () => `agent-${randomUUID().slice(0, 8)}`;
const item = (m: Pick<InboundRecord, 'messageId' | 'agentId' | 'channel'>): InboundQueueItem => ({
  messageId: m.messageId,
  agentId: m.agentId,
  channel: m.channel,
});

describe.each(inboundAdapterSets)('inbound port contract: $name', (factory) => {
  let set: InboundAdapterSet;
  beforeAll(async () => {
    set = await factory.setup();
  }, 30000);
  afterAll(async () => {
    await set?.cleanup();
  });

  describe('InboundStore', () => {
    it('stores a message, assigns a cursor, and reads it back as written', async () => {
      const message = newInbound({ agentId: freshAgent() });
      const result = await set.store.put(message, DAY);
      expect(result.created).toBe(true);
      expect(typeof result.message.cursor).toBe('string');
      expect(result.message).toEqual({ ...message, cursor: result.message.cursor });
      expect(await set.store.get(message.messageId)).toEqual(result.message);
    });

    it('returns undefined for an unknown message', async () => {
      expect(await set.store.get(randomUUID())).toBeUndefined();
    });

    it('dedupes by (agent, channel, dedupeKey) within the window, without writing a second', async () => {
      const agentId = freshAgent();
      const first = newInbound({ agentId, dedupeKey: 'MSG-1' });
      const again = newInbound({ agentId, dedupeKey: 'MSG-1', storedAt: first.storedAt + 1000 });
      await set.store.put(first, DAY);
      const result = await set.store.put(again, DAY);
      expect(result.created).toBe(false);
      expect(result.message.messageId).toBe(first.messageId);
      expect(await set.store.get(again.messageId)).toBeUndefined();
      expect((await set.store.list({ agentId, limit: 10 })).messages.map((m) => m.messageId)).toStrictEqual([first.messageId]);
    });

    it('stores the same key again once the window has passed', async () => {
      const agentId = freshAgent();
      const first = newInbound({ agentId, dedupeKey: 'MSG-2' });
      const later = newInbound({ agentId, dedupeKey: 'MSG-2', storedAt: first.storedAt + 2 * DAY });
      await set.store.put(first, DAY);
      const result = await set.store.put(later, DAY);
      expect(result.created).toBe(true);
      expect(result.message.messageId).toBe(later.messageId);
    });

    it('scopes the dedupe key to the agent and the channel', async () => {
      const agentId = freshAgent();
      const a = await set.store.put(newInbound({ agentId, channel: 'a', dedupeKey: 'K' }), DAY);
      const b = await set.store.put(newInbound({ agentId, channel: 'b', dedupeKey: 'K' }), DAY);
      const c = await set.store.put(newInbound({ agentId: freshAgent(), channel: 'a', dedupeKey: 'K' }), DAY);
      expect([a.created, b.created, c.created]).toStrictEqual([true, true, true]);
    });

    it('lets exactly one of many racing puts with one key win', async () => {
      const agentId = freshAgent();
      const racers = Array.from({ length: 8 }, () => newInbound({ agentId, dedupeKey: 'race' }));
      const results = await Promise.all(racers.map((m) => set.store.put(m, DAY)));
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.message.messageId)).size).toBe(1);
    });

    it('lists oldest first after a cursor, by page, per channel, with next', async () => {
      const agentId = freshAgent();
      const stored: InboundRecord[] = [];
      for (let i = 0; i < 5; i++) {
        stored.push((await set.store.put(newInbound({ agentId, channel: i % 2 ? 'odd' : 'even' }), DAY)).message);
      }
      const first = await set.store.list({ agentId, limit: 2 });
      expect(first.messages.map((m) => m.messageId)).toStrictEqual(stored.slice(0, 2).map((m) => m.messageId));
      expect(first.next).toBe(stored[1].cursor);
      const rest = await set.store.list({ agentId, limit: 10, after: first.next });
      expect(rest.messages.map((m) => m.messageId)).toStrictEqual(stored.slice(2).map((m) => m.messageId));
      const even = await set.store.list({ agentId, channel: 'even', limit: 10 });
      expect(even.messages.map((m) => m.messageId)).toStrictEqual([stored[0], stored[2], stored[4]].map((m) => m.messageId));
      const none = await set.store.list({ agentId, limit: 10, after: rest.next });
      expect(none).toEqual({ messages: [], next: rest.next });
      expect(await set.store.list({ agentId: freshAgent(), limit: 10 })).toEqual({ messages: [] });
    });

    it('a reader following next while messages are stored sees each exactly once, in order', async () => {
      const agentId = freshAgent();
      const writes = Array.from({ length: 40 }, () => newInbound({ agentId }));
      const seen: string[] = [];
      let after: string | undefined;
      const writing = (async () => {
        for (const m of writes) await set.store.put(m, DAY);
      })();
      let done = false;
      void writing.then(() => (done = true));
      while (!done || seen.length < writes.length) {
        const page = await set.store.list({ agentId, limit: 3, after });
        seen.push(...page.messages.map((m) => m.messageId));
        after = page.next;
        if (done && page.messages.length === 0 && seen.length < writes.length) break;
        // Let the writer's commits land between reads (a store may answer reads synchronously).
        await new Promise((resolve) => setImmediate(resolve));
      }
      await writing;
      expect(seen).toStrictEqual(writes.map((m) => m.messageId));
    });

    it('refuses a cursor it did not make with INVALID_QUERY', async () => {
      const err = await set.store.list({ agentId: freshAgent(), limit: 1, after: 'not-a-cursor' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DomainError);
      expect((err as DomainError).code).toBe('INVALID_QUERY');
    });

    it('updates delivery state only while attempts match', async () => {
      const m = (await set.store.put(newInbound({ agentId: freshAgent() }), DAY)).message;
      const failed = await set.store.updateDelivery(
        m.messageId,
        { attempts: 1, lastError: 'HTTP 500', lastAttemptAt: 5, nextAttemptAt: 9 },
        0,
      );
      expect(failed?.delivery).toEqual({ status: 'pending', attempts: 1, lastError: 'HTTP 500', lastAttemptAt: 5, nextAttemptAt: 9 });
      expect(await set.store.updateDelivery(m.messageId, { status: 'delivered', attempts: 1 }, 0)).toBeUndefined();
      const delivered = await set.store.updateDelivery(
        m.messageId,
        { status: 'delivered', attempts: 2, deliveredAt: 10, lastError: undefined, nextAttemptAt: undefined },
        1,
      );
      expect(delivered?.delivery).toEqual({ status: 'delivered', attempts: 2, lastAttemptAt: 5, deliveredAt: 10 });
      expect((await set.store.get(m.messageId))?.delivery).toEqual(delivered?.delivery);
      expect(await set.store.updateDelivery(randomUUID(), { attempts: 1 }, 0)).toBeUndefined();
    });

    it(`stores and returns a body of MAX_BODY_BYTES (${MAX_BODY_BYTES / 1024 / 1024} MB) intact`, async () => {
      const obx = 'OBX|1|ED|PDF||^application^pdf^Base64^' + 'QUJD'.repeat(MAX_BODY_BYTES / 4);
      const body = `MSH|^~\\&|LAB|DEV|EP|HUB|20240101000000||ORU^R01|BIG|P|2.5\r${obx}`.slice(0, MAX_BODY_BYTES);
      const m = newInbound({ agentId: freshAgent(), body });
      await set.store.put(m, DAY);
      const back = await set.store.get(m.messageId);
      expect(back?.body.length).toBe(MAX_BODY_BYTES);
      expect(back?.body === body).toBe(true);
    });
  });

  describe('WebhookStore', () => {
    it('puts, replaces, reads and deletes one webhook per agent', async () => {
      const agentId = freshAgent();
      expect(await set.webhooks.get(agentId)).toBeUndefined();
      await set.webhooks.put({ agentId, url: 'https://a.example/hook', secretSealed: 'v1.x.y.z', createdAt: 1 });
      await set.webhooks.put({ agentId, url: 'https://b.example/hook', secretSealed: 'v1.p.q.r', createdAt: 2 });
      expect(await set.webhooks.get(agentId)).toEqual({ agentId, url: 'https://b.example/hook', secretSealed: 'v1.p.q.r', createdAt: 2 });
      expect(await set.webhooks.delete(agentId)).toBe(true);
      expect(await set.webhooks.get(agentId)).toBeUndefined();
      expect(await set.webhooks.delete(agentId)).toBe(false);
    });
  });

  describe('InboundQueue', () => {
    it('hands out a channel one message at a time, in order; other channels are not held', async () => {
      const agentId = freshAgent();
      const a1 = item(newInbound({ agentId, channel: 'a' }));
      const a2 = item(newInbound({ agentId, channel: 'a' }));
      const b1 = item(newInbound({ agentId, channel: 'b' }));
      for (const i of [a1, a2, b1]) await set.queue.port.enqueue(i);
      const firstTwo = [await set.queue.receiveOne(), await set.queue.receiveOne()];
      expect(firstTwo.map((i) => i?.messageId).sort()).toStrictEqual([a1.messageId, b1.messageId].sort());
      expect(await set.queue.receiveOne()).toBeUndefined(); // a2 waits for a1
      await set.queue.done(a1);
      expect((await set.queue.receiveOne())?.messageId).toBe(a2.messageId);
      await set.queue.done(a2);
      await set.queue.done(b1);
      expect(await set.queue.receiveOne()).toBeUndefined();
    });

    it('deduplicates by messageId while queued', async () => {
      const agentId = freshAgent();
      const head = item(newInbound({ agentId }));
      const next = item(newInbound({ agentId }));
      await set.queue.port.enqueue(head);
      await set.queue.port.enqueue(next);
      await set.queue.port.enqueue(next);
      await set.queue.port.enqueue(head);
      const got: string[] = [];
      for (let i = 0; i < 4; i++) {
        const received = await set.queue.receiveOne();
        if (!received) continue;
        got.push(received.messageId);
        await set.queue.done(received);
      }
      expect(got).toStrictEqual([head.messageId, next.messageId]);
    });
  });
});
