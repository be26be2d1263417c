/**
 * The inbound port contract (InboundStore, WebhookStore, InboundQueue) on the aws adapter set,
 * against dynalite and fauxqs. Written apart from the hub's suite so both can land at once; the
 * same semantics, to be folded into one parameterised suite.
 *
 * The store's suite runs twice: in its production mode (TransactWriteItems), through a test
 * proxy that gives dynalite transactions (test/emulators/dynamo-transactions.ts), and in the
 * two-step mode meant for plain dynalite. The transaction request itself is checked against
 * AWS's documented rules in test/aws/dynamo-inbound-transaction.spec.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { DeleteCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import { createClients, type AwsClients } from '../../lambdas/adapters/aws/clients';
import { DynamoInboundStore } from '../../lambdas/adapters/aws/dynamo-inbound-store';
import { inboundKey, inboundSeqKey } from '../../lambdas/adapters/aws/dynamo-keys';
import { DynamoWebhookStore } from '../../lambdas/adapters/aws/dynamo-webhook-store';
import { SqsInboundQueue, parseInboundQueueItem } from '../../lambdas/adapters/aws/sqs-inbound-queue';
import type { InboundRecord } from '../../lambdas/core/inbound-records';
import type { InboundQueueItem } from '../../lambdas/core/ports';
import { startTransactionProxy, type TransactionProxy } from '../emulators/dynamo-transactions';
import {
  TEST_CREDENTIALS,
  TEST_REGION,
  createFifoQueue,
  createTable,
  startDynalite,
  startFauxqs,
  type Dynalite,
  type Fauxqs,
} from '../aws/emulators';

const WINDOW = 24 * 3_600_000;
let dynalite: Dynalite;
let fauxqs: Fauxqs;
let proxy: TransactionProxy;
let clients: AwsClients;
/** The same table through the transaction proxy. */
let proxied: AwsClients;
let table: string;
let queueUrl: string;
let store: DynamoInboundStore;

beforeAll(async () => {
  [dynalite, fauxqs] = await Promise.all([startDynalite(), startFauxqs()]);
  table = `edgepush-${randomUUID()}`;
  await createTable(dynalite.endpoint, table);
  queueUrl = await createFifoQueue(fauxqs.endpoint, `inbound-${randomUUID().slice(0, 8)}`);
  clients = createClients(clientConfig());
  proxy = await startTransactionProxy(dynalite.endpoint);
  proxied = createClients({ ...clientConfig(), dynamoEndpoint: proxy.endpoint });
}, 30000);

const clientConfig = () => ({
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

afterAll(async () => {
  for (const c of [proxied]) {
    c?.dynamo.destroy();
    c?.sqs.destroy();
    c?.management.destroy();
    c?.secrets.destroy();
  }
  await proxy?.close();
  clients?.dynamo.destroy();
  clients?.sqs.destroy();
  clients?.management.destroy();
  clients?.secrets.destroy();
  await Promise.all([dynalite?.close(), fauxqs?.close()]);
});

const newAgentId = () => `agent-${randomUUID().slice(0, 8)}`;

function newMessage(overrides: Partial<InboundRecord> = {}): Omit<InboundRecord, 'cursor'> {
  const controlId = overrides.controlId ?? randomUUID().slice(0, 20);
  const now = overrides.storedAt ?? Date.now();
  return {
    messageId: randomUUID(),
    agentId: 'agent-1',
    channel: 'lab',
    inboundId: randomUUID(),
    dedupeKey: controlId,
    contentType: 'x-application/hl7-v2+er7',
    body: `MSH|^~\\&|LAB|DEV|EP|HUB|20240101000000||ORU^R01|${controlId}|P|2.5\rOBX|1|ST|X||1\r`,
    controlId,
    messageType: 'ORU^R01',
    ack: 'fast',
    receivedAt: now - 5,
    storedAt: now,
    expiresAt: now + 30 * 86_400_000,
    delivery: { status: 'pending', attempts: 0 },
    ...overrides,
  };
}

/** Every message of the agent (or channel), following `next` until a page comes back empty. */
async function readAll(agentId: string, channel?: string, limit = 3, after?: string): Promise<{ ids: string[]; next?: string }> {
  const ids: string[] = [];
  let cursor = after;
  for (let i = 0; i < 1000; i++) {
    const page = await store.list({ agentId, channel, after: cursor, limit });
    ids.push(...page.messages.map((m) => m.messageId));
    if (page.messages.length === 0 && page.next === cursor) return { ids, next: cursor };
    cursor = page.next;
  }
  throw new Error('the cursor never settled');
}

const MODES = [
  { mode: 'transaction' as const, name: 'TransactWriteItems (production)' },
  { mode: 'two-step-for-dynalite' as const, name: 'two-step (plain dynalite)' },
];

describe.each(MODES)('InboundStore (DynamoDB): $name', ({ mode }) => {
  beforeAll(() => {
    store = new DynamoInboundStore(mode === 'transaction' ? proxied.dynamo : clients.dynamo, table, { transactions: mode });
  });
  if (mode === 'transaction') {
    afterAll(() => {
      // The production path ran: transactions committed, and racing ones were cancelled.
      expect(proxy.stats.committed).toBeGreaterThan(50);
      expect(proxy.stats.cancelled).toBeGreaterThan(0);
    });
  }

  it('stores a message, assigns a cursor, and reads it back as written', async () => {
    const message = newMessage({ agentId: newAgentId() });
    const result = await store.put(message, WINDOW);
    expect(result.created).toBe(true);
    expect(typeof result.message.cursor).toBe('string');
    expect(result.message).toEqual({ ...message, cursor: result.message.cursor });
    expect(await store.get(message.messageId)).toEqual(result.message);
  });

  it('returns undefined for an unknown message', async () => {
    expect(await store.get(randomUUID())).toBeUndefined();
  });

  it('gives every item the retention TTL (expiresAt in epoch seconds)', async () => {
    const message = newMessage({ agentId: newAgentId(), expiresAt: 1_900_000_000_500 });
    const { message: stored } = await store.put(message, WINDOW);
    for (const pk of [inboundKey(message.messageId), inboundSeqKey(message.agentId, Number(stored.cursor))]) {
      const out = await clients.dynamo.send(new GetCommand({ TableName: table, Key: { pk } }));
      expect(out.Item?.ttl).toBe(1_900_000_001);
    }
  });

  it('dedupes by (agent, channel, dedupeKey) within the window: the earlier message, nothing written', async () => {
    const agentId = newAgentId();
    const first = newMessage({ agentId, controlId: 'MSG-1' });
    const again = newMessage({ agentId, controlId: 'MSG-1', storedAt: first.storedAt + 1000 });
    await store.put(first, WINDOW);
    const result = await store.put(again, WINDOW);
    expect(result.created).toBe(false);
    expect(result.message.messageId).toBe(first.messageId);
    expect(await store.get(again.messageId)).toBeUndefined();
    expect((await readAll(agentId)).ids).toStrictEqual([first.messageId]);
  });

  it('scopes the dedupe key to the agent and the channel, and to the window', async () => {
    const agentId = newAgentId();
    const first = newMessage({ agentId, controlId: 'SAME' });
    expect((await store.put(first, WINDOW)).created).toBe(true);
    expect((await store.put(newMessage({ agentId, channel: 'adt', controlId: 'SAME' }), WINDOW)).created).toBe(true);
    expect((await store.put(newMessage({ agentId: newAgentId(), controlId: 'SAME' }), WINDOW)).created).toBe(true);
    // The same key once the window since the first has passed: a new message.
    const later = newMessage({ agentId, controlId: 'SAME', storedAt: first.storedAt + WINDOW });
    expect((await store.put(later, WINDOW)).created).toBe(true);
  });

  it('lets exactly one of many racing puts of one key win', async () => {
    const agentId = newAgentId();
    const racers = Array.from({ length: 8 }, () => newMessage({ agentId, controlId: 'RACE' }));
    const results = await Promise.all(racers.map((m) => store.put(m, WINDOW)));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const winner = results.find((r) => r.created)!.message.messageId;
    expect(new Set(results.map((r) => r.message.messageId))).toEqual(new Set([winner]));
    expect((await Promise.all(racers.map((m) => store.get(m.messageId)))).filter(Boolean)).toHaveLength(1);
    expect((await readAll(agentId)).ids).toStrictEqual([winner]);
  });

  it('lists oldest first, at most `limit`, and `next` continues where the page ended', async () => {
    const agentId = newAgentId();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await store.put(newMessage({ agentId }), WINDOW)).message.messageId);
    const page1 = await store.list({ agentId, limit: 2 });
    expect(page1.messages.map((m) => m.messageId)).toStrictEqual(ids.slice(0, 2));
    expect(page1.next).toBe(page1.messages[1].cursor);
    const page2 = await store.list({ agentId, limit: 10, after: page1.next });
    expect(page2.messages.map((m) => m.messageId)).toStrictEqual(ids.slice(2));
    const empty = await store.list({ agentId, limit: 10, after: page2.next });
    expect(empty).toEqual({ messages: [], next: page2.next });
    // A message's own cursor works as `after` too.
    const fromThird = await store.list({ agentId, limit: 10, after: page2.messages[0].cursor });
    expect(fromThird.messages.map((m) => m.messageId)).toStrictEqual(ids.slice(3));
    expect(await store.list({ agentId: newAgentId(), limit: 10 })).toEqual({ messages: [] });
  });

  it('filters by channel, in order, with a cursor that skips the other channels', async () => {
    const agentId = newAgentId();
    const lab: string[] = [];
    for (let i = 0; i < 12; i++) {
      const channel = i % 4 === 0 ? 'lab' : 'adt';
      const { message } = await store.put(newMessage({ agentId, channel }), WINDOW);
      if (channel === 'lab') lab.push(message.messageId);
    }
    expect((await readAll(agentId, 'lab', 2)).ids).toStrictEqual(lab);
    expect((await readAll(agentId, undefined, 5)).ids).toHaveLength(12);
  });

  it('refuses a cursor it did not make, with a clear error', async () => {
    await expect(store.list({ agentId: 'agent-1', limit: 5, after: 'not-a-cursor' })).rejects.toMatchObject({
      code: 'INVALID_QUERY',
      message: expect.stringMatching(/cursor/),
    });
  });

  it('gives a reader following `next` every message exactly once while writers race', async () => {
    const agentId = newAgentId();
    const stored: string[] = [];
    const seen: string[] = [];
    let writing = true;
    const writers = Array.from({ length: 4 }, async (_, w) => {
      for (let i = 0; i < 10; i++) {
        const { message } = await store.put(newMessage({ agentId, channel: `ch${w}` }), WINDOW);
        stored.push(message.messageId);
      }
    });
    const reader = (async () => {
      let cursor: string | undefined;
      while (writing || seen.length < stored.length) {
        const page = await store.list({ agentId, after: cursor, limit: 4 });
        seen.push(...page.messages.map((m) => m.messageId));
        cursor = page.next ?? cursor;
        if (!writing && page.messages.length === 0) break;
      }
    })();
    await Promise.all(writers);
    writing = false;
    await reader;
    expect(seen).toHaveLength(40);
    expect(new Set(seen)).toEqual(new Set(stored));
    // Per channel, the reader's order is the order each writer stored in.
    for (let w = 0; w < 4; w++) {
      const ofChannel = (await readAll(agentId, `ch${w}`, 100)).ids;
      expect(seen.filter((id) => ofChannel.includes(id))).toStrictEqual(ofChannel);
    }
  }, 60000);

  it('skips messages TTL deleted, and a read from the oldest starts past them', async () => {
    const agentId = newAgentId();
    const all: InboundRecord[] = [];
    for (let i = 0; i < 6; i++) all.push((await store.put(newMessage({ agentId }), WINDOW)).message);
    // What DynamoDB's TTL does, in no particular order: the first two and the fourth go.
    for (const m of [all[0], all[1], all[3]]) {
      await clients.dynamo.send(new DeleteCommand({ TableName: table, Key: { pk: inboundSeqKey(agentId, Number(m.cursor)) } }));
      await clients.dynamo.send(new DeleteCommand({ TableName: table, Key: { pk: inboundKey(m.messageId) } }));
    }
    const kept = [all[2], all[4], all[5]].map((m) => m.messageId);
    expect((await readAll(agentId, undefined, 2)).ids).toStrictEqual(kept);
    expect((await readAll(agentId, undefined, 2, all[0].cursor)).ids).toStrictEqual(kept);
    // The floor moved past the deleted head: a fresh read starts at the first kept message.
    expect((await store.list({ agentId, limit: 1 })).messages[0].messageId).toBe(all[2].messageId);
  });

  it('stores a 5 MB body apart from the message item and reads it back intact', async () => {
    const agentId = newAgentId();
    const obx = 'OBX|1|ED|PDF||^application^pdf^Base64^' + Buffer.alloc(3_800_000, 7).toString('base64') + '\r';
    const message = newMessage({ agentId, body: `MSH|^~\\&|LAB|DEV|EP|HUB|20240101||ORU^R01|BIG|P|2.5\rÄÖÜ€\r${obx}` });
    expect(Buffer.byteLength(message.body)).toBeGreaterThan(5_000_000);
    const { message: stored } = await store.put(message, WINDOW);
    expect((await store.get(message.messageId))?.body).toBe(message.body);
    const page = await store.list({ agentId, limit: 5 });
    expect(page.messages.map((m) => m.body)).toStrictEqual([message.body]);
    const raw = await clients.dynamo.send(new GetCommand({ TableName: table, Key: { pk: inboundKey(message.messageId) } }));
    expect(raw.Item?.body).toBeUndefined();
    // A resend of it is a duplicate, and costs no second copy of the parts.
    const again = await store.put(newMessage({ agentId, controlId: message.controlId, body: message.body }), WINDOW);
    expect(again).toEqual({ message: stored, created: false });
  }, 60000);

  it('updates the delivery only while attempts match', async () => {
    const message = newMessage({ agentId: newAgentId() });
    await store.put(message, WINDOW);
    const updated = await store.updateDelivery(message.messageId, { attempts: 1, lastAttemptAt: 5, lastError: 'HTTP 503' }, 0);
    expect(updated?.delivery).toEqual({ status: 'pending', attempts: 1, lastAttemptAt: 5, lastError: 'HTTP 503' });
    expect(await store.updateDelivery(message.messageId, { attempts: 2 }, 0)).toBeUndefined();
    const done = await store.updateDelivery(
      message.messageId,
      { status: 'delivered', attempts: 2, deliveredAt: 9, lastError: undefined },
      1,
    );
    expect(done?.delivery).toEqual({ status: 'delivered', attempts: 2, lastAttemptAt: 5, deliveredAt: 9 });
    expect((await store.get(message.messageId))?.delivery).toEqual(done?.delivery);
    expect(await store.updateDelivery(randomUUID(), { attempts: 1 }, 0)).toBeUndefined();
  });
});

describe('WebhookStore (DynamoDB)', () => {
  it('puts, replaces, reads and deletes one webhook per agent', async () => {
    const webhooks = new DynamoWebhookStore(clients.dynamo, table);
    const agentId = newAgentId();
    expect(await webhooks.get(agentId)).toBeUndefined();
    const first = { agentId, url: 'https://app.example.com/hook', secretSealed: 'sealed-1', createdAt: 1 };
    await webhooks.put(first);
    expect(await webhooks.get(agentId)).toEqual(first);
    const second = { ...first, url: 'https://app.example.com/v2', secretSealed: 'sealed-2', createdAt: 2 };
    await webhooks.put(second);
    expect(await webhooks.get(agentId)).toEqual(second);
    expect(await webhooks.get(newAgentId())).toBeUndefined();
    expect(await webhooks.delete(agentId)).toBe(true);
    expect(await webhooks.delete(agentId)).toBe(false);
    expect(await webhooks.get(agentId)).toBeUndefined();
  });
});

describe('InboundQueue (SQS FIFO)', () => {
  const receive = async (max = 10) => {
    const out = await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: max, WaitTimeSeconds: 0 }));
    return (out.Messages ?? []).map((m) => ({ item: parseInboundQueueItem(m.Body!)!, receipt: m.ReceiptHandle! }));
  };
  const done = (receipt: string) => clients.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: receipt }));

  it('hands out a channel’s messages in order, one at a time, while other channels go on', async () => {
    const queue = new SqsInboundQueue(clients.sqs, queueUrl);
    const agentId = newAgentId();
    const item = (channel: string): InboundQueueItem => ({ messageId: randomUUID(), agentId, channel });
    const [a1, a2, b1] = [item('lab'), item('lab'), item('adt')];
    for (const i of [a1, a2, b1]) await queue.enqueue(i);
    // A duplicate enqueue of one message is dropped (deduplication by messageId).
    await queue.enqueue(a1);
    const first = await receive();
    // fauxqs may hand out more than one of a group per receive, as SQS does: the order holds.
    const lab = first.filter((m) => m.item.channel === 'lab');
    expect(lab[0].item).toEqual(a1);
    expect(first.some((m) => m.item.messageId === b1.messageId)).toBe(true);
    const a2Now = lab.find((m) => m.item.messageId === a2.messageId);
    if (!a2Now) {
      // a1 in flight: its group is blocked until a1 is done, whatever else is received.
      expect(await receive()).toEqual([]);
    }
    for (const m of first) await done(m.receipt);
    const rest = a2Now ? [] : await receive();
    expect([...(a2Now ? [a2Now] : rest)].map((m) => m.item)).toStrictEqual([a2]);
    for (const m of rest) await done(m.receipt);
    expect(await receive()).toEqual([]);
  });

  it('keeps a failing channel’s head in flight without holding back another channel', async () => {
    const queue = new SqsInboundQueue(clients.sqs, queueUrl);
    const agentId = newAgentId();
    const a = [0, 1].map(() => ({ messageId: randomUUID(), agentId, channel: 'stuck' }));
    const b = [0, 1].map(() => ({ messageId: randomUUID(), agentId: newAgentId(), channel: 'lab' }));
    for (const i of [...a, ...b]) await queue.enqueue(i);
    // Receive one at a time: the stuck channel's head is never finished.
    const got: InboundQueueItem[] = [];
    for (let i = 0; i < 6; i++) {
      const [m] = await receive(1);
      if (!m) break;
      got.push(m.item);
      if (m.item.channel === 'lab') await done(m.receipt);
    }
    expect(got.filter((i) => i.channel === 'lab')).toStrictEqual(b);
    expect(got.filter((i) => i.channel === 'stuck')).toStrictEqual([a[0]]);
  });
});
