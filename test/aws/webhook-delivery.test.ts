/**
 * The webhook Lambda's handler on real SQS semantics (fauxqs): an event source mapping loop
 * receives batches and deletes what the handler did not report failed, as Lambda does. The core
 * is not merged on this branch yet, so deliverInbound is a small real delivery here: it reads the
 * message from the DynamoDB store (dynalite), POSTs it to a real HTTP server, records the attempt,
 * and asks for a retry with backoff on a non-2xx.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { createClients, type AwsClients } from '../../lambdas/adapters/aws/clients';
import { DynamoInboundStore } from '../../lambdas/adapters/aws/dynamo-inbound-store';
import { SqsInboundQueue } from '../../lambdas/adapters/aws/sqs-inbound-queue';
import type { InboundRecord } from '../../lambdas/core/inbound-records';
import type { InboundQueueItem } from '../../lambdas/core/ports';
import { createWebhookDeliveryHandler, type DeliveryOutcome, type InboundDeliverer } from '../../lambdas/handlers/webhook-delivery';
import { MAX_VISIBILITY_SECONDS, WEBHOOK_TIMEOUT_SECONDS, delaySeconds } from '../../lambdas/handlers/webhook-visibility';
import {
  TEST_CREDENTIALS,
  TEST_REGION,
  createFifoQueue,
  createTable,
  startDynalite,
  startFauxqs,
  type Dynalite,
  type Fauxqs,
} from './emulators';

let dynalite: Dynalite;
let fauxqs: Fauxqs;
let clients: AwsClients;
let queueUrl: string;
let store: DynamoInboundStore;
let server: Server;
let url: string;
/** Requests the webhook got: message id, channel, the status it answered, when. */
const requests: { messageId: string; channel: string; status: number; at: number }[] = [];
/** Per channel, how many requests to refuse with 503 before accepting. */
const refuse = new Map<string, number>();

beforeAll(async () => {
  [dynalite, fauxqs] = await Promise.all([startDynalite(), startFauxqs()]);
  const table = `edgepush-${randomUUID()}`;
  await createTable(dynalite.endpoint, table);
  queueUrl = await createFifoQueue(fauxqs.endpoint, `inbound-${randomUUID().slice(0, 8)}`);
  clients = createClients({
    region: TEST_REGION,
    credentials: TEST_CREDENTIALS,
    tableName: table,
    queueUrl,
    inboundQueueUrl: queueUrl,
    managementEndpoint: 'http://127.0.0.1:1',
    retentionDays: 30,
    dynamoEndpoint: dynalite.endpoint,
    sqsEndpoint: fauxqs.endpoint,
  });
  store = new DynamoInboundStore(clients.dynamo, table, { transactions: 'two-step-for-dynalite' });
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const message = JSON.parse(Buffer.concat(chunks).toString('utf8')) as InboundRecord;
      const left = refuse.get(message.channel) ?? 0;
      refuse.set(message.channel, left - 1);
      const status = left > 0 ? 503 : 200;
      requests.push({ messageId: String(req.headers['edgepush-message-id']), channel: message.channel, status, at: Date.now() });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
}, 30000);

afterAll(async () => {
  clients?.dynamo.destroy();
  clients?.sqs.destroy();
  clients?.management.destroy();
  clients?.secrets.destroy();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await Promise.all([dynalite?.close(), fauxqs?.close()]);
});

/** A real delivery: read, POST, record the attempt; retry after 1 s, 2 s, ... on a non-2xx. */
const deliverer: InboundDeliverer = {
  async deliverInbound(item: InboundQueueItem): Promise<DeliveryOutcome> {
    const message = await store.get(item.messageId);
    if (!message) return { outcome: 'done' };
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'EdgePush-Message-Id': message.messageId },
      body: JSON.stringify(message),
    });
    const attempts = message.delivery.attempts + 1;
    if (response.ok) {
      await store.updateDelivery(message.messageId, { status: 'delivered', attempts, deliveredAt: Date.now() }, attempts - 1);
      return { outcome: 'done' };
    }
    await store.updateDelivery(message.messageId, { attempts, lastError: `HTTP ${response.status}` }, attempts - 1);
    return { outcome: 'retry', delayMs: 1000 * 2 ** (attempts - 1) };
  },
};

const logged: { msg: string; fields?: Record<string, unknown> }[] = [];
type Handle = ReturnType<typeof createWebhookDeliveryHandler>;

/** Lambda's SQS event source mapping, for `ms`: receive, invoke, delete the successes. */
async function runEventSource(ms: number, handle: Handle): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const out = await clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageSystemAttributeNames: ['All'] }),
    );
    const records: SQSRecord[] = (out.Messages ?? []).map((m) => ({
      messageId: m.MessageId!,
      receiptHandle: m.ReceiptHandle!,
      body: m.Body!,
      attributes: m.Attributes as unknown as SQSRecord['attributes'],
      messageAttributes: {},
      md5OfBody: m.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:inbound.fifo',
      awsRegion: TEST_REGION,
    }));
    if (records.length === 0) {
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    const { batchItemFailures } = await handle({ Records: records });
    const failed = new Set(batchItemFailures.map((f) => f.itemIdentifier));
    for (const r of records.filter((r) => !failed.has(r.messageId))) {
      await clients.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: r.receiptHandle }));
    }
  }
}

async function storeAndEnqueue(agentId: string, channel: string): Promise<string> {
  const now = Date.now();
  const { message } = await store.put(
    {
      messageId: randomUUID(),
      agentId,
      channel,
      inboundId: randomUUID(),
      dedupeKey: randomUUID(),
      contentType: 'x-application/hl7-v2+er7',
      body: 'MSH|^~\\&|LAB|DEV|EP|HUB|20240101||ORU^R01|1|P|2.5\r',
      ack: 'fast',
      receivedAt: now,
      storedAt: now,
      expiresAt: now + 86_400_000,
      delivery: { status: 'pending', attempts: 0 },
    },
    60_000,
  );
  await new SqsInboundQueue(clients.sqs, queueUrl).enqueue({ messageId: message.messageId, agentId, channel });
  return message.messageId;
}

it('delivers each channel in order; a failing channel waits out its backoff without holding back another', async () => {
  const handle = createWebhookDeliveryHandler({ core: deliverer, sqs: clients.sqs, queueUrl, log: { warn: () => {}, error: () => {} } });
  const failing = `agent-${randomUUID().slice(0, 8)}`;
  const healthy = `agent-${randomUUID().slice(0, 8)}`;
  refuse.set('lab', 2);
  const lab = [await storeAndEnqueue(failing, 'lab'), await storeAndEnqueue(failing, 'lab'), await storeAndEnqueue(failing, 'lab')];
  const adt = [await storeAndEnqueue(healthy, 'adt'), await storeAndEnqueue(healthy, 'adt')];
  await runEventSource(5_000, handle);

  const ok = (channel: string) => requests.filter((r) => r.channel === channel && r.status === 200).map((r) => r.messageId);
  expect(ok('lab')).toStrictEqual(lab);
  expect(ok('adt')).toStrictEqual(adt);
  // The head of `lab` was tried three times, and nothing behind it went before it succeeded.
  const labRequests = requests.filter((r) => r.channel === 'lab');
  expect(labRequests.map((r) => r.messageId)).toStrictEqual([lab[0], lab[0], lab[0], lab[1], lab[2]]);
  // Each retry waited for the visibility delay the core asked for (1 s, then 2 s).
  expect(labRequests[1].at - labRequests[0].at).toBeGreaterThanOrEqual(900);
  expect(labRequests[2].at - labRequests[1].at).toBeGreaterThanOrEqual(1900);
  // The healthy agent's channel was done while the failing one was still backing off.
  const lastAdt = requests.filter((r) => r.channel === 'adt').at(-1)!;
  expect(lastAdt.at).toBeLessThan(labRequests[2].at);
  expect((await store.get(lab[0]))?.delivery).toMatchObject({ status: 'delivered', attempts: 3 });
}, 30000);

it('drops a queue message that is not an inbound pointer, and says so without its body', async () => {
  const handle = createWebhookDeliveryHandler({
    core: deliverer,
    sqs: clients.sqs,
    queueUrl,
    log: { warn: (msg, fields) => logged.push({ msg, fields }), error: (msg, fields) => logged.push({ msg, fields }) },
  });
  const before = requests.length;
  await clients.sqs.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: 'PID|1||SECRET-PHI',
      MessageGroupId: 'junk',
      MessageDeduplicationId: randomUUID(),
    }),
  );
  await runEventSource(500, handle);
  expect(requests.length).toBe(before);
  expect(logged.map((l) => l.msg)).toContain('dropping malformed inbound queue message');
  expect(JSON.stringify(logged)).not.toContain('SECRET-PHI');
  const out = await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 0 }));
  expect(out.Messages ?? []).toEqual([]);
});

it('keeps every retry delay inside ChangeMessageVisibility’s 0 to 12 hours, counted from the receive', () => {
  // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ChangeMessageVisibility.html
  expect(MAX_VISIBILITY_SECONDS).toBe(43_200);
  expect(delaySeconds(0)).toBe(1);
  expect(delaySeconds(1500)).toBe(2);
  expect(delaySeconds(-5)).toBe(1);
  for (const ms of [3_600_000, 12 * 3_600_000, 7 * 86_400_000, Number.MAX_SAFE_INTEGER]) {
    const s = delaySeconds(ms);
    expect(Number.isInteger(s)).toBe(true);
    expect(s + WEBHOOK_TIMEOUT_SECONDS).toBeLessThanOrEqual(MAX_VISIBILITY_SECONDS);
  }
});
