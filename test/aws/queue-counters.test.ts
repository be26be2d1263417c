/**
 * The open-push counters on dynalite: a push costs two counter writes each way, and a counter
 * that drifted to zero still lets the other come down.
 */
import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { createClients, type AwsClients } from '../../lambdas/adapters/aws/clients';
import { queueCountKey } from '../../lambdas/adapters/aws/dynamo-keys';
import { QueueCounters } from '../../lambdas/adapters/aws/queue-counters';
import { TEST_CREDENTIALS, TEST_REGION, createTable, startDynalite, type Dynalite } from './emulators';

type Mw = (args: unknown) => Promise<unknown>;
type Stack = { add: (middleware: (next: Mw, context: { commandName?: string }) => Mw, options: { step: string; name: string }) => void };

describe('QueueCounters on dynalite', () => {
  let dynalite: Dynalite;
  let clients: AwsClients;
  let counters: QueueCounters;
  const table = 'counters-' + randomUUID();
  const writes: string[] = [];
  const limits = { perDestination: 10, perAgent: 100, destinations: 5 };

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
    (clients.dynamo.middlewareStack as unknown as Stack).add(
      (next, context) => async (args) => {
        if (context.commandName === 'UpdateItemCommand') writes.push('update');
        return next(args);
      },
      { step: 'initialize', name: 'count-writes' },
    );
    counters = new QueueCounters(clients.dynamo, table);
  });
  afterAll(async () => {
    clients.dynamo.destroy();
    clients.sqs.destroy();
    clients.management.destroy();
    await dynalite.close();
  });

  const item = async (key: string) =>
    (await clients.dynamo.send(new GetCommand({ TableName: table, Key: { pk: key }, ConsistentRead: true }))).Item;

  it('counts a push in with two writes and out with two, the group included', async () => {
    const agent = `a-${randomUUID().slice(0, 8)}`;
    writes.length = 0;
    expect(await counters.reserve(agent, 'lab', limits)).toBeUndefined();
    expect(writes).toHaveLength(2);
    expect(await item(queueCountKey(agent))).toMatchObject({ queued: 1, groups: 1 });
    writes.length = 0;
    await counters.release(agent, 'lab');
    expect(writes).toHaveLength(2);
    expect(await item(queueCountKey(agent))).toMatchObject({ queued: 0, groups: 0 });
    expect(await item(queueCountKey(agent, 'lab'))).toMatchObject({ queued: 0 });
  });

  it('keeps the group while its destination still has pushes open', async () => {
    const agent = `a-${randomUUID().slice(0, 8)}`;
    await counters.reserve(agent, 'lab', limits);
    await counters.reserve(agent, 'lab', limits);
    await counters.release(agent, 'lab');
    expect(await item(queueCountKey(agent))).toMatchObject({ queued: 1, groups: 1 });
    expect(await counters.depths(agent, ['lab'])).toStrictEqual({ lab: 1 });
  });

  it('drops the group even when the agent’s count had drifted to zero, and never goes below zero', async () => {
    const agent = `a-${randomUUID().slice(0, 8)}`;
    await counters.reserve(agent, 'lab', limits);
    // A crash between writes left the agent's count at zero while its group is still counted.
    await clients.dynamo.send(new PutCommand({ TableName: table, Item: { pk: queueCountKey(agent), queued: 0, groups: 1 } }));
    await counters.release(agent, 'lab');
    expect(await item(queueCountKey(agent))).toMatchObject({ queued: 0, groups: 0 });
    // And the other way round: groups at zero, the count still comes down.
    await counters.reserve(agent, 'lab', limits);
    await clients.dynamo.send(new PutCommand({ TableName: table, Item: { pk: queueCountKey(agent), queued: 1, groups: 0 } }));
    await counters.release(agent, 'lab');
    expect(await item(queueCountKey(agent))).toMatchObject({ queued: 0, groups: 0 });
  });
});
