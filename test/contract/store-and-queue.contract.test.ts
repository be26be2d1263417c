/**
 * The port contract: PushStore, AgentStore and PushQueue semantics the domain core relies
 * on. One suite, run against every adapter set in adapter-sets.ts.
 */
import { randomUUID } from 'node:crypto';
import type { PushRecord } from '../../lambdas/core/records';
import { bodyHash, newAgent, newPush } from '../support/records';
import { adapterSets, type AdapterSet } from './adapter-sets';

const otherAgent = () => `agent-${randomUUID().slice(0, 8)}`;

describe.each(adapterSets)('port contract: $name', (factory) => {
  let set: AdapterSet;
  beforeAll(async () => {
    set = await factory.setup();
  }, 30000);
  afterAll(async () => {
    await set?.cleanup();
  });

  describe('PushStore', () => {
    it('stores a push and reads it back as written', async () => {
      const push = newPush({ idempotencyKey: undefined });
      const result = await set.pushes.create(push);
      expect(result).toEqual({ push, created: true });
      expect(await set.pushes.get(push.pushId)).toEqual(push);
    });

    it('returns undefined for an unknown push', async () => {
      expect(await set.pushes.get(randomUUID())).toBeUndefined();
    });

    it('returns the earlier push when an idempotency key is reused, without writing a second', async () => {
      const first = newPush({ idempotencyKey: 'k1' });
      const again = newPush({ agentId: first.agentId, idempotencyKey: 'k1' });
      expect((await set.pushes.create(first)).created).toBe(true);
      const result = await set.pushes.create(again);
      expect(result.created).toBe(false);
      expect(result.push.pushId).toBe(first.pushId);
      expect(await set.pushes.get(again.pushId)).toBeUndefined();
    });

    it('reports the earlier body hash when a key is reused with a different body', async () => {
      const first = newPush({ idempotencyKey: 'k2' });
      const other = newPush({ agentId: first.agentId, idempotencyKey: 'k2', body: 'MSH|^~\\&|X\r', bodyHash: bodyHash('x') });
      await set.pushes.create(first);
      const result = await set.pushes.create(other);
      expect(result.created).toBe(false);
      expect(result.push.bodyHash).toBe(first.bodyHash);
      expect(result.push.bodyHash).not.toBe(other.bodyHash);
    });

    it('scopes idempotency keys to the agent', async () => {
      const a = newPush({ agentId: otherAgent(), idempotencyKey: 'shared' });
      const b = newPush({ agentId: otherAgent(), idempotencyKey: 'shared' });
      expect((await set.pushes.create(a)).created).toBe(true);
      expect((await set.pushes.create(b)).created).toBe(true);
    });

    it('lets exactly one of many racing creates with one key win', async () => {
      const agentId = otherAgent();
      const racers = Array.from({ length: 8 }, () => newPush({ agentId, idempotencyKey: 'race' }));
      const results = await Promise.all(racers.map((p) => set.pushes.create(p)));
      expect(results.filter((r) => r.created)).toHaveLength(1);
      const winner = results.find((r) => r.created)!.push.pushId;
      expect(new Set(results.map((r) => r.push.pushId))).toEqual(new Set([winner]));
      const stored = await Promise.all(racers.map((p) => set.pushes.get(p.pushId)));
      expect(stored.filter(Boolean)).toHaveLength(1);
    });

    it('applies an update only while the status matches', async () => {
      const push = newPush();
      await set.pushes.create(push);
      const sent = await set.pushes.update(push.pushId, ['queued'], { status: 'sent', attempts: 1, sentAt: 5, connectionId: 'c1' });
      expect(sent).toMatchObject({ pushId: push.pushId, status: 'sent', attempts: 1, sentAt: 5, connectionId: 'c1' });
      expect(await set.pushes.update(push.pushId, ['queued'], { status: 'sent', attempts: 2 })).toBeUndefined();
      expect(await set.pushes.get(push.pushId)).toMatchObject({ status: 'sent', attempts: 1 });
    });

    it('accepts any of several allowed statuses', async () => {
      const push = newPush({ status: 'sent', attempts: 1 });
      await set.pushes.create(push);
      const done = await set.pushes.update(push.pushId, ['queued', 'sent'], { status: 'acked', ackCode: 'AA', completedAt: 9 });
      expect(done).toMatchObject({ status: 'acked', ackCode: 'AA', completedAt: 9 });
    });

    it('checks expectAttempts when given', async () => {
      const push = newPush({ status: 'sent', attempts: 2 });
      await set.pushes.create(push);
      expect(await set.pushes.update(push.pushId, ['sent'], { status: 'queued' }, 1)).toBeUndefined();
      expect(await set.pushes.get(push.pushId)).toMatchObject({ status: 'sent', attempts: 2 });
      expect(await set.pushes.update(push.pushId, ['sent'], { status: 'queued' }, 2)).toMatchObject({ status: 'queued' });
    });

    it('removes attributes whose patch value is undefined', async () => {
      const push = newPush({ status: 'sent', attempts: 1, connectionId: 'c9', queueReceipt: 'r1', error: 'old' });
      await set.pushes.create(push);
      const updated = await set.pushes.update(push.pushId, ['sent'], { status: 'queued', connectionId: undefined, error: undefined });
      expect(updated).toBeDefined();
      expect(updated).not.toHaveProperty('connectionId');
      expect(updated).not.toHaveProperty('error');
      expect(updated!.queueReceipt).toBe('r1');
      const stored = await set.pushes.get(push.pushId);
      expect(stored).not.toHaveProperty('connectionId');
      expect(stored).not.toHaveProperty('error');
    });

    it('stores a nested field as written (a late result on an expired push)', async () => {
      const push = newPush({ status: 'expired', attempts: 1, completedAt: 10 });
      await set.pushes.create(push);
      const lateResult = { status: 'acked' as const, ackCode: 'AA', response: 'MSA|AA|1', receivedAt: 20 };
      expect(await set.pushes.update(push.pushId, ['expired'], { lateResult })).toMatchObject({ status: 'expired', lateResult });
      expect((await set.pushes.get(push.pushId))?.lateResult).toEqual(lateResult);
    });

    it('never rewrites the push id', async () => {
      const push = newPush();
      await set.pushes.create(push);
      const updated = await set.pushes.update(push.pushId, ['queued'], { pushId: 'other', attempts: 1 });
      expect(updated?.pushId).toBe(push.pushId);
      expect(await set.pushes.get('other')).toBeUndefined();
    });

    it('returns undefined when updating an unknown push, and creates nothing', async () => {
      const id = randomUUID();
      expect(await set.pushes.update(id, ['queued'], { status: 'sent' })).toBeUndefined();
      expect(await set.pushes.get(id)).toBeUndefined();
    });

    describe('list', () => {
      // Pushes of one fresh agent, created at distinct times; two share a createdAt.
      const agentId = otherAgent();
      const base = 1_700_000_000_000;
      const made = [
        newPush({ agentId, destination: 'lab', createdAt: base + 1 }),
        newPush({ agentId, destination: 'ris', createdAt: base + 2 }),
        newPush({ agentId, destination: 'lab', createdAt: base + 3, idempotencyKey: 'list-k' }),
        newPush({ agentId, destination: 'lab', createdAt: base + 3 }),
        newPush({ agentId, destination: 'lab', createdAt: base + 4, resendOf: 'p-0' }),
      ];
      const newest = () => [...made].sort((a, b) => b.createdAt - a.createdAt || (a.pushId < b.pushId ? 1 : -1)).map((p) => p.pushId);
      beforeAll(async () => {
        for (const p of made) await set.pushes.create(p);
        await set.pushes.update(made[0].pushId, ['queued'], { status: 'acked', ackCode: 'AA', response: 'MSA|AA', completedAt: base + 9 });
        await set.pushes.create(newPush({ agentId: otherAgent(), createdAt: base + 5 }));
      });

      it("lists an agent's pushes newest first, without bodies or ACK text", async () => {
        const page = await set.pushes.list({ agentId, limit: 50 });
        expect(page.pushes.map((p) => p.pushId)).toEqual(newest());
        expect(page.next).toBeUndefined();
        const acked = page.pushes.find((p) => p.pushId === made[0].pushId)!;
        expect(acked).toEqual({
          pushId: made[0].pushId,
          agentId,
          destination: 'lab',
          contentType: made[0].contentType,
          status: 'acked',
          ackCode: 'AA',
          attempts: 0,
          createdAt: base + 1,
          completedAt: base + 9,
          expiresAt: made[0].expiresAt,
        });
        expect(page.pushes.find((p) => p.pushId === made[4].pushId)?.resendOf).toBe('p-0');
      });

      it('pages with a cursor, and says when there is no more', async () => {
        const seen: string[] = [];
        let after: { createdAt: number; pushId: string } | undefined;
        for (let i = 0; i < 10; i++) {
          const page = await set.pushes.list({ agentId, limit: 2, after });
          expect(page.pushes.length).toBeLessThanOrEqual(2);
          seen.push(...page.pushes.map((p) => p.pushId));
          if (!page.next) break;
          after = page.next;
        }
        expect(seen).toEqual(newest());
      });

      it('filters by destination and status', async () => {
        const labs = await set.pushes.list({ agentId, destination: 'lab', limit: 50 });
        expect(labs.pushes.map((p) => p.pushId)).toEqual(newest().filter((id) => id !== made[1].pushId));
        const acked = await set.pushes.list({ agentId, status: 'acked', limit: 50 });
        expect(acked.pushes.map((p) => p.pushId)).toEqual([made[0].pushId]);
        const none = await set.pushes.list({ agentId, destination: 'ris', status: 'acked', limit: 50 });
        expect(none.pushes).toEqual([]);
      });

      it('lists every agent when no agent is given', async () => {
        const page = await set.pushes.list({ limit: 500 });
        const ids = page.pushes.map((p) => p.pushId);
        for (const id of made.map((p) => p.pushId)) expect(ids).toContain(id);
        const positions = page.pushes.map((p) => p.createdAt);
        expect(positions).toEqual([...positions].sort((a, b) => b - a));
      });
    });
  });

  describe('PushStore queue limits', () => {
    const limits = { perDestination: 2, perAgent: 3 };
    const agentPush = (agentId: string, destination: string, overrides: Partial<PushRecord> = {}) =>
      newPush({ agentId, destination, ...overrides });

    it('refuses an open push past the per-destination limit, writes nothing, and frees the slot when one ends', async () => {
      const agentId = `agent-${randomUUID().slice(0, 8)}`;
      const [a, b, c] = [0, 1, 2].map(() => agentPush(agentId, 'lab'));
      expect((await set.pushes.create(a, limits)).created).toBe(true);
      expect((await set.pushes.create(b, limits)).created).toBe(true);
      expect(await set.pushes.create(c, limits)).toEqual({ push: c, created: false, full: 'destination' });
      expect(await set.pushes.get(c.pushId)).toBeUndefined();
      // Only open pushes count: one ends, a slot frees.
      await set.pushes.update(a.pushId, ['queued'], { status: 'acked', ackCode: 'AA', completedAt: 1 });
      expect((await set.pushes.create(c, limits)).created).toBe(true);
    });

    it('limits open pushes per agent across its destinations', async () => {
      const agentId = `agent-${randomUUID().slice(0, 8)}`;
      for (const d of ['d1', 'd1', 'd2']) expect((await set.pushes.create(agentPush(agentId, d), limits)).created).toBe(true);
      expect((await set.pushes.create(agentPush(agentId, 'd3'), limits)).full).toBe('agent');
      // Another agent is not affected.
      expect((await set.pushes.create(agentPush(`${agentId}-other`, 'd1'), limits)).created).toBe(true);
    });

    it('limits the destinations with open pushes when asked, and counts a destination again once it is empty', async () => {
      const agentId = `agent-${randomUUID().slice(0, 8)}`;
      const few = { perDestination: 5, perAgent: 50, destinations: 2 };
      const first = agentPush(agentId, 'x1');
      expect((await set.pushes.create(first, few)).created).toBe(true);
      expect((await set.pushes.create(agentPush(agentId, 'x2'), few)).created).toBe(true);
      expect((await set.pushes.create(agentPush(agentId, 'x2'), few)).created).toBe(true); // same group
      expect((await set.pushes.create(agentPush(agentId, 'x3'), few)).full).toBe('destinations');
      await set.pushes.update(first.pushId, ['queued'], { status: 'expired', completedAt: 1 });
      expect((await set.pushes.create(agentPush(agentId, 'x3'), few)).created).toBe(true);
    });

    it('does not count an idempotent replay, and counts a push once however often it ends', async () => {
      const agentId = `agent-${randomUUID().slice(0, 8)}`;
      const one = { perDestination: 1, perAgent: 10 };
      const first = agentPush(agentId, 'lab', { idempotencyKey: 'again' });
      expect((await set.pushes.create(first, one)).created).toBe(true);
      const replay = await set.pushes.create(agentPush(agentId, 'lab', { idempotencyKey: 'again' }), one);
      expect(replay).toMatchObject({ created: false, push: { pushId: first.pushId } });
      expect(replay.full).toBeUndefined();
      await set.pushes.update(first.pushId, ['queued'], { status: 'failed', completedAt: 1 });
      // A second terminal write fails its condition and must not uncount anything.
      expect(await set.pushes.update(first.pushId, ['queued'], { status: 'expired', completedAt: 2 })).toBeUndefined();
      expect((await set.pushes.create(agentPush(agentId, 'lab'), one)).created).toBe(true);
      expect((await set.pushes.create(agentPush(agentId, 'lab'), one)).full).toBe('destination');
    });

    it('reports the queue depth (open pushes) per destination asked for, 0 for one with none', async () => {
      const agentId = `agent-${randomUUID().slice(0, 8)}`;
      const [a, b, c] = [agentPush(agentId, 'lab'), agentPush(agentId, 'lab'), agentPush(agentId, 'ris')];
      for (const p of [a, b, c]) expect((await set.pushes.create(p, limits)).created).toBe(true);
      await set.pushes.create(agentPush(`${agentId}-other`, 'lab'), limits);
      expect(await set.pushes.queueDepths(agentId, ['lab', 'ris', 'idle'])).toStrictEqual({ lab: 2, ris: 1, idle: 0 });
      await set.pushes.update(a.pushId, ['queued'], { status: 'sent', attempts: 1 });
      expect((await set.pushes.queueDepths(agentId, ['lab'])).lab).toBe(2); // sent is still open
      await set.pushes.update(a.pushId, ['sent'], { status: 'acked', ackCode: 'AA', completedAt: 1 });
      expect(await set.pushes.queueDepths(agentId, ['lab', 'ris'])).toStrictEqual({ lab: 1, ris: 1 });
      expect(await set.pushes.queueDepths(agentId, [])).toStrictEqual({});
    });

    it('lets exactly the remaining slots go to racing creates', async () => {
      const agentId = `agent-${randomUUID().slice(0, 8)}`;
      const racers = Array.from({ length: 6 }, () => agentPush(agentId, 'race'));
      const results = await Promise.all(racers.map((p) => set.pushes.create(p, { perDestination: 4, perAgent: 100 })));
      expect(results.filter((r) => r.created)).toHaveLength(4);
      expect(results.filter((r) => r.full === 'destination')).toHaveLength(2);
    });
  });

  describe('AgentStore', () => {
    it('creates an agent once; a second create with the id is refused and changes nothing', async () => {
      const agent = newAgent();
      expect(await set.agents.create(agent)).toBe(true);
      expect(await set.agents.create({ ...agent, secretHash: 'other' })).toBe(false);
      expect(await set.agents.get(agent.agentId)).toEqual(agent);
    });

    it('returns undefined for an unknown agent', async () => {
      expect(await set.agents.get('nobody-' + randomUUID())).toBeUndefined();
    });

    it('lists agents, disables and enables one, and deletes it', async () => {
      const agent = newAgent();
      await set.agents.create(agent);
      expect((await set.agents.list()).find((a) => a.agentId === agent.agentId)).toEqual(agent);

      expect(await set.agents.setDisabled(agent.agentId, true)).toEqual({ ...agent, disabled: true });
      expect(await set.agents.get(agent.agentId)).toMatchObject({ disabled: true });
      expect(await set.agents.setDisabled(agent.agentId, false)).toEqual(agent);
      expect(await set.agents.setDisabled('nobody-' + randomUUID(), true)).toBeUndefined();

      expect(await set.agents.delete(agent.agentId)).toBe(true);
      expect(await set.agents.get(agent.agentId)).toBeUndefined();
      expect((await set.agents.list()).some((a) => a.agentId === agent.agentId)).toBe(false);
      expect(await set.agents.delete(agent.agentId)).toBe(false);
    });

    const claim = (connectionId: string, at: number, staleBefore: number, relayInstance?: string) => ({
      connectionId,
      at,
      staleBefore,
      relayInstance,
    });

    it('clears a connection only while it is still current', async () => {
      const agent = newAgent();
      await set.agents.create(agent);
      expect(await set.agents.claimConnection(agent.agentId, claim('conn-1', 100, 0))).toEqual({ outcome: 'claimed' });
      expect(await set.agents.get(agent.agentId)).toMatchObject({ connectionId: 'conn-1', connectedAt: 100, lastSeenAt: 100 });

      // conn-1 went silent (last heard of at 100, before 150): conn-2 takes over.
      expect(await set.agents.claimConnection(agent.agentId, claim('conn-2', 200, 150))).toEqual({
        outcome: 'claimed',
        replaced: 'conn-1',
      });
      // The old connection's late disconnect must not clear the new one.
      expect(await set.agents.clearConnection(agent.agentId, 'conn-1')).toBe(false);
      expect(await set.agents.get(agent.agentId)).toMatchObject({ connectionId: 'conn-2', connectedAt: 200 });

      expect(await set.agents.clearConnection(agent.agentId, 'conn-2')).toBe(true);
      const cleared = await set.agents.get(agent.agentId);
      expect(cleared).not.toHaveProperty('connectionId');
      expect(cleared!.secretHash).toBe(agent.secretHash);
      expect(await set.agents.clearConnection(agent.agentId, 'conn-2')).toBe(false);
    });

    it('replaces the secret hash only while it is still the expected one', async () => {
      const agent = newAgent();
      await set.agents.create(agent);
      expect(await set.agents.replaceSecretHash(agent.agentId, 'not-the-hash', 'hmac-sha256$x')).toBe(false);
      expect(await set.agents.replaceSecretHash(agent.agentId, agent.secretHash, 'hmac-sha256$new')).toBe(true);
      expect(await set.agents.get(agent.agentId)).toEqual({ ...agent, secretHash: 'hmac-sha256$new' });
      expect(await set.agents.replaceSecretHash(agent.agentId, agent.secretHash, 'hmac-sha256$again')).toBe(false);
      expect(await set.agents.replaceSecretHash('nobody-' + randomUUID(), 'a', 'b')).toBe(false);
      expect(await set.agents.get(agent.agentId)).toEqual({ ...agent, secretHash: 'hmac-sha256$new' });
    });

    it('refuses a second connection while the current one is live, and counts the conflict', async () => {
      const agent = newAgent();
      await set.agents.create(agent);
      await set.agents.claimConnection(agent.agentId, claim('live', 1000, 0, 'relay-a'));
      await set.agents.touch(agent.agentId, { lastSeenAt: 5000 });
      // Heard of at 5000, the window starts at 4000: live.
      expect(await set.agents.claimConnection(agent.agentId, claim('intruder', 6000, 4000, 'relay-b'))).toEqual({
        outcome: 'refused',
        liveConnectionId: 'live',
      });
      expect(await set.agents.claimConnection(agent.agentId, claim('no-instance', 6500, 4000))).toEqual({
        outcome: 'refused',
        liveConnectionId: 'live',
      });
      expect(await set.agents.get(agent.agentId)).toMatchObject({
        connectionId: 'live',
        lastSeenAt: 5000,
        relayInstance: 'relay-a',
        conflictAt: 6500,
        conflictCount: 2,
      });
      // The refused connections closing changes nothing.
      expect(await set.agents.clearConnection(agent.agentId, 'intruder')).toBe(false);
      expect((await set.agents.get(agent.agentId))!.connectionId).toBe('live');
    });

    it('lets the same relay process replace its own live connection at once', async () => {
      const agent = newAgent();
      await set.agents.create(agent);
      await set.agents.claimConnection(agent.agentId, claim('first', 1000, 0, 'relay-a'));
      expect(await set.agents.claimConnection(agent.agentId, claim('second', 1100, 500, 'relay-a'))).toEqual({
        outcome: 'claimed',
        replaced: 'first',
      });
      const now = await set.agents.get(agent.agentId);
      expect(now).toMatchObject({ connectionId: 'second', connectedAt: 1100, relayInstance: 'relay-a' });
      expect(now).not.toHaveProperty('conflictAt');
    });

    it('claims a free agent whatever its last-seen time, and refuses nothing for an unknown agent but says so', async () => {
      const agent = newAgent({ lastSeenAt: 10_000 });
      await set.agents.create(agent);
      expect(await set.agents.claimConnection(agent.agentId, claim('c', 10_001, 9_000))).toEqual({ outcome: 'claimed' });
      const ghost = 'ghost-' + randomUUID();
      expect(await set.agents.claimConnection(ghost, claim('c', 1, 0))).toEqual({ outcome: 'unknown-agent' });
      expect(await set.agents.get(ghost)).toBeUndefined();
    });

    it('lets exactly one of two racing claims win', async () => {
      const agent = newAgent();
      await set.agents.create(agent);
      const results = await Promise.all([
        set.agents.claimConnection(agent.agentId, claim('race-1', 100, 0, 'a')),
        set.agents.claimConnection(agent.agentId, claim('race-2', 100, 0, 'b')),
      ]);
      expect(results.filter((r) => r.outcome === 'claimed')).toHaveLength(1);
      expect(results.filter((r) => r.outcome === 'refused')).toHaveLength(1);
    });

    it('touch records lastSeenAt, version and devices, leaving other fields', async () => {
      const agent = newAgent();
      await set.agents.create(agent);
      await set.agents.claimConnection(agent.agentId, claim('conn-t', 10, 0));
      await set.agents.touch(agent.agentId, { lastSeenAt: 50, version: '1.2.3', devices: ['lab', 'ris'] });
      expect(await set.agents.get(agent.agentId)).toMatchObject({
        lastSeenAt: 50,
        version: '1.2.3',
        devices: ['lab', 'ris'],
        connectionId: 'conn-t',
      });
      await set.agents.touch(agent.agentId, { lastSeenAt: 60 });
      expect(await set.agents.get(agent.agentId)).toMatchObject({ lastSeenAt: 60, version: '1.2.3', devices: ['lab', 'ris'] });
      await set.agents.touch(agent.agentId, { lastSeenAt: 70, devices: ['lab', 'an'], deviceProtocols: { lab: 'mllp', an: 'astm' } });
      expect(await set.agents.get(agent.agentId)).toMatchObject({ devices: ['lab', 'an'], deviceProtocols: { lab: 'mllp', an: 'astm' } });
      // The channels of the last hello decide which inbound messages the cloud accepts.
      const channels = [{ name: 'adt', protocol: 'mllp' as const, ack: 'cloud' as const }];
      await set.agents.touch(agent.agentId, { lastSeenAt: 80, channels });
      expect((await set.agents.get(agent.agentId))?.channels).toEqual(channels);
    });

    it('touch and claimConnection for an unknown agent create nothing', async () => {
      const id = 'ghost-' + randomUUID();
      await set.agents.touch(id, { lastSeenAt: 1, version: 'x' });
      await set.agents.claimConnection(id, claim('conn-x', 1, 0));
      expect(await set.agents.get(id)).toBeUndefined();
    });
  });

  describe('PushQueue', () => {
    const probe = () => set.queue;
    /** Receives until the queue has nothing deliverable (bounded). */
    async function drain(): Promise<{ pushId: string; receipt?: string }[]> {
      const seen: { pushId: string; receipt?: string }[] = [];
      for (let i = 0; i < 50; i++) {
        const d = await probe().receiveOne();
        if (!d) break;
        seen.push({ pushId: d.item.pushId, receipt: d.receipt });
      }
      return seen;
    }

    async function releaseAll(deliveries: { pushId: string; receipt?: string }[]) {
      for (const d of deliveries) {
        await probe().port.release(newPush({ pushId: d.pushId, status: 'acked', queueReceipt: d.receipt }));
      }
    }

    it('hands out one push of a group at a time, in order, the next only after release', async () => {
      const agentId = otherAgent();
      const pushes = [0, 1, 2].map(() => newPush({ agentId, destination: 'fifo-dev' }));
      for (const p of pushes) await probe().port.enqueue({ pushId: p.pushId, agentId, destination: 'fifo-dev' });

      const order: string[] = [];
      for (let i = 0; i < 3; i++) {
        const got = await drain();
        // While the head is in flight nothing else of its group is deliverable.
        expect(got).toHaveLength(1);
        order.push(got[0].pushId);
        await releaseAll(got);
      }
      expect(order).toEqual(pushes.map((p) => p.pushId));
      expect(await drain()).toEqual([]);
    });

    it('keeps groups independent: one in flight does not hold back another destination', async () => {
      const agentId = otherAgent();
      const a = newPush({ agentId, destination: 'dev-a' });
      const b = newPush({ agentId, destination: 'dev-b' });
      await probe().port.enqueue({ pushId: a.pushId, agentId, destination: 'dev-a' });
      await probe().port.enqueue({ pushId: b.pushId, agentId, destination: 'dev-b' });
      const got = await drain();
      expect(new Set(got.map((d) => d.pushId))).toEqual(new Set([a.pushId, b.pushId]));
      await releaseAll(got);
    });

    it('carries only the pointer to the push, never the body', async () => {
      const p = newPush({ agentId: otherAgent() });
      await probe().port.enqueue({ pushId: p.pushId, agentId: p.agentId, destination: p.destination, body: p.body } as never);
      const got = await probe().receiveOne();
      expect(got?.item).toEqual({ pushId: p.pushId, agentId: p.agentId, destination: p.destination });
      await releaseAll([{ pushId: p.pushId, receipt: got?.receipt }]);
    });

    it('deduplicates by pushId', async () => {
      const p = newPush({ agentId: otherAgent() });
      const item = { pushId: p.pushId, agentId: p.agentId, destination: p.destination };
      await probe().port.enqueue(item);
      await probe().port.enqueue(item);
      const got = await drain();
      expect(got.map((d) => d.pushId)).toEqual([p.pushId]);
      await releaseAll(got);
      expect(await drain()).toEqual([]);
    });

    it('release without a receipt, with a stale one, or twice does not throw; wake does not throw', async () => {
      const p = newPush({ agentId: otherAgent() });
      await probe().port.enqueue({ pushId: p.pushId, agentId: p.agentId, destination: p.destination });
      const got = await drain();
      await expect(probe().port.release(newPush({ pushId: p.pushId, status: 'acked' }))).resolves.toBeUndefined();
      await releaseAll(got);
      await expect(releaseAll(got)).resolves.toBeUndefined();
      for (const reason of ['connect', 'hello', 'retry'] as const)
        await expect(probe().port.wake(p.agentId, reason)).resolves.toBeUndefined();
    });
  });
});
