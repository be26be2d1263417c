/**
 * The mapping routes on the hub's real store (lmdb) and core: templates, previews, pushes with
 * template + data or FHIR JSON, and FHIR rest-hook triggers, with a real FHIR HTTP server for
 * id-only notifications. Every bad input answers a 4xx with a code and stores no push.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ASTM_CONTENT_TYPE } from '../../protocol/content-types';
import { controlIdForPush } from '../../hl7/control-id';
import { readMessage } from '../../hl7/reader';
import { handleHttp } from '../../lambdas/http/router';
import { startInProcessHub, type InProcessHub } from './in-process-hub';

const TEMPLATE = {
  target: 'hl7v2',
  messageType: 'ORU^R01^ORU_R01',
  timeZone: 'America/New_York',
  segments: [
    { segment: 'PID', fields: { '3': { path: '$.mrn', required: true }, '5': [{ path: '$.family' }, { path: '$.given' }] } },
    {
      segment: 'OBX',
      each: '$.results',
      fields: { '1': { setId: true }, '3': { path: '@.code' }, '5': { path: '@.value' }, '14': { path: '@.at', format: 'datetime' } },
    },
  ],
};
const DATA = { mrn: 'M|1', family: 'Doe^', given: 'Jane', results: [{ code: 'GLU', value: 5.4, at: '2024-07-01T12:00:00Z' }] };

const SERVICE_REQUEST = {
  resourceType: 'ServiceRequest',
  id: 'sr-1',
  meta: { versionId: '1' },
  status: 'active',
  intent: 'order',
  contained: [{ resourceType: 'Patient', id: 'p', identifier: [{ value: 'MRN-1' }], name: [{ family: 'Zoë', given: ['A|B'] }] }],
  identifier: [{ value: 'ORD-1' }],
  code: { coding: [{ system: 'http://loinc.org', code: '2345-7' }] },
  subject: { reference: '#p' },
};

let hub: InProcessHub;
const AGENT = 'map-agent';

async function pushCount(): Promise<number> {
  return (await hub.store.list({ limit: 500 })).pushes.length;
}

async function expectRefused(method: string, path: string, body: unknown, status: number, code: string): Promise<Record<string, any>> {
  const before = await pushCount();
  const res = await hub.api(method, path, body);
  expect({ status: res.status, code: res.body.code }).toEqual({ status, code });
  expect(typeof res.body.error).toBe('string');
  expect(await pushCount()).toBe(before);
  return res.body;
}

beforeAll(async () => {
  hub = await startInProcessHub();
  expect((await hub.api('POST', '/agents', { agentId: AGENT })).status).toBe(201);
  // The relay said hello with these devices: other names are unknown destinations.
  await hub.store.agentStore().touch(AGENT, { lastSeenAt: Date.now(), devices: ['lab', 'analyser'] });
});
afterAll(async () => {
  await hub.close();
});

describe('templates', () => {
  it('stores, lists, reads and previews a template', async () => {
    const put = await hub.api('PUT', '/templates/oru', TEMPLATE);
    expect(put.status).toBe(201);
    expect(put.body).toMatchObject({ name: 'oru', target: 'hl7v2', messageType: 'ORU^R01^ORU_R01' });
    expect((await hub.api('PUT', '/templates/oru', TEMPLATE)).status).toBe(200);
    expect((await hub.api('GET', '/templates')).body.templates).toEqual([
      expect.objectContaining({ name: 'oru', target: 'hl7v2', messageType: 'ORU^R01^ORU_R01' }),
    ]);
    expect((await hub.api('GET', '/templates/oru')).body.document).toEqual(TEMPLATE);

    const before = await pushCount();
    const preview = await hub.api('POST', '/templates/oru/render', { data: DATA });
    expect(preview.status).toBe(200);
    expect(preview.body.contentType).toBe('x-application/hl7-v2+er7');
    const segs = readMessage(preview.body.body as string).segments;
    expect(segs[0][10]).toBe('PREVIEW');
    expect(segs[1]).toStrictEqual(['PID', '', '', 'M|1', '', ['Doe^', 'Jane']]);
    expect(segs[2][14]).toBe('20240701080000-0400');
    expect(await pushCount()).toBe(before);
  });

  it('refuses a bad template with the rule it found wrong, and stores nothing', async () => {
    const bad = { ...TEMPLATE, segments: [TEMPLATE.segments[0], { segment: 'OBX', fields: { '5': { path: 'value' } } }] };
    const body = await expectRefused('PUT', '/templates/bad', bad, 400, 'INVALID_TEMPLATE');
    expect(body.error).toMatch(/^segments\[1\]\.fields\[5\]\.path: /);
    expect((await hub.api('GET', '/templates/bad')).body.code).toBe('TEMPLATE_NOT_FOUND');
    await expectRefused('PUT', '/templates/no%20spaces', TEMPLATE, 400, 'INVALID_TEMPLATE_NAME');
    await expectRefused('POST', '/templates/nope/render', { data: DATA }, 404, 'TEMPLATE_NOT_FOUND');
    await expectRefused('POST', '/templates/oru/render', {}, 400, 'MISSING_DATA');
  });
});

describe('a push with template + data', () => {
  it('stores the rendered body with MSH-10 from the push id, and is idempotent on the request', async () => {
    const res = await hub.api('POST', `/agents/${AGENT}/push`, {
      destination: 'lab',
      template: 'oru',
      data: DATA,
      waitForResponse: false,
      idempotencyKey: 'k-1',
    });
    expect(res.status).toBe(202);
    const stored = hub.store.listOpen().find((p) => p.pushId === res.body.pushId) ?? (await hub.store.get(res.body.pushId as string));
    const segs = readMessage(stored!.body).segments;
    expect(segs[0][10]).toBe(controlIdForPush(res.body.pushId as string));
    expect(segs[0][9]).toStrictEqual(['ORU', 'R01', 'ORU_R01']);
    expect(segs[1][3]).toBe('M|1');

    // The same request again (a client retry): the same push, though a new render would differ.
    const again = await hub.api('POST', `/agents/${AGENT}/push`, {
      destination: 'lab',
      template: 'oru',
      data: DATA,
      waitForResponse: false,
      idempotencyKey: 'k-1',
    });
    expect(again.body.pushId).toBe(res.body.pushId);
    await expectRefused(
      'POST',
      `/agents/${AGENT}/push`,
      { destination: 'lab', template: 'oru', data: { ...DATA, mrn: 'other' }, waitForResponse: false, idempotencyKey: 'k-1' },
      409,
      'IDEMPOTENCY_CONFLICT',
    );
  });

  it.each([
    ['an unknown template', { template: 'nope', data: DATA }, 404, 'TEMPLATE_NOT_FOUND'],
    ['no data', { template: 'oru' }, 400, 'MISSING_DATA'],
    ['a required value missing', { template: 'oru', data: { ...DATA, mrn: undefined } }, 400, 'MISSING_DATA'],
    ['an object where text goes', { template: 'oru', data: { ...DATA, family: { text: 'Doe' } } }, 400, 'WRONG_DATA_TYPE'],
    ['a date that is no date', { template: 'oru', data: { ...DATA, results: [{ at: 'noon' }] } }, 400, 'WRONG_DATA_TYPE'],
    ['data that is text', { template: 'oru', data: 'Doe' }, 400, 'WRONG_DATA_TYPE'],
    ['body and template', { template: 'oru', data: DATA, body: 'MSH|^~\\&|' }, 400, 'BODY_AND_TEMPLATE'],
    ['a bad template name', { template: '../x', data: DATA }, 400, 'INVALID_TEMPLATE_NAME'],
  ])('refuses %s: nothing pushed', async (_name, fields, status, code) => {
    const body = await expectRefused(
      'POST',
      `/agents/${AGENT}/push`,
      { destination: 'lab', waitForResponse: false, ...fields },
      status,
      code,
    );
    if (code === 'MISSING_DATA' && 'data' in fields) expect(body.error).toContain('segments[0].fields[3]');
  });
});

describe('a push of FHIR JSON (contentType application/fhir+json)', () => {
  it('maps a ServiceRequest with the built-in ORM^O01', async () => {
    const res = await hub.api('POST', `/agents/${AGENT}/push`, {
      destination: 'lab',
      contentType: 'application/fhir+json',
      body: SERVICE_REQUEST,
      waitForResponse: false,
    });
    expect(res.status).toBe(202);
    const push = await hub.store.get(res.body.pushId as string);
    const segs = readMessage(push!.body).segments;
    expect(segs.map((s) => s[0])).toStrictEqual(['MSH', 'PID', 'ORC', 'TQ1', 'OBR']);
    expect(segs[1][5]).toStrictEqual(['Zoë', 'A|B']);
    expect(segs[0][10]).toBe(controlIdForPush(push!.pushId));
  });

  it('refuses a resource type with no mapping', async () => {
    await expectRefused(
      'POST',
      `/agents/${AGENT}/push`,
      { destination: 'lab', contentType: 'application/fhir+json', body: { resourceType: 'Observation', id: 'o' } },
      400,
      'UNSUPPORTED_RESOURCE',
    );
  });
});

describe('FHIR rest-hook triggers', () => {
  let fhir: Server;
  let fhirBase: string;
  const seen: { path: string; auth?: string }[] = [];
  const RESOURCES: Record<string, unknown> = {
    '/fhir/R4/ServiceRequest/sr-9': {
      ...SERVICE_REQUEST,
      id: 'sr-9',
      meta: { versionId: '4' },
      contained: undefined,
      subject: { reference: 'Patient/p-9' },
      requester: { reference: 'Practitioner/dr-9' },
    },
    '/fhir/R4/Patient/p-9': { resourceType: 'Patient', id: 'p-9', identifier: [{ value: 'MRN-9' }], name: [{ family: 'Nine' }] },
    '/fhir/R4/Practitioner/dr-9': { resourceType: 'Practitioner', id: 'dr-9', name: [{ family: 'House', given: ['G'] }] },
  };

  beforeAll(async () => {
    fhir = createServer((req: IncomingMessage, res) => {
      seen.push({ path: req.url ?? '', auth: req.headers.authorization });
      const resource = RESOURCES[req.url ?? ''];
      if (req.headers.authorization !== 'Bearer fhir-secret') return void res.writeHead(401).end();
      if (!resource) return void res.writeHead(404, { 'content-type': 'application/fhir+json' }).end('{"resourceType":"OperationOutcome"}');
      res.writeHead(200, { 'content-type': 'application/fhir+json' }).end(JSON.stringify(resource));
    });
    await new Promise<void>((r) => fhir.listen(0, '127.0.0.1', r));
    fhirBase = `http://127.0.0.1:${(fhir.address() as AddressInfo).port}/fhir/R4`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => fhir.close(() => r()));
  });

  const idOnly = (focus: string) => ({
    resourceType: 'Bundle',
    type: 'history',
    entry: [
      {
        fullUrl: 'urn:uuid:status',
        resource: {
          resourceType: 'SubscriptionStatus',
          status: 'active',
          type: 'event-notification',
          eventsSinceSubscriptionStart: '3',
          notificationEvent: [{ eventNumber: '3', focus: { reference: focus } }],
          subscription: { reference: 'Subscription/s1' },
          topic: 'http://example.org/topic/order',
        },
      },
      { fullUrl: focus, request: { method: 'PUT', url: 'ServiceRequest/sr-9' }, response: { status: '200' } },
    ],
  });

  it('pushes what Medplum posts (the resource as the body), once per resource version', async () => {
    const post = () =>
      handleHttp(hub.core, {
        method: 'POST',
        path: `/agents/${AGENT}/fhir-hook/lab`,
        headers: { 'content-type': 'application/fhir+json' },
        body: JSON.stringify(SERVICE_REQUEST),
      });
    const first = await post();
    expect(first.status).toBe(202);
    const [push] = JSON.parse(first.body).pushes;
    expect(push.duplicate).toBe(false);
    const before = await pushCount();
    const again = await post();
    expect(again.status).toBe(200);
    expect(JSON.parse(again.body).pushes).toEqual([expect.objectContaining({ pushId: push.pushId, duplicate: true })]);
    expect(await pushCount()).toBe(before);
    // A new version pushes again.
    const v2 = await hub.api('POST', `/agents/${AGENT}/fhir-hook/lab`, { ...SERVICE_REQUEST, meta: { versionId: '2' } });
    expect(v2.status).toBe(202);
    expect(v2.body.pushes[0].pushId).not.toBe(push.pushId);
  });

  it('reads id-only notifications from the configured FHIR server with the sealed token', async () => {
    await expectRefused('POST', `/agents/${AGENT}/fhir-hook/lab`, idOnly(`${fhirBase}/ServiceRequest/sr-9`), 409, 'HOOK_NOT_CONFIGURED');
    const put = await hub.api('PUT', `/agents/${AGENT}/fhir-hook/lab`, {
      fhirBaseUrl: fhirBase,
      token: 'fhir-secret',
      timeZone: 'Europe/Berlin',
    });
    expect(put.status).toBe(200);
    expect(put.body).toEqual(expect.objectContaining({ fhirBaseUrl: fhirBase, tokenSet: true, timeZone: 'Europe/Berlin' }));
    expect(JSON.stringify(put.body)).not.toContain('fhir-secret');
    expect(JSON.stringify((await hub.api('GET', `/agents/${AGENT}/fhir-hook/lab`)).body)).not.toContain('fhir-secret');
    // Nor in the store: it is sealed.
    expect(JSON.stringify(await hub.store.templateStore().getHook(AGENT, 'lab'))).not.toContain('fhir-secret');

    seen.length = 0;
    const res = await hub.api('POST', `/agents/${AGENT}/fhir-hook/lab`, idOnly(`${fhirBase}/ServiceRequest/sr-9`));
    expect(res.status).toBe(202);
    expect(seen.map((s) => s.path)).toStrictEqual(['/fhir/R4/ServiceRequest/sr-9', '/fhir/R4/Patient/p-9', '/fhir/R4/Practitioner/dr-9']);
    expect(seen.every((s) => s.auth === 'Bearer fhir-secret')).toBe(true);
    const push = await hub.store.get(res.body.pushes[0].pushId as string);
    const segs = readMessage(push!.body).segments;
    expect(segs.find((s) => s[0] === 'PID')![3]).toBe('MRN-9');
    expect(segs.find((s) => s[0] === 'ORC')![12]).toStrictEqual(['', 'House', 'G']);
    // Re-sent notification: no second push.
    const again = await hub.api('POST', `/agents/${AGENT}/fhir-hook/lab`, idOnly(`${fhirBase}/ServiceRequest/sr-9`));
    expect(again.status).toBe(200);
    expect(again.body.pushes[0].pushId).toBe(push!.pushId);
  });

  it('answers a heartbeat without pushing', async () => {
    const before = await pushCount();
    const heartbeat = {
      resourceType: 'Bundle',
      type: 'history',
      entry: [{ resource: { resourceType: 'SubscriptionStatus', type: 'heartbeat', status: 'active' } }],
    };
    const res = await hub.api('POST', `/agents/${AGENT}/fhir-hook/lab`, heartbeat);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ type: 'heartbeat', pushes: [] });
    expect(await pushCount()).toBe(before);
  });

  it('renders ASTM order records for an ASTM destination', async () => {
    await hub.api('PUT', `/agents/${AGENT}/fhir-hook/analyser`, { contentType: ASTM_CONTENT_TYPE });
    const res = await hub.api('POST', `/agents/${AGENT}/fhir-hook/analyser`, SERVICE_REQUEST);
    expect(res.status).toBe(202);
    const push = await hub.store.get(res.body.pushes[0].pushId as string);
    expect(push!.contentType).toBe(ASTM_CONTENT_TYPE);
    expect(push!.body.split('\r').map((r) => r[0])).toStrictEqual(['H', 'P', 'O', 'L', undefined]);
  });

  it.each([
    [
      'an unsupported resource type',
      'lab',
      { resourceType: 'Observation', id: 'o', meta: { versionId: '1' } },
      400,
      'UNSUPPORTED_RESOURCE',
    ],
    ['something that is no resource', 'lab', { hello: 'world' }, 400, 'UNSUPPORTED_RESOURCE'],
    ['a notification for an unknown destination', 'nowhere', SERVICE_REQUEST, 404, 'DESTINATION_NOT_FOUND'],
    ['a ServiceRequest whose Patient is missing', 'lab', { ...SERVICE_REQUEST, contained: [] }, 400, 'MISSING_DATA'],
  ])('refuses %s: nothing pushed', async (_name, destination, body, status, code) => {
    await expectRefused('POST', `/agents/${AGENT}/fhir-hook/${destination}`, body, status, code);
  });

  it('refuses an unknown agent, bad hook settings, and a FHIR server that fails', async () => {
    await expectRefused('POST', '/agents/ghost/fhir-hook/lab', SERVICE_REQUEST, 404, 'AGENT_NOT_FOUND');
    await expectRefused('PUT', `/agents/${AGENT}/fhir-hook/lab`, { fhirBaseUrl: 'ftp://x' }, 400, 'INVALID_HOOK');
    await expectRefused('PUT', `/agents/${AGENT}/fhir-hook/lab`, { template: 'nope' }, 404, 'TEMPLATE_NOT_FOUND');
    await hub.api('PUT', `/agents/${AGENT}/fhir-hook/lab`, { fhirBaseUrl: fhirBase, token: 'wrong' });
    const body = await expectRefused(
      'POST',
      `/agents/${AGENT}/fhir-hook/lab`,
      idOnly(`${fhirBase}/ServiceRequest/sr-9`),
      502,
      'FHIR_SERVER_FAILED',
    );
    expect(body.error).toContain('401');
  });
});
