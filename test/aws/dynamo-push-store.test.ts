/**
 * DynamoDB-specific behaviour the port contract does not cover: crash recovery, TTL, and the
 * body kept in its own item apart from the small status item. On
 * dynalite, so the create runs in its two steps (dynalite has no TransactWriteItems; the
 * transaction's request is checked offline in dynamo-create-transaction.spec.test.ts).
 */
import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { createClients, type AwsClients } from '../../lambdas/adapters/aws/clients';
import { idempotencyKey, pushBodyKey, pushKey } from '../../lambdas/adapters/aws/dynamo-keys';
import { DynamoPushStore } from '../../lambdas/adapters/aws/dynamo-push-store';
import type { PushRecord } from '../../lambdas/core/records';
import { newPush } from '../support/records';
import { TEST_CREDENTIALS, TEST_REGION, createTable, startDynalite, type Dynalite } from './emulators';

const NOW = Date.now();
const DAY = 86_400;

describe('DynamoPushStore on dynalite', () => {
  let dynalite: Dynalite;
  let clients: AwsClients;
  let store: DynamoPushStore;
  const table = 'pushes-' + randomUUID();

  beforeAll(async () => {
    dynalite = await startDynalite();
    await createTable(dynalite.endpoint, table);
    clients = createClients({
      region: TEST_REGION,
      credentials: TEST_CREDENTIALS,
      tableName: table,
      queueUrl: 'unused',
      inboundQueueUrl: 'unused',
      managementEndpoint: 'http://127.0.0.1:1',
      retentionDays: 7,
      dynamoEndpoint: dynalite.endpoint,
    });
    store = new DynamoPushStore(clients.dynamo, table, 7, { idempotentCreate: 'two-step-for-dynalite' });
  });
  afterAll(async () => {
    clients.dynamo.destroy();
    clients.sqs.destroy();
    clients.management.destroy();
    await dynalite.close();
  });

  /** A create that died after claiming the key but before writing the push. */
  async function crashAfterClaim(push: PushRecord): Promise<void> {
    await clients.dynamo.send(
      new PutCommand({
        TableName: table,
        Item: {
          pk: idempotencyKey(push.agentId, push.idempotencyKey!),
          pushId: push.pushId,
          bodyHash: push.bodyHash,
          expiresAt: push.expiresAt,
          ttl: Math.ceil(push.expiresAt / 1000) + 7 * DAY,
        },
      }),
    );
  }

  it('recovers a push whose create crashed between the key claim and the push write', async () => {
    const lost = newPush({ idempotencyKey: 'crash-1' });
    await crashAfterClaim(lost);
    expect(await store.get(lost.pushId)).toBeUndefined();

    const retry = newPush({ idempotencyKey: 'crash-1' });
    const result = await store.create(retry);
    // created=true so the core enqueues it: nothing was enqueued before the crash.
    expect(result.created).toBe(true);
    expect(result.push.pushId).toBe(lost.pushId);
    expect(await store.get(lost.pushId)).toMatchObject({ pushId: lost.pushId, status: 'queued', body: lost.body });
    expect(await store.get(retry.pushId)).toBeUndefined();

    const third = await store.create(newPush({ idempotencyKey: 'crash-1' }));
    expect(third).toMatchObject({ created: false, push: { pushId: lost.pushId } });
  });

  it('does not write a different body under a crashed key: it reports the conflict by hash', async () => {
    const lost = newPush({ idempotencyKey: 'crash-2' });
    await crashAfterClaim(lost);
    const other = newPush({ idempotencyKey: 'crash-2', body: 'MSH|other', bodyHash: 'f'.repeat(64) });
    const result = await store.create(other);
    expect(result.created).toBe(false);
    expect(result.push.bodyHash).toBe(lost.bodyHash);
    expect(await store.get(lost.pushId)).toBeUndefined();
    expect(await store.get(other.pushId)).toBeUndefined();
  });

  it('recovers once when several retries race on a crashed key', async () => {
    const lost = newPush({ idempotencyKey: 'crash-3' });
    await crashAfterClaim(lost);
    const results = await Promise.all([0, 1, 2, 3].map(() => store.create(newPush({ idempotencyKey: 'crash-3' }))));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.push.pushId))).toEqual(new Set([lost.pushId]));
  });

  const raw = async (pk: string) =>
    (await clients.dynamo.send(new GetCommand({ TableName: table, Key: { pk }, ConsistentRead: true }))).Item;

  it('gives a push its TTL when created (expiresAt + retention) and again when it finishes (completedAt + retention)', async () => {
    const push = newPush({ idempotencyKey: 'ttl-0' });
    await store.create(push);
    const createTtl = Math.ceil(push.expiresAt / 1000) + 7 * DAY;
    // A push that never finishes is still deleted: its PHI does not stay forever.
    expect((await raw(pushKey(push.pushId)))!.ttl).toBe(createTtl);
    expect((await raw(idempotencyKey(push.agentId, 'ttl-0')))!.ttl).toBe(createTtl);
    await store.update(push.pushId, ['queued'], { status: 'sent', attempts: 1 });
    expect((await raw(pushKey(push.pushId)))!.ttl).toBe(createTtl);

    const completedAt = NOW + 123_456;
    const done = await store.update(push.pushId, ['sent'], { status: 'acked', completedAt });
    expect((await raw(pushKey(push.pushId)))!.ttl).toBe(Math.ceil(completedAt / 1000) + 7 * DAY);
    // The storage attributes never leak into the domain record.
    expect(done).not.toHaveProperty('ttl');
    expect(done).not.toHaveProperty('pk');
    expect(await store.get(push.pushId)).not.toHaveProperty('ttl');
  });

  it('gives a push without an idempotency key its TTL when created too', async () => {
    const push = newPush();
    await store.create(push);
    expect((await raw(pushKey(push.pushId)))!.ttl).toBe(Math.ceil(push.expiresAt / 1000) + 7 * DAY);
  });

  it('counts an idempotency key whose TTL has passed as absent, though DynamoDB has not deleted it yet', async () => {
    const first = newPush({ idempotencyKey: 'expired-1' });
    await store.create(first);
    // TTL passed an hour ago; DynamoDB deletes up to ~48 h late, so the item is still there.
    await clients.dynamo.send(
      new PutCommand({
        TableName: table,
        Item: { ...(await raw(idempotencyKey(first.agentId, 'expired-1'))), ttl: Math.floor(Date.now() / 1000) - 3600 },
      }),
    );
    const again = newPush({ idempotencyKey: 'expired-1' });
    const result = await store.create(again);
    expect(result).toMatchObject({ created: true, push: { pushId: again.pushId } });
    expect((await raw(idempotencyKey(first.agentId, 'expired-1')))!.pushId).toBe(again.pushId);
    // And from now on the key is the new push's.
    expect(await store.create(newPush({ idempotencyKey: 'expired-1' }))).toMatchObject({ created: false, push: { pushId: again.pushId } });
  });

  it('counts a key as spent when its push is gone and past expiry: TTL deleted the push first', async () => {
    const old = newPush({ idempotencyKey: 'spent-1', createdAt: NOW - 2 * 3_600_000, expiresAt: NOW - 3_600_000 });
    await crashAfterClaim(old); // a key whose push no longer exists
    const again = newPush({ idempotencyKey: 'spent-1' });
    const result = await store.create(again);
    // Not a "crashed create" to recover under the old id: that push is long over.
    expect(result).toMatchObject({ created: true, push: { pushId: again.pushId } });
    expect(await store.get(old.pushId)).toBeUndefined();
  });

  it('keeps the body and its hash in the body item; the status item, updated and polled, holds neither', async () => {
    const push = newPush({ body: 'MSH|^~\\&|A|B\r'.padEnd(400, 'x') });
    await store.create(push);
    const status = await raw(pushKey(push.pushId));
    expect(status).toMatchObject({ status: 'queued', agentId: push.agentId });
    expect(status).not.toHaveProperty('body');
    expect(status).not.toHaveProperty('bodyHash');
    expect(await raw(pushBodyKey(push.pushId))).toMatchObject({ body: push.body, bodyHash: push.bodyHash });
    expect(await store.readStatus(push.pushId)).toBe('queued');
    // Another Lambda (no copy of the body) reads the whole push, and updates it.
    const other = new DynamoPushStore(clients.dynamo, table, 7, { idempotentCreate: 'two-step-for-dynalite' });
    expect(await other.get(push.pushId)).toStrictEqual(push);
    const sent = await new DynamoPushStore(clients.dynamo, table, 7).update(push.pushId, ['queued'], { status: 'sent', attempts: 1 }, 0);
    expect(sent).toMatchObject({ status: 'sent', body: push.body, bodyHash: push.bodyHash });
    expect(await store.readStatus(push.pushId)).toBe('sent');
    expect(await store.readStatus('no-such-push')).toBeUndefined();
  });

  it('gives the body item the create TTL plus a day, so it outlasts a status item that finishes after expiry', async () => {
    const push = newPush();
    await store.create(push);
    expect((await raw(pushBodyKey(push.pushId)))!.ttl).toBe(Math.ceil(push.expiresAt / 1000) + 7 * DAY + DAY);
  });

  it('loses nothing when a create crashed between the body item and the status item', async () => {
    const lost = newPush({ idempotencyKey: 'crash-body' });
    await crashAfterClaim(lost);
    await clients.dynamo.send(
      new PutCommand({ TableName: table, Item: { pk: pushBodyKey(lost.pushId), body: lost.body, bodyHash: lost.bodyHash } }),
    );
    // No status item: the push does not exist, and nothing was enqueued.
    expect(await store.get(lost.pushId)).toBeUndefined();
    expect(await store.readStatus(lost.pushId)).toBeUndefined();
    const retry = await store.create(newPush({ idempotencyKey: 'crash-body' }));
    expect(retry).toMatchObject({ created: true, push: { pushId: lost.pushId } });
    expect(await new DynamoPushStore(clients.dynamo, table, 7).get(lost.pushId)).toMatchObject({ status: 'queued', body: lost.body });
  });

  it('reads and updates a push item written before bodies were apart (body inline)', async () => {
    const old = newPush();
    const { body, bodyHash, ...status } = old;
    await clients.dynamo.send(new PutCommand({ TableName: table, Item: { ...status, body, bodyHash, pk: pushKey(old.pushId), ttl: 1 } }));
    const fresh = new DynamoPushStore(clients.dynamo, table, 7);
    expect(await fresh.get(old.pushId)).toStrictEqual(old);
    expect(await fresh.update(old.pushId, ['queued'], { status: 'sent', attempts: 1 }, 0)).toMatchObject({
      status: 'sent',
      body,
      bodyHash,
    });
  });

  it('by default (production) creates with TransactWriteItems, which dynalite lacks: no silent fallback', async () => {
    const production = new DynamoPushStore(clients.dynamo, table, 7);
    const push = newPush({ idempotencyKey: 'tx-1' });
    // dynalite answers the unknown operation with a bare 400 the SDK calls UnknownError.
    await expect(production.create(push)).rejects.toThrow(/UnknownError|UnknownOperation/);
    expect(await raw(pushKey(push.pushId))).toBeUndefined();
    expect(await raw(idempotencyKey(push.agentId, 'tx-1'))).toBeUndefined();
  });

  it('gives the idempotency item the TTL of its finished push, so the key never outlives the push', async () => {
    const push = newPush({ idempotencyKey: 'ttl-1', expiresAt: NOW + 7 * 86_400_000 });
    await store.create(push);
    await store.update(push.pushId, ['queued'], { status: 'sent', attempts: 1 });
    // Acked a second after it was created, days before it would have expired.
    await store.update(push.pushId, ['sent'], { status: 'acked', completedAt: NOW + 1_000 });
    const pushTtl = (await raw(pushKey(push.pushId)))!.ttl as number;
    expect(pushTtl).toBe(Math.ceil((NOW + 1_000) / 1000) + 7 * DAY);
    expect((await raw(idempotencyKey(push.agentId, 'ttl-1')))!.ttl).toBeLessThanOrEqual(pushTtl);
  });
});
