/**
 * A push that waits for its result never outlives the HTTP Lambda. The emulated HTTP API
 * cuts the handler off at the function's timeout (as Lambda does; API Gateway then answers
 * 500, which MedplumClient resends as a second push). With a timeout shorter than
 * waitTimeout, the stored push must still be answered as in flight: 504 + Location, or on the
 * Medplum route its 400 timeout OperationOutcome.
 *
 * The agent must look connected: with no relay connection the HTTP Lambda answers at once
 * (full-path.test.ts) and never waits. A connection id no gateway knows does it: the
 * dispatcher's post finds it gone, and the push waits for a relay that never comes.
 */
import { randomUUID } from 'node:crypto';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { startEmulatedAws, type EmulatedAws } from './emulated-aws';

jest.setTimeout(60000);

const hl7 = (id: string) => `MSH|^~\\&|EP|CLOUD|LAB|HOSP|20240101120000||ADT^A01|${id}|P|2.5\rPID|1||123\r`;

let aws: EmulatedAws;

beforeAll(async () => {
  // The relay never connects: every push waits its whole waitTimeout (25 s) for nothing.
  aws = await startEmulatedAws({ httpTimeoutMs: 4000 });
}, 60000);

afterAll(async () => {
  await aws?.stop();
});

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(aws.httpUrl + path, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return {
    status: res.status,
    json: JSON.parse(text) as Record<string, any>,
    location: res.headers.get('location'),
    notWaited: res.headers.get('edgepush-not-waited'),
  };
}

async function createLookingConnected(agentId: string) {
  expect((await api('POST', '/agents', { agentId })).status).toBe(201);
  await aws.handlers.runtime.getRuntime().clients.dynamo.send(
    new UpdateCommand({
      TableName: process.env.EDGEPUSH_TABLE,
      Key: { pk: `agent#${agentId}` },
      UpdateExpression: 'SET connectionId = :c, connectedAt = :at',
      ExpressionAttributeValues: { ':c': `ghost-${agentId}`, ':at': Date.now() },
    }),
  );
}

it('answers 504 + Location inside the Lambda timeout, and the push stays stored', async () => {
  const agentId = `site-${randomUUID().slice(0, 8)}`;
  await createLookingConnected(agentId);
  const res = await api('POST', `/agents/${agentId}/push`, { destination: 'lab', body: hl7('CLIP-1'), waitTimeout: 25000 });
  expect(res.status).toBe(504);
  expect(res.notWaited).toBeNull();
  expect(res.json).toMatchObject({ status: 'queued' });
  expect(res.location).toBe(`${aws.httpUrl}/pushes/${res.json.pushId}`);
  expect((await api('GET', `/pushes/${res.json.pushId}`)).json).toMatchObject({ pushId: res.json.pushId, status: 'queued' });
});

it('the Medplum route answers its timeout OperationOutcome (400) + Location, never a 5xx', async () => {
  const agentId = `site-${randomUUID().slice(0, 8)}`;
  await createLookingConnected(agentId);
  const res = await api('POST', `/fhir/R4/Agent/${agentId}/$push`, { destination: 'Device/lab', body: hl7('CLIP-2'), waitTimeout: 25000 });
  expect(res.status).toBe(400);
  expect(res.notWaited).toBeNull();
  expect(res.json).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'timeout' }] });
  expect(res.location).toMatch(new RegExp(`/pushes/[0-9a-f-]{36}$`));
});
