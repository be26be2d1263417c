/**
 * DynamoPushStore with large bodies in S3, on dynalite and s3rver: the body item holds
 * `bodyKey` instead of the body, reads get the body back (also in another Lambda, which has no
 * copy of it), and an idempotent replay returns the first push.
 */
import { createHash, randomUUID } from 'node:crypto';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { AWS_INLINE_BODY_BYTES } from '../../lambdas/adapters/aws/aws-limits';
import { createClients, type AwsClients } from '../../lambdas/adapters/aws/clients';
import { PK, pushBodyKey, pushKey } from '../../lambdas/adapters/aws/dynamo-keys';
import { DynamoPushStore } from '../../lambdas/adapters/aws/dynamo-push-store';
import { S3BodyStore } from '../../lambdas/adapters/aws/s3-body-store';
import type { PushRecord } from '../../lambdas/core/records';
import {
  TEST_CREDENTIALS,
  TEST_REGION,
  createBucket,
  createTable,
  startDynalite,
  startS3rver,
  type Dynalite,
  type S3rver,
} from './emulators';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

describe('DynamoPushStore with S3 bodies (dynalite, s3rver)', () => {
  let dynalite: Dynalite;
  let s3rver: S3rver;
  let clients: AwsClients;
  const table = `edgepush-${randomUUID()}`;
  const bucket = `bodies-${randomUUID().slice(0, 8)}`;
  let store: DynamoPushStore;

  beforeAll(async () => {
    [dynalite, s3rver] = await Promise.all([startDynalite(), startS3rver()]);
    await Promise.all([createTable(dynalite.endpoint, table), createBucket(s3rver.endpoint, bucket)]);
    clients = createClients({
      region: TEST_REGION,
      credentials: TEST_CREDENTIALS,
      tableName: table,
      queueUrl: 'unused',
      inboundQueueUrl: 'unused',
      managementEndpoint: 'http://127.0.0.1:1',
      retentionDays: 30,
      dynamoEndpoint: dynalite.endpoint,
      bodyBucket: bucket,
      s3Endpoint: s3rver.endpoint,
    });
    store = new DynamoPushStore(clients.dynamo, table, 30, {
      idempotentCreate: 'two-step-for-dynalite',
      bodies: new S3BodyStore(clients.s3!, bucket),
    });
  });
  afterAll(async () => {
    for (const c of [clients.dynamo, clients.sqs, clients.management, clients.secrets, clients.s3]) c?.destroy();
    await Promise.all([dynalite.close(), s3rver.close()]);
  });

  const push = (body: string, idempotencyKey?: string): PushRecord => ({
    pushId: randomUUID(),
    agentId: 'site-1',
    destination: 'lab',
    contentType: 'x-application/hl7-v2+er7',
    body,
    bodyHash: sha(body),
    returnAck: 'first',
    status: 'queued',
    attempts: 0,
    ...(idempotencyKey ? { idempotencyKey } : {}),
    createdAt: Date.now(),
    expiresAt: Date.now() + 3_600_000,
  });
  const raw = async (key: string) =>
    (await clients.dynamo.send(new GetCommand({ TableName: table, Key: { [PK]: key }, ConsistentRead: true }))).Item;
  const item = (pushId: string) => raw(pushKey(pushId));
  const bodyItem = (pushId: string) => raw(pushBodyKey(pushId));
  /** Another Lambda's store: it has no copy of the bodies this one wrote. */
  const elsewhere = () =>
    new DynamoPushStore(clients.dynamo, table, 30, {
      idempotentCreate: 'two-step-for-dynalite',
      bodies: new S3BodyStore(clients.s3!, bucket),
    });

  it('stores a body over the inline limit in S3, reads it back on get and update, and replays it by key', async () => {
    const body = 'MSH|^~\\&|A|B\r' + 'é'.repeat(AWS_INLINE_BODY_BYTES); // multi-byte: bytes, not characters
    const first = push(body, 'key-1');
    expect(await store.create(first)).toMatchObject({ created: true });
    const stored = await bodyItem(first.pushId);
    expect(stored).toMatchObject({ bodyKey: `pushes/${first.pushId}`, bodyHash: sha(body) });
    expect(stored).not.toHaveProperty('body');
    expect(await item(first.pushId)).not.toHaveProperty('bodyKey');
    const s3 = new S3Client({ region: TEST_REGION, endpoint: s3rver.endpoint, forcePathStyle: true, credentials: TEST_CREDENTIALS });
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `pushes/${first.pushId}` }));
    expect(sha(await object.Body!.transformToString('utf-8'))).toBe(sha(body));
    s3.destroy();

    expect(sha((await store.get(first.pushId))!.body)).toBe(sha(body));
    expect(sha((await elsewhere().get(first.pushId))!.body)).toBe(sha(body));
    const sent = await elsewhere().update(first.pushId, ['queued'], { status: 'sent', attempts: 1 }, 0);
    expect(sent).toMatchObject({ status: 'sent', pushId: first.pushId });
    expect(sha(sent!.body)).toBe(sha(body));
    expect(await item(first.pushId)).not.toHaveProperty('body');
    expect(await bodyItem(first.pushId)).not.toHaveProperty('body');

    // The same key again: the first push, body included, and nothing new written.
    const replay = await store.create(push(body, 'key-1'));
    expect(replay.created).toBe(false);
    expect(replay.push.pushId).toBe(first.pushId);
    expect(sha(replay.push.body)).toBe(sha(body));
  });

  it('keeps a body of exactly the inline limit in its body item', async () => {
    const small = push('x'.repeat(AWS_INLINE_BODY_BYTES));
    await store.create(small);
    expect((await elsewhere().get(small.pushId))!.body).toBe(small.body);
    const stored = await bodyItem(small.pushId);
    expect(stored).toMatchObject({ body: small.body });
    expect(stored).not.toHaveProperty('bodyKey');
  });

  it('a body it cannot write to S3 leaves no push behind, with the S3 error', async () => {
    const broken = new DynamoPushStore(clients.dynamo, table, 30, {
      idempotentCreate: 'two-step-for-dynalite',
      bodies: new S3BodyStore(clients.s3!, 'no-such-bucket-here'),
    });
    const big = push('y'.repeat(AWS_INLINE_BODY_BYTES + 1));
    await expect(broken.create(big)).rejects.toThrow(/bucket/i);
    expect(await item(big.pushId)).toBeUndefined();
  });
});
