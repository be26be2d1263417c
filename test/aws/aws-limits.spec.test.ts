/**
 * Spec test: the AWS limits that bound large messages (lambdas/adapters/aws/aws-limits.ts), as
 * AWS documents them:
 * - DynamoDB items are at most 400 KB, attribute names included
 *   (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html);
 * - a synchronous Lambda invocation's payload is at most 6 MB
 *   (https://docs.aws.amazon.com/lambda/latest/dg/API_Invoke.html);
 * - an HTTP API payload is at most 10 MB
 *   (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html);
 * - a WebSocket API message is at most 128 KB and a frame 32 KB (protocol/limits.ts).
 * Bodies over AWS_INLINE_BODY_BYTES go to S3, so the item no longer bounds the body: the
 * Lambda payload does. The arithmetic is checked offline; the item limit also on dynalite,
 * which enforces 400 KB.
 */
import { randomUUID } from 'node:crypto';
import {
  AWS_INLINE_BODY_BYTES,
  AWS_MAX_BODY_BYTES,
  DYNAMODB_MAX_ITEM_BYTES,
  HTTP_API_PAYLOAD_BYTES,
  LAMBDA_SYNC_PAYLOAD_BYTES,
} from '../../lambdas/adapters/aws/aws-limits';
import { createClients, type AwsClients } from '../../lambdas/adapters/aws/clients';
import { DynamoChunkStore } from '../../lambdas/adapters/aws/dynamo-chunk-store';
import { DynamoPushStore } from '../../lambdas/adapters/aws/dynamo-push-store';
import type { PushRecord } from '../../lambdas/core/records';
import { cloudWireMessages, relayWireMessages, splitMessage } from '../../protocol/chunks';
import {
  CHUNK_DATA_BYTES,
  MAX_BODY_BYTES,
  MAX_CHUNKED_MESSAGE_BYTES,
  MAX_ERROR_TEXT_LENGTH,
  MAX_MESSAGE_BYTES,
} from '../../protocol/limits';
import { TEST_CREDENTIALS, TEST_REGION, createTable, startDynalite, type Dynalite } from './emulators';

/**
 * The synchronous invocation payload API Gateway sends the http function for POST /push: an
 * HTTP API payload v2 event whose `body` is the request's JSON as a string, so the push body
 * is JSON-escaped twice (a \r is `\r` in the request and `\\r` in the event: 3 bytes).
 */
const pushEventBytes = (body: string) =>
  Buffer.byteLength(
    JSON.stringify({
      version: '2.0',
      routeKey: 'POST /agents/{agentId}/push',
      rawPath: `/agents/${'a'.repeat(64)}/push`,
      rawQueryString: '',
      // Generous: signed IAM requests carry a few headers of a few hundred bytes.
      headers: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`x-header-${i}`, 'h'.repeat(200)])),
      requestContext: { accountId: '123456789012', apiId: 'abcdefghij', http: { method: 'POST' }, requestId: 'r'.repeat(40) },
      body: JSON.stringify({ destination: 'd'.repeat(128), idempotencyKey: 'k'.repeat(255), body }),
      isBase64Encoded: false,
    }),
  );
/**
 * A body of exactly `bytes` bytes: an MSH segment, then segments of `segment` bytes ending in
 * \r (the only character in it that JSON escapes, after the MSH's one backslash).
 */
const hl7Body = (bytes: number, segment: number) =>
  ('MSH|^~\\&|A|B|C|D|20240101||ORU^R01|1|P|2.5\r' + ('O'.repeat(segment - 1) + '\r').repeat(Math.ceil(bytes / segment))).slice(0, bytes);

describe('AWS limits (offline)', () => {
  it('a chunk message fits one WebSocket message, and a part fits one DynamoDB item', () => {
    const parts = cloudWireMessages('x'.repeat(3 * CHUNK_DATA_BYTES + 1));
    for (const text of [...parts, ...relayWireMessages('é'.repeat(2 * CHUNK_DATA_BYTES))]) {
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    }
    const [part] = splitMessage('x'.repeat(MAX_CHUNKED_MESSAGE_BYTES));
    // The part item: a key of two ids (128 characters each) and the base64 data.
    expect(part.data.length + 2 * 128 + 64).toBeLessThan(DYNAMODB_MAX_ITEM_BYTES / 4);
  });

  it('the largest inline body, with the largest ACK text, leaves room in the 400 KB push item', () => {
    expect(AWS_INLINE_BODY_BYTES + MAX_MESSAGE_BYTES + 2 * MAX_ERROR_TEXT_LENGTH).toBeLessThan(DYNAMODB_MAX_ITEM_BYTES - 8 * 1024);
  });

  it("a push of the AWS maximum body fits Lambda's 6 MB payload while its escaping adds under 1 MiB", () => {
    // The rule (aws-limits.ts): body bytes + what escaping adds + the event's other fields <= 6 MB.
    expect(LAMBDA_SYNC_PAYLOAD_BYTES - AWS_MAX_BODY_BYTES).toBe(1024 * 1024);
    const hl7 = hl7Body(AWS_MAX_BODY_BYTES, 80); // a segment every 80 bytes, typical of HL7 v2
    expect(Buffer.byteLength(hl7)).toBe(AWS_MAX_BODY_BYTES);
    expect(pushEventBytes(hl7)).toBeLessThan(LAMBDA_SYNC_PAYLOAD_BYTES);
    // Even a \r every 12 bytes fits: 5 MiB / 12 * 2 = 874 KiB of escaping.
    expect(pushEventBytes(hl7Body(AWS_MAX_BODY_BYTES, 12))).toBeLessThan(LAMBDA_SYNC_PAYLOAD_BYTES);
    // One every 8 bytes does not: AWS answers such a request 413 before the function runs.
    expect(pushEventBytes(hl7Body(AWS_MAX_BODY_BYTES, 8))).toBeGreaterThan(LAMBDA_SYNC_PAYLOAD_BYTES);
    expect(LAMBDA_SYNC_PAYLOAD_BYTES).toBeLessThan(HTTP_API_PAYLOAD_BYTES);
    // The protocol's 10 MB body could not reach the http function on AWS even unescaped: the
    // request alone is over Lambda's payload limit. Hence the lower AWS maximum.
    expect(MAX_BODY_BYTES).toBeGreaterThan(LAMBDA_SYNC_PAYLOAD_BYTES);
  });
});

describe('AWS limits on dynalite', () => {
  let dynalite: Dynalite;
  let clients: AwsClients;
  const table = `edgepush-${randomUUID()}`;
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
      retentionDays: 30,
      dynamoEndpoint: dynalite.endpoint,
    });
  });
  afterAll(async () => {
    clients.dynamo.destroy();
    clients.sqs.destroy();
    clients.management.destroy();
    clients.secrets.destroy();
    await dynalite.close();
  });

  it('stores a push of the largest inline body, then the largest ACK text a result can carry', async () => {
    const store = new DynamoPushStore(clients.dynamo, table, 30, { idempotentCreate: 'two-step-for-dynalite' });
    const head = 'MSH|^~\\&|A|B|C|D|20240101||ORU^R01|1|P|2.5\rOBX|1|ED|PDF||';
    const push: PushRecord = {
      pushId: randomUUID(),
      agentId: 'site-'.padEnd(64, 'a'),
      destination: 'lab-'.padEnd(128, 'd'),
      contentType: 'x-application/hl7-v2+er7',
      body: head + 'Q'.repeat(AWS_INLINE_BODY_BYTES - head.length),
      bodyHash: 'a'.repeat(64),
      returnAck: 'first',
      status: 'queued',
      attempts: 0,
      idempotencyKey: 'k'.repeat(255),
      createdAt: Date.now(),
      expiresAt: Date.now() + 3_600_000,
    };
    expect(Buffer.byteLength(push.body)).toBe(AWS_INLINE_BODY_BYTES);
    expect(await store.create(push)).toMatchObject({ created: true });
    const response = 'MSH|^~\\&|DEV|X|EP|Y|20250101||ACK|A1|P|2.5\rMSA|AA|1\rNTE|1||'.padEnd(MAX_MESSAGE_BYTES - 256, 'n');
    const sent = await store.update(push.pushId, ['queued'], { status: 'sent', attempts: 1 }, 0);
    expect(sent?.status).toBe('sent');
    const acked = await store.update(push.pushId, ['sent'], {
      status: 'acked',
      ackCode: 'AA',
      response,
      error: 'e'.repeat(MAX_ERROR_TEXT_LENGTH),
    });
    expect(acked?.response).toBe(response);

    // One byte more goes to S3; a store without a body bucket refuses it and writes nothing.
    const over = { ...push, pushId: randomUUID(), idempotencyKey: undefined, body: push.body + 'Q' };
    await expect(store.create(over)).rejects.toThrow('no body bucket is configured (EDGEPUSH_BODY_BUCKET)');
    expect(await store.get(over.pushId)).toBeUndefined();
  });

  it('stores a full part of the largest chunked message (the chunk store writes it as is)', async () => {
    const store = new DynamoChunkStore(clients.dynamo, table);
    const [first] = splitMessage('é'.repeat(MAX_BODY_BYTES / 2), { chunkId: 'c'.repeat(128) });
    expect(await store.add('connection-id-16c', first)).toStrictEqual({ complete: false });
  });
});
