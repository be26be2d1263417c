/**
 * Spec test: real SQS receipt handles are long (about 400 characters in practice; the SQS
 * Developer Guide, "Amazon SQS message identifiers", gives 1,024 characters as their maximum:
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-queue-message-identifiers.html),
 * while fauxqs's are 36. Everywhere a receipt is stored is exercised here with 1,024-character
 * receipts on dynalite: the push item's queueReceipt, and the agent's parked-messages item,
 * which must hold many of them inside DynamoDB's 400 KB item limit
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html).
 * Receipts never travel in a queue message body (that is a pointer: pushId, agentId,
 * destination) nor to a relay.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createClients, type AwsClients } from '../../lambdas/adapters/aws/clients';
import { DynamoPushStore } from '../../lambdas/adapters/aws/dynamo-push-store';
import { ParkedMessages } from '../../lambdas/adapters/aws/parked-messages';
import type { PushRecord } from '../../lambdas/core/records';
import { TEST_CREDENTIALS, TEST_REGION, createTable, startDynalite, type Dynalite } from './emulators';

/** AWS's documented maximum receipt handle length. */
const MAX_RECEIPT_CHARS = 1024;
const longReceipt = () => randomBytes(MAX_RECEIPT_CHARS).toString('base64').slice(0, MAX_RECEIPT_CHARS);

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

it('stores a maximum-length receipt on the push', async () => {
  const store = new DynamoPushStore(clients.dynamo, table, 30, { idempotentCreate: 'two-step-for-dynalite' });
  const push: PushRecord = {
    pushId: randomUUID(),
    agentId: 'site-r',
    destination: 'lab',
    contentType: 'x-application/hl7-v2+er7',
    body: 'MSH|^~\\&|A|B|C|D|20240101||ADT^A01|1|P|2.5\r'.padEnd(100 * 1024, 'X'),
    bodyHash: 'a'.repeat(64),
    returnAck: 'first',
    status: 'queued',
    attempts: 0,
    createdAt: Date.now(),
    expiresAt: Date.now() + 3_600_000,
  };
  await store.create(push);
  const receipt = longReceipt();
  const sent = await store.update(push.pushId, ['queued'], { status: 'sent', attempts: 1, queueReceipt: receipt }, 0);
  expect(sent!.queueReceipt).toBe(receipt);
});

it('parks 250 destinations of one agent with maximum-length receipts and gives them all back', async () => {
  const parked = new ParkedMessages(clients.dynamo, table);
  const receipts = new Map<string, string>();
  for (let i = 0; i < 250; i++) {
    // Device names may be 128 characters long.
    const destination = `device-${i}-`.padEnd(128, 'x');
    receipts.set(destination, longReceipt());
    await parked.park({ agentId: 'site-big', destination, pushId: randomUUID() }, receipts.get(destination)!);
  }
  const entries = await parked.list('site-big');
  expect(entries).toHaveLength(250);
  for (const e of entries) expect(e.receipt).toBe(receipts.get(e.destination));
  // Forgetting them (after a wake) works in chunks that fit DynamoDB's expression limits.
  await parked.forget('site-big', entries);
  expect(await parked.list('site-big')).toEqual([]);
});
