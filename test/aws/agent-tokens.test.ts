/**
 * Tokens restricted to agents on the AWS path: the HTTP Lambda (on dynalite and fauxqs) gets the
 * JWT authorizer's context as API Gateway passes it, array claims as `[a b]` text, and acts only
 * on the token's agents: 403 for others, lists filtered. No authorizer context (IAM auth):
 * unrestricted.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { startEmulatedAws, type EmulatedAws } from './emulated-aws';

jest.setTimeout(60_000);

const hl7 = (id: string) => `MSH|^~\\&|EP|CLOUD|LAB|HOSP|20240101120000||ADT^A01|${id}|P|2.5\rPID|1||123\r`;

let aws: EmulatedAws;
let handler: typeof import('../../lambdas/handlers/http').handler;
const suffix = randomUUID().slice(0, 8);
const [mine, theirs] = [`jwt-a-${suffix}`, `jwt-b-${suffix}`];

beforeAll(async () => {
  aws = await startEmulatedAws();
  handler = (require('../../lambdas/handlers/http') as typeof import('../../lambdas/handlers/http')).handler;
}, 60_000);
afterAll(async () => {
  await aws?.stop();
});

/** A request as API Gateway hands it over after its JWT authorizer accepted the token. */
async function call(method: string, rawPath: string, claims: Record<string, unknown>, body?: unknown) {
  const [path, query = ''] = rawPath.split('?');
  const event = {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: query,
    headers: { 'content-type': 'application/json', host: 'api.example.com' },
    body: body === undefined ? undefined : JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: {
      domainName: 'api.example.com',
      stage: '$default',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      authorizer: { jwt: { claims, scopes: null } },
    },
  } as unknown as APIGatewayProxyEventV2;
  const res = await handler(event);
  return { status: res.statusCode, body: JSON.parse(res.body ?? '{}') as Record<string, any> };
}

it('acts only on the agents of the claim, on every route kind, and filters the lists', async () => {
  const admin = { scope: 'edgepush/push edgepush/admin' };
  const restricted = { ...admin, agents: `[${mine}]` };
  const pushIds: Record<string, string> = {};
  for (const agentId of [mine, theirs]) {
    expect((await call('POST', '/agents', admin, { agentId })).status).toBe(201);
    const res = await call('POST', `/agents/${agentId}/push`, admin, {
      destination: 'lab',
      body: hl7(agentId.slice(0, 10)),
      waitForResponse: false,
    });
    expect(res.status).toBe(202);
    pushIds[agentId] = res.body.pushId as string;
  }
  expect((await call('GET', `/pushes/${pushIds[mine]}`, restricted)).status).toBe(200);
  for (const [method, path, body] of [
    ['GET', `/agents/${theirs}`],
    ['POST', `/agents/${theirs}/push`, { destination: 'lab', body: hl7('X1'), waitForResponse: false }],
    ['GET', `/pushes/${pushIds[theirs]}`],
    ['POST', `/pushes/${pushIds[theirs]}/cancel`],
    ['GET', `/pushes?agentId=${theirs}`],
  ] as [string, string, unknown?][]) {
    expect(await call(method, path, restricted, body)).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
  }
  const agents = (await call('GET', '/agents', restricted)).body.agents as { agentId: string }[];
  expect(agents.map((a) => a.agentId)).toStrictEqual([mine]);
  const pushes = (await call('GET', '/pushes', restricted)).body.pushes as { agentId: string }[];
  expect([...new Set(pushes.map((p) => p.agentId))]).toStrictEqual([mine]);
  // The same routes without the claim see both agents.
  const all = ((await call('GET', '/agents', admin)).body.agents as { agentId: string }[]).map((a) => a.agentId);
  expect(all).toEqual(expect.arrayContaining([mine, theirs]));
});
