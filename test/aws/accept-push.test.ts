/**
 * Accepting pushes through the core on the aws adapters (dynalite + fauxqs) when SQS fails:
 * what a failed enqueue may and may not do to a push.
 */
import { randomUUID } from 'node:crypto';
import { DeleteQueueCommand } from '@aws-sdk/client-sqs';
import { createAwsPorts } from '../../lambdas/adapters/aws/aws-ports';
import { createClients, type AwsClients } from '../../lambdas/adapters/aws/clients';
import { createCore, type EdgePushCore } from '../../lambdas/core/core';
import { handleHttp } from '../../lambdas/http/router';
import { startSecretsManager, type SecretsManagerEmulator } from '../emulators/secrets-manager';
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

jest.setTimeout(30000);

const hl7 = (id: string) => `MSH|^~\\&|EP|CLOUD|LAB|HOSP|20240101120000||ADT^A01|${id}|P|2.5\rPID|1||123\r`;

let dynalite: Dynalite;
let fauxqs: Fauxqs;
let secretsManager: SecretsManagerEmulator;
let clients: AwsClients;
let core: EdgePushCore;
let queueUrl: string;

beforeAll(async () => {
  [dynalite, fauxqs, secretsManager] = await Promise.all([
    startDynalite(),
    startFauxqs(),
    startSecretsManager({ 'agent-key': randomUUID() + randomUUID() }),
  ]);
  const tableName = `edgepush-${randomUUID()}`;
  await createTable(dynalite.endpoint, tableName);
  queueUrl = await createFifoQueue(fauxqs.endpoint, `edgepush-${randomUUID().slice(0, 8)}`);
  const config = {
    region: TEST_REGION,
    credentials: TEST_CREDENTIALS,
    tableName,
    queueUrl,
    inboundQueueUrl: 'unused',
    managementEndpoint: 'http://127.0.0.1:1',
    retentionDays: 30,
    dynamoEndpoint: dynalite.endpoint,
    sqsEndpoint: fauxqs.endpoint,
    agentKeySecret: 'agent-key',
    // dynalite has no TransactWriteItems.
    idempotentCreate: 'two-step-for-dynalite' as const,
    secretsManagerEndpoint: secretsManager.endpoint,
  };
  clients = createClients(config);
  core = createCore(createAwsPorts(config, clients));
});

afterAll(async () => {
  clients?.dynamo.destroy();
  clients?.sqs.destroy();
  clients?.management.destroy();
  clients?.secrets.destroy();
  await Promise.all([dynalite?.close(), fauxqs?.close(), secretsManager?.close()]);
});

const post = async (path: string, body: object) => {
  const res = await handleHttp(core, { method: 'POST', path, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: JSON.parse(res.body) as Record<string, any> };
};

it('a replay whose re-enqueue fails does not fail the push an earlier request already accepted', async () => {
  expect((await post('/agents', { agentId: 'site-r' })).status).toBe(201);
  const request = { destination: 'lab', body: hl7('REPLAY-1'), idempotencyKey: 'order-1', waitForResponse: false };
  const first = await post('/agents/site-r/push', request);
  expect(first.status).toBe(202);
  expect(first.json.status).toBe('queued');

  // SQS goes away (here: the queue is deleted), and the caller retries with the same key.
  await clients.sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
  const replay = await post('/agents/site-r/push', request);
  expect(replay.status).toBe(503);
  expect(replay.json.code).toBe('QUEUE_UNAVAILABLE');

  // The push the first request was told was accepted (202) is still on its way.
  const after = await handleHttp(core, { method: 'GET', path: `/pushes/${first.json.pushId}`, headers: {} });
  expect(JSON.parse(after.body)).toMatchObject({ pushId: first.json.pushId, status: 'queued' });
});

it('a first request whose enqueue fails is refused (503) and its push is failed, not left queued', async () => {
  // The queue from the test above is gone.
  expect((await post('/agents', { agentId: 'site-s' })).status).toBe(201);
  const request = { destination: 'lab', body: hl7('NOQ-1'), idempotencyKey: 'order-2' };
  const res = await post('/agents/site-s/push', request);
  expect(res.status).toBe(503);
  expect(res.json.code).toBe('QUEUE_UNAVAILABLE');
  // The key finds the stored push: failed, so nothing is left queued that no queue holds.
  const replay = await post('/agents/site-s/push', request);
  expect(replay.status).toBe(502);
  expect(replay.json).toMatchObject({ status: 'failed', error: 'could not enqueue the push' });
});

it('a store error while waiting for the ACK answers 504 with Location for the accepted push, not 500', async () => {
  // Its own table server, so it can fail mid-wait: the push is accepted, then reads break.

  const dynaliteServer = (require('dynalite') as (opts: object) => import('node:http').Server)({ createTableMs: 0 });
  await new Promise<void>((resolve) => dynaliteServer.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(dynaliteServer.address() as import('node:net').AddressInfo).port}`;
  const tableName = `edgepush-${randomUUID()}`;
  await createTable(endpoint, tableName);
  const liveQueue = await createFifoQueue(fauxqs.endpoint, `edgepush-${randomUUID().slice(0, 8)}`);
  const config = {
    region: TEST_REGION,
    credentials: TEST_CREDENTIALS,
    tableName,
    queueUrl: liveQueue,
    inboundQueueUrl: 'unused',
    managementEndpoint: 'http://127.0.0.1:1',
    retentionDays: 30,
    dynamoEndpoint: endpoint,
    sqsEndpoint: fauxqs.endpoint,
    agentKeySecret: 'agent-key',
    // dynalite has no TransactWriteItems.
    idempotentCreate: 'two-step-for-dynalite' as const,
    secretsManagerEndpoint: secretsManager.endpoint,
  };
  const own = createClients(config);
  const ownCore = createCore(createAwsPorts(config, own));
  try {
    await handleHttp(ownCore, {
      method: 'POST',
      path: '/agents',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ agentId: 'site-t' }),
    });
    const pending = handleHttp(ownCore, {
      method: 'POST',
      path: '/agents/site-t/push',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ destination: 'lab', body: hl7('WAIT-1'), waitTimeout: 3000 }),
      baseUrl: 'https://api.example',
    });
    await new Promise((r) => setTimeout(r, 300));
    dynaliteServer.closeAllConnections();
    dynaliteServer.close();
    const res = await pending;
    expect(res.status).toBe(504);
    const body = JSON.parse(res.body);
    expect(body).toMatchObject({ status: 'queued', pushId: expect.any(String) });
    expect(res.headers.location).toBe(`https://api.example/pushes/${body.pushId}`);
  } finally {
    own.dynamo.destroy();
    own.sqs.destroy();
    own.management.destroy();
    dynaliteServer.close();
  }
});
