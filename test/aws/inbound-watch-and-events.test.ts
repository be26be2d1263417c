/**
 * The long-poll watcher on dynalite (a second store instance stands for the ws-message Lambda
 * that stores the message) and the EventBridge events through the real SDK client to a loopback
 * PutEvents endpoint.
 */
import { randomUUID } from 'node:crypto';
import { createClients, type AwsClients } from '../../lambdas/adapters/aws/clients';
import { DynamoInboundStore } from '../../lambdas/adapters/aws/dynamo-inbound-store';
import { EVENT_DETAIL_TYPE, EVENT_SOURCE, EventBridgeInboundEvents } from '../../lambdas/adapters/aws/eventbridge-inbound-events';
import { PollingInboundWatcher } from '../../lambdas/adapters/aws/polling-inbound-watcher';
import type { InboundRecord } from '../../lambdas/core/inbound-records';
import { startEventBridge, type EventBridgeEmulator } from '../emulators/eventbridge';
import { TEST_CREDENTIALS, TEST_REGION, createTable, startDynalite, type Dynalite } from './emulators';

let dynalite: Dynalite;
let events: EventBridgeEmulator;
let clients: AwsClients;
let table: string;
/** The HTTP Lambda's store (it lists and waits) and the ws-message Lambda's (it stores). */
let reader: DynamoInboundStore;
let writer: DynamoInboundStore;

beforeAll(async () => {
  [dynalite, events] = await Promise.all([startDynalite(), startEventBridge()]);
  table = `edgepush-${randomUUID()}`;
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
    eventBusName: 'customer-bus',
    eventBridgeEndpoint: events.endpoint,
  });
  reader = new DynamoInboundStore(clients.dynamo, table, { transactions: 'two-step-for-dynalite' });
  writer = new DynamoInboundStore(clients.dynamo, table, { transactions: 'two-step-for-dynalite' });
}, 30000);

afterAll(async () => {
  clients?.dynamo.destroy();
  clients?.sqs.destroy();
  clients?.management.destroy();
  clients?.secrets.destroy();
  clients?.events?.destroy();
  await Promise.all([dynalite?.close(), events?.close()]);
});

function message(agentId: string): Omit<InboundRecord, 'cursor'> {
  const now = Date.now();
  return {
    messageId: randomUUID(),
    agentId,
    channel: 'lab',
    inboundId: randomUUID(),
    dedupeKey: randomUUID(),
    contentType: 'x-application/hl7-v2+er7',
    body: 'MSH|^~\\&|LAB|DEV|EP|HUB|20240101||ORU^R01|CTRL-9|P|2.5\rPID|1||PHI-NAME\r',
    controlId: 'CTRL-9',
    messageType: 'ORU^R01',
    ack: 'fast',
    receivedAt: now,
    storedAt: now,
    expiresAt: now + 86_400_000,
    delivery: { status: 'none', attempts: 0 },
  };
}

describe('PollingInboundWatcher', () => {
  it('wakes a long poll when another Lambda stores a message for the agent', async () => {
    const agentId = `agent-${randomUUID().slice(0, 8)}`;
    const watcher = new PollingInboundWatcher(reader, { initialDelayMs: 20, maxDelayMs: 50 });
    expect((await reader.list({ agentId, limit: 10 })).messages).toEqual([]);
    const waiting = watcher.waitForMessage(agentId, 20_000);
    let woke = false;
    void waiting.then(() => (woke = true));
    await new Promise((r) => setTimeout(r, 150));
    expect(woke).toBe(false);
    await writer.put(message(agentId), 60_000);
    await waiting;
    expect((await reader.list({ agentId, limit: 10 })).messages).toHaveLength(1);
  });

  it('wakes at once for a message stored between the caller’s list and its wait', async () => {
    const agentId = `agent-${randomUUID().slice(0, 8)}`;
    const watcher = new PollingInboundWatcher(reader, { initialDelayMs: 20, maxDelayMs: 50 });
    await reader.list({ agentId, limit: 10 });
    await writer.put(message(agentId), 60_000);
    // A baseline taken at the wait would include the message and sleep through the whole minute.
    const woke = await Promise.race([
      watcher.waitForMessage(agentId, 60_000).then(() => 'woke'),
      new Promise((r) => setTimeout(() => r('still waiting'), 10_000)),
    ]);
    expect(woke).toBe('woke');
  });

  it('returns after the timeout when nothing comes, and at once on notify in the same container', async () => {
    const agentId = `agent-${randomUUID().slice(0, 8)}`;
    const watcher = new PollingInboundWatcher(reader, { initialDelayMs: 20, maxDelayMs: 50 });
    await reader.list({ agentId, limit: 10 });
    const started = Date.now();
    await watcher.waitForMessage(agentId, 300);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    const waiting = watcher.waitForMessage(agentId, 20_000);
    watcher.notify(`other-${agentId}`);
    watcher.notify(agentId);
    await waiting;
  });
});

describe('EventBridgeInboundEvents', () => {
  it('puts one event per message on the given bus: metadata and a pointer, never the body', async () => {
    const publisher = new EventBridgeInboundEvents(clients.events!, 'customer-bus');
    const stored = { ...message('site-a'), cursor: '7' };
    await publisher.publish(stored);
    const [entry] = events.entries.slice(-1);
    expect(entry).toMatchObject({ EventBusName: 'customer-bus', Source: EVENT_SOURCE, DetailType: EVENT_DETAIL_TYPE });
    expect(JSON.parse(entry.Detail!)).toEqual({
      messageId: stored.messageId,
      agentId: 'site-a',
      channel: 'lab',
      contentType: 'x-application/hl7-v2+er7',
      controlId: 'CTRL-9',
      messageType: 'ORU^R01',
      receivedAt: stored.receivedAt,
      storedAt: stored.storedAt,
      cursor: '7',
    });
    expect(JSON.stringify(entry)).not.toContain('PHI-NAME');
  });

  it('fits a 10 MB message in one entry, since the body stays out', async () => {
    const publisher = new EventBridgeInboundEvents(clients.events!, 'customer-bus');
    const before = events.entries.length;
    await publisher.publish({ ...message('site-a'), body: 'x'.repeat(10 * 1024 * 1024), cursor: '8' });
    expect(events.entries.length).toBe(before + 1);
  });

  it('throws when EventBridge refuses the entry (HTTP 200 with FailedEntryCount)', async () => {
    const publisher = new EventBridgeInboundEvents(clients.events!, 'customer-bus');
    events.failNext = 1;
    await expect(publisher.publish({ ...message('site-a'), cursor: '9' })).rejects.toThrow(
      /EventBridge refused the event: ThrottlingException/,
    );
  });
});
