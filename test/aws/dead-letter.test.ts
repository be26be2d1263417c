/**
 * A push whose queue message reaches the dead-letter queue is ended, not left queued forever.
 * fauxqs moves the message after maxReceiveCount receives (its real redrive), and the
 * dead-letter Lambda handler, fed the DLQ's own records, ends the push failed or expired.
 */
import { randomUUID } from 'node:crypto';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { startSecretsManager, type SecretsManagerEmulator } from '../emulators/secrets-manager';
import { TEST_CREDENTIALS, TEST_REGION, createTable, startDynalite, startFauxqs, type Dynalite, type Fauxqs } from './emulators';
import { handleHttp } from '../../lambdas/http/router';

jest.setTimeout(30000);

const hl7 = (id: string) => `MSH|^~\\&|EP|CLOUD|LAB|HOSP|20240101120000||ADT^A01|${id}|P|2.5\rPID|1||123\r`;

let dynalite: Dynalite;
let fauxqs: Fauxqs;
let secretsManager: SecretsManagerEmulator;
let sqs: SQSClient;
let queueUrl: string;
let dlqUrl: string;

let handlers: {
  deadLetter: typeof import('../../lambdas/handlers/dead-letter');
  http: typeof import('../../lambdas/handlers/http');
  runtime: typeof import('../../lambdas/handlers/runtime');
};

beforeAll(async () => {
  [dynalite, fauxqs, secretsManager] = await Promise.all([
    startDynalite(),
    startFauxqs(),
    startSecretsManager({ 'agent-key': randomUUID() + randomUUID() }),
  ]);
  const table = `edgepush-${randomUUID()}`;
  await createTable(dynalite.endpoint, table);
  sqs = new SQSClient({ region: TEST_REGION, endpoint: fauxqs.endpoint, credentials: TEST_CREDENTIALS });
  const suffix = randomUUID().slice(0, 8);
  dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `dlq-${suffix}.fifo`, Attributes: { FifoQueue: 'true' } }))).QueueUrl!;
  const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  queueUrl = (
    await sqs.send(
      new CreateQueueCommand({
        QueueName: `push-${suffix}.fifo`,
        Attributes: {
          FifoQueue: 'true',
          ContentBasedDeduplication: 'false',
          VisibilityTimeout: '1',
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 1 }),
        },
      }),
    )
  ).QueueUrl!;
  Object.assign(process.env, {
    AWS_REGION: TEST_REGION,
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    EDGEPUSH_TABLE: table,
    EDGEPUSH_QUEUE_URL: queueUrl,
    EDGEPUSH_INBOUND_QUEUE_URL: 'unused', // this test drives the push dead-letter handler only
    EDGEPUSH_WS_MANAGEMENT_ENDPOINT: 'http://127.0.0.1:1',
    EDGEPUSH_DYNAMODB_ENDPOINT: dynalite.endpoint,
    EDGEPUSH_SQS_ENDPOINT: fauxqs.endpoint,
    EDGEPUSH_AGENT_KEY_SECRET: 'agent-key',
    EDGEPUSH_IDEMPOTENT_CREATE: 'two-step-for-dynalite', // dynalite has no TransactWriteItems
    EDGEPUSH_SECRETSMANAGER_ENDPOINT: secretsManager.endpoint,
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  handlers = {
    deadLetter: require('../../lambdas/handlers/dead-letter'),
    http: require('../../lambdas/handlers/http'),
    runtime: require('../../lambdas/handlers/runtime'),
  };
  handlers.runtime.resetRuntime();
});

afterAll(async () => {
  sqs?.destroy();
  await Promise.all([dynalite?.close(), fauxqs?.close(), secretsManager?.close()]);
});

const core = () => handlers.runtime.getRuntime().core;

async function request(method: string, path: string, body?: object) {
  const res = await handleHttp(core(), {
    method,
    path,
    headers: { 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, json: JSON.parse(res.body) as Record<string, any> };
}

/** Receives from a queue until `want` messages came or the deadline passed. */
async function receiveAll(url: string, want: number): Promise<Message[]> {
  const got: Message[] = [];
  const deadline = Date.now() + 10_000;
  while (got.length < want && Date.now() < deadline) {
    const out = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['All'] }),
    );
    got.push(...(out.Messages ?? []));
  }
  return got;
}

const toEvent = (messages: Message[]): SQSEvent => ({
  Records: messages.map((m) => ({
    messageId: m.MessageId!,
    receiptHandle: m.ReceiptHandle!,
    body: m.Body!,
    attributes: m.Attributes as any,
    messageAttributes: {},
    md5OfBody: m.MD5OfBody!,
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:dlq.fifo',
    awsRegion: TEST_REGION,
  })),
});

it('ends a dead-lettered push as failed (or expired when its time is up), and leaves finished pushes alone', async () => {
  expect((await request('POST', '/agents', { agentId: 'site-dlq' })).status).toBe(201);
  const alive = await request('POST', '/agents/site-dlq/push', { destination: 'lab', body: hl7('DLQ-1'), waitForResponse: false });
  const dying = await request('POST', '/agents/site-dlq/push', {
    destination: 'ris',
    body: hl7('DLQ-2'),
    waitForResponse: false,
    expiresIn: 1,
  });
  expect([alive.status, dying.status]).toEqual([202, 202]);

  // Each message is received once and never deleted, as if every dispatch had crashed; after
  // its visibility timeout fauxqs's redrive moves it to the DLQ (maxReceiveCount 1).
  expect(await receiveAll(queueUrl, 2)).toHaveLength(2);
  await new Promise((r) => setTimeout(r, 1500));
  await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
  const dead = await receiveAll(dlqUrl, 2);
  expect(dead.map((m) => JSON.parse(m.Body!).pushId).sort()).toEqual([alive.json.pushId, dying.json.pushId].sort());

  // Until the consumer runs they are still queued: the hole this closes.
  expect((await request('GET', `/pushes/${alive.json.pushId}`)).json.status).toBe('queued');
  const result = await handlers.deadLetter.handler(toEvent(dead));
  expect(result.batchItemFailures).toEqual([]);

  const failed = (await request('GET', `/pushes/${alive.json.pushId}`)).json;
  expect(failed).toMatchObject({ status: 'failed' });
  expect(failed.error).toMatch(/gave up delivering/);
  expect(failed.completedAt).toEqual(expect.any(String));
  expect((await request('GET', `/pushes/${dying.json.pushId}`)).json).toMatchObject({ status: 'expired' });

  // A repeat (the DLQ delivers at least once) changes nothing; a malformed record is dropped.
  const again = await handlers.deadLetter.handler(toEvent(dead));
  expect(again.batchItemFailures).toEqual([]);
  expect((await request('GET', `/pushes/${alive.json.pushId}`)).json).toMatchObject({ status: 'failed', completedAt: failed.completedAt });
  const junk = toEvent([{ MessageId: 'm-junk', ReceiptHandle: 'r', Body: '{not json', Attributes: {}, MD5OfBody: 'x' }]);
  expect((await handlers.deadLetter.handler(junk)).batchItemFailures).toEqual([]);
});
