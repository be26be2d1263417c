/**
 * API Gateway accepts postToConnection only once the $connect integration has returned; before
 * that it answers GoneException. The $connect Lambda records the connection first, so a
 * dispatcher that runs in that window sees 'gone' for a connection that is about to be live.
 * Stores are the aws adapters on dynalite; the gateway below models only that window.
 */
import { memoryInboundPorts } from '../support/memory-ports';
import { randomUUID } from 'node:crypto';
import { createClients, type AwsClients } from '../../lambdas/adapters/aws/clients';
import { DynamoAgentStore } from '../../lambdas/adapters/aws/dynamo-agent-store';
import { DynamoPushStore } from '../../lambdas/adapters/aws/dynamo-push-store';
import { PollingWatcher } from '../../lambdas/adapters/aws/polling-watcher';
import { MemoryQueue } from '../../hub/adapters/memory-queue';
import { createCore, type EdgePushCore } from '../../lambdas/core/core';
import { handleHttp } from '../../lambdas/http/router';
import type { ConnectionGateway, PostResult } from '../../lambdas/core/ports';
import type { CloudMessage } from '../../protocol/messages';
import { TEST_CREDENTIALS, TEST_REGION, createTable, startDynalite, type Dynalite } from '../aws/emulators';

/** Connections become postable only when established; before that, and after close, 'gone'. */
class ConnectWindowGateway implements ConnectionGateway {
  private readonly established = new Set<string>();
  readonly sent: { connectionId: string; message: CloudMessage }[] = [];
  establish(connectionId: string): void {
    this.established.add(connectionId);
  }
  close(connectionId: string): Promise<void> {
    this.established.delete(connectionId);
    return Promise.resolve();
  }
  async post(connectionId: string, message: CloudMessage): Promise<PostResult> {
    if (!this.established.has(connectionId)) return 'gone';
    this.sent.push({ connectionId, message });
    return 'ok';
  }
}

const hl7 = (id: string) => `MSH|^~\\&|EP|CLOUD|LAB|HOSP|20240101120000||ADT^A01|${id}|P|2.5\rPID|1||123\r`;

let dynalite: Dynalite;
let clients: AwsClients;
let gateway: ConnectWindowGateway;
let core: EdgePushCore;

beforeAll(async () => {
  dynalite = await startDynalite();
  const tableName = `edgepush-${randomUUID()}`;
  await createTable(dynalite.endpoint, tableName);
  clients = createClients({
    region: TEST_REGION,
    credentials: TEST_CREDENTIALS,
    tableName,
    queueUrl: 'unused',
    inboundQueueUrl: 'unused',
    managementEndpoint: 'http://127.0.0.1:1',
    retentionDays: 30,
    dynamoEndpoint: dynalite.endpoint,
  });
  const pushes = new DynamoPushStore(clients.dynamo, tableName, 30, { idempotentCreate: 'two-step-for-dynalite' });
  gateway = new ConnectWindowGateway();
  core = createCore({
    pushes,
    agents: new DynamoAgentStore(clients.dynamo, tableName),
    queue: new MemoryQueue(),
    inbound: memoryInboundPorts(),
    gateway,
    watcher: new PollingWatcher(pushes),
    clock: { now: () => Date.now() },
    secretKey: { get: () => Promise.resolve(Buffer.alloc(32, 7)) },
  });
});

afterAll(async () => {
  clients?.dynamo.destroy();
  clients?.sqs.destroy();
  clients?.management.destroy();
  await dynalite?.close();
});

const http = async (method: string, path: string, body?: object) => {
  const res = await handleHttp(core, {
    method,
    path,
    headers: { 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, json: JSON.parse(res.body) as Record<string, any> };
};

it('a dispatch during $connect does not forget the connection that is being opened', async () => {
  expect((await http('POST', '/agents', { agentId: 'site-w' })).status).toBe(201);
  const accepted = await http('POST', '/agents/site-w/push', { destination: 'lab', body: hl7('WIN-1'), waitForResponse: false });
  expect(accepted.status).toBe(202);
  const item = { pushId: accepted.json.pushId as string, agentId: 'site-w', destination: 'lab' };

  // The $connect Lambda records the connection; API Gateway has not finished the handshake.
  await core.relayConnected('site-w', 'conn-1');
  const early = await core.dispatch(item);
  expect(early.done).toBe(false);
  expect((await http('GET', `/pushes/${item.pushId}`)).json).toMatchObject({ status: 'queued', attempts: 0 });

  // $connect returned: the connection is live, and the agent must still point at it.
  gateway.establish('conn-1');
  expect((await http('GET', '/agents/site-w')).json.status).toBe('connected');
  await core.dispatch(item);
  expect(gateway.sent.map((s) => s.connectionId)).toEqual(['conn-1']);
  expect((await http('GET', `/pushes/${item.pushId}`)).json).toMatchObject({ status: 'sent', attempts: 1 });
});

it('a connection that is still gone after the $connect window is dropped', async () => {
  expect((await http('POST', '/agents', { agentId: 'site-z' })).status).toBe(201);
  const accepted = await http('POST', '/agents/site-z/push', { destination: 'lab', body: hl7('WIN-2'), waitForResponse: false });
  const item = { pushId: accepted.json.pushId as string, agentId: 'site-z', destination: 'lab' };
  // Connected long ago (an hour before now), never established here: a stale connection.
  const realNow = Date.now;
  Date.now = () => realNow() - 3_600_000;
  try {
    await core.relayConnected('site-z', 'conn-stale');
  } finally {
    Date.now = realNow;
  }
  await core.dispatch(item);
  expect((await http('GET', '/agents/site-z')).json.status).toBe('disconnected');
});
