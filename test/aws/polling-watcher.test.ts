/**
 * The waiting caller on AWS (PollingWatcher over DynamoPushStore, on dynalite): it polls the
 * small status item, and reads the whole push (its body item) once, when the push has ended.
 * Every GetItem is counted by key kind through the SDK's middleware.
 */
import { randomUUID } from 'node:crypto';
import { createClients, type AwsClients } from '../../lambdas/adapters/aws/clients';
import { DynamoPushStore } from '../../lambdas/adapters/aws/dynamo-push-store';
import { PollingWatcher } from '../../lambdas/adapters/aws/polling-watcher';
import { newPush } from '../support/records';
import { TEST_CREDENTIALS, TEST_REGION, createTable, startDynalite, type Dynalite } from './emulators';

/** At the initialize step the key is as the document client got it: { pk: '...' }. */
type Mw = (args: { input: { Key?: { pk?: string } } }) => Promise<unknown>;
type Stack = { add: (middleware: (next: Mw, context: { commandName?: string }) => Mw, options: { step: string; name: string }) => void };

describe('PollingWatcher on DynamoPushStore (dynalite)', () => {
  let dynalite: Dynalite;
  /** The accepting Lambda's clients (counted) and another Lambda's, which records the result. */
  let caller: AwsClients;
  let other: AwsClients;
  const table = 'pushes-' + randomUUID();
  const reads: string[] = [];

  const clientsFor = (endpoint: string) =>
    createClients({
      region: TEST_REGION,
      credentials: TEST_CREDENTIALS,
      tableName: table,
      queueUrl: 'unused',
      inboundQueueUrl: 'unused',
      managementEndpoint: 'http://127.0.0.1:1',
      retentionDays: 7,
      dynamoEndpoint: endpoint,
    });

  beforeAll(async () => {
    dynalite = await startDynalite();
    await createTable(dynalite.endpoint, table);
    caller = clientsFor(dynalite.endpoint);
    other = clientsFor(dynalite.endpoint);
    (caller.dynamo.middlewareStack as unknown as Stack).add(
      (next: Mw, context: { commandName?: string }) => async (args: { input: { Key?: { pk?: string } } }) => {
        if (context.commandName === 'GetItemCommand') reads.push(String(args.input.Key?.pk).replace(/#.*/, '#'));
        return next(args);
      },
      { step: 'initialize', name: 'count-reads' },
    );
  });
  afterAll(async () => {
    for (const c of [caller, other]) {
      c.dynamo.destroy();
      c.sqs.destroy();
      c.management.destroy();
    }
    await dynalite.close();
  });

  it('polls the status item until the push ends, then reads the whole push once', async () => {
    const recorder = new DynamoPushStore(other.dynamo, table, 7, { idempotentCreate: 'two-step-for-dynalite' });
    const push = newPush();
    await recorder.create(push); // accepted elsewhere: this Lambda has no copy of the body
    const store = new DynamoPushStore(caller.dynamo, table, 7);
    const watcher = new PollingWatcher(store, (pushId) => store.readStatus(pushId));
    reads.length = 0;
    const waiting = watcher.waitForTerminal(push.pushId, 10_000);
    await new Promise((r) => setTimeout(r, 150));
    await recorder.update(push.pushId, ['queued'], { status: 'sent', attempts: 1 }, 0);
    await recorder.update(push.pushId, ['sent'], { status: 'acked', ackCode: 'AA', response: 'MSA|AA', completedAt: Date.now() });
    const done = await waiting;
    expect(done).toMatchObject({ pushId: push.pushId, status: 'acked', ackCode: 'AA', body: push.body, bodyHash: push.bodyHash });
    // Several status polls, the body item once: the body is never polled.
    expect(reads.filter((k) => k === 'pushbody#')).toHaveLength(1);
    expect(reads.filter((k) => k === 'push#').length).toBeGreaterThan(2);
  });

  it('gives up at the timeout without reading the body of a push that did not end', async () => {
    const store = new DynamoPushStore(caller.dynamo, table, 7, { idempotentCreate: 'two-step-for-dynalite' });
    const push = newPush();
    await new DynamoPushStore(other.dynamo, table, 7, { idempotentCreate: 'two-step-for-dynalite' }).create(push);
    reads.length = 0;
    await expect(
      new PollingWatcher(store, (pushId) => store.readStatus(pushId)).waitForTerminal(push.pushId, 100),
    ).resolves.toBeUndefined();
    expect(reads.filter((k) => k === 'pushbody#')).toHaveLength(0);
    expect(reads.length).toBeGreaterThan(1);
  });

  it('waits for a push that does not exist yet until the timeout, with no error', async () => {
    const store = new DynamoPushStore(caller.dynamo, table, 7);
    await expect(
      new PollingWatcher(store, (pushId) => store.readStatus(pushId)).waitForTerminal(randomUUID(), 60),
    ).resolves.toBeUndefined();
  });
});
