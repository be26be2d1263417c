/** DynamoDB-specific behaviour the port contract does not cover: crash recovery and TTL. */
import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { createClients, type AwsClients } from '../../lambdas/adapters/aws/clients';
import { idempotencyKey, pushKey } from '../../lambdas/adapters/aws/dynamo-keys';
import { DynamoPushStore } from '../../lambdas/adapters/aws/dynamo-push-store';
import type { PushRecord } from '../../lambdas/core/records';
import { newPush } from '../support/records';
import { TEST_CREDENTIALS, TEST_REGION, createTable, startDynalite, type Dynalite } from './emulators';

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
      managementEndpoint: 'http://127.0.0.1:1',
      retentionDays: 7,
      dynamoEndpoint: dynalite.endpoint,
    });
    store = new DynamoPushStore(clients.dynamo, table, 7);
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
        Item: { pk: idempotencyKey(push.agentId, push.idempotencyKey!), pushId: push.pushId, bodyHash: push.bodyHash, ttl: 1 },
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

  it('sets the TTL attribute (epoch seconds) to completedAt + retention on a terminal update only', async () => {
    const push = newPush();
    await store.create(push);
    const raw = async () =>
      (await clients.dynamo.send(new GetCommand({ TableName: table, Key: { pk: pushKey(push.pushId) }, ConsistentRead: true }))).Item!;
    await store.update(push.pushId, ['queued'], { status: 'sent', attempts: 1 });
    expect((await raw()).ttl).toBeUndefined();

    const completedAt = 1_700_000_123_456;
    const done = await store.update(push.pushId, ['sent'], { status: 'acked', completedAt });
    expect((await raw()).ttl).toBe(Math.ceil(completedAt / 1000) + 7 * 86_400);
    // The storage attributes never leak into the domain record.
    expect(done).not.toHaveProperty('ttl');
    expect(done).not.toHaveProperty('pk');
  });

  it('gives the idempotency item the TTL of its finished push, so the key never outlives the push', async () => {
    const push = newPush({ idempotencyKey: 'ttl-1', expiresAt: 1_700_000_000_000 + 7 * 86_400_000 });
    await store.create(push);
    const raw = async (pk: string) =>
      (await clients.dynamo.send(new GetCommand({ TableName: table, Key: { pk }, ConsistentRead: true }))).Item!;
    await store.update(push.pushId, ['queued'], { status: 'sent', attempts: 1 });
    // Acked a second after it was created, days before it would have expired.
    await store.update(push.pushId, ['sent'], { status: 'acked', completedAt: 1_700_000_001_000 });
    const pushTtl = (await raw(pushKey(push.pushId))).ttl as number;
    expect(pushTtl).toBe(1_700_000_001 + 7 * 86_400);
    expect((await raw(idempotencyKey(push.agentId, 'ttl-1'))).ttl).toBeLessThanOrEqual(pushTtl);
  });
});
