/**
 * Edges of the HTTP push API on emulated AWS (the real Lambda handlers, dynalite, fauxqs and
 * the API-Gateway-like WebSocket gateway), with a relay scripted on a raw WebSocket.
 */
import { randomUUID } from 'node:crypto';
import { MedplumClient, type OperationOutcomeError } from '@medplum/core';
import WebSocket from 'ws';
import { AGENT_ID_HEADER, AGENT_SECRET_HEADER } from '../../protocol/messages';
import { startEmulatedAws, type EmulatedAws } from './emulated-aws';
import { ChunkAssembler } from '../../protocol/chunks';
import type { CloudChunkMessage } from '../../protocol/messages';

jest.setTimeout(30000);

const hl7 = (id: string, extra = '') => `MSH|^~\\&|EP|CLOUD|LAB|HOSP|20240101120000||ORU^R01|${id}|P|2.5\rPID|1||123\r${extra}`;

let aws: EmulatedAws;
const sockets: WebSocket[] = [];

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: any; text: string; headers: Headers }> {
  const res = await fetch(aws.httpUrl + path, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, headers: res.headers };
}

async function createAgent(): Promise<{ agentId: string; secret: string }> {
  const res = await api('POST', '/agents', { agentId: `site-${randomUUID().slice(0, 8)}` });
  expect(res.status).toBe(201);
  return res.json;
}

/**
 * A relay on a raw WebSocket: says hello and records what the cloud sends. It never answers a
 * push, or, with `ackAfterMs`, answers each with an AA that long after receiving it.
 */
async function silentRelay(agent: { agentId: string; secret: string }, devices: string[], ackAfterMs?: number): Promise<any[]> {
  const ws = new WebSocket(aws.wsUrl, { headers: { [AGENT_ID_HEADER]: agent.agentId, [AGENT_SECRET_HEADER]: agent.secret } });
  sockets.push(ws);
  const received: any[] = [];
  ws.on('message', (data) => {
    const msg = JSON.parse(String(data));
    received.push(msg);
    if (msg.type === 'push' && ackAfterMs !== undefined) {
      setTimeout(
        () =>
          ws.send(
            JSON.stringify({
              action: 'result',
              v: 1,
              pushId: msg.pushId,
              status: 'acked',
              ackCode: 'AA',
              response: 'MSH|^~\\&|\rMSA|AA|X',
            }),
          ),
        ackAfterMs,
      );
    }
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  ws.send(JSON.stringify({ action: 'hello', v: 1, version: 'scripted', devices }));
  const deadline = Date.now() + 5000;
  while (!received.some((m) => m.type === 'helloAck')) {
    if (Date.now() > deadline) throw new Error('no helloAck');
    await new Promise((r) => setTimeout(r, 20));
  }
  return received;
}

/** MedplumClient wants a JWT-shaped token; IAM-mode API Gateway (emulated) does not check it. */
const unsignedJwt = () =>
  ['{"alg":"none"}', JSON.stringify({ exp: Math.floor(Date.now() / 1000) + 3600 }), '']
    .map((p) => Buffer.from(p).toString('base64url'))
    .join('.');

beforeAll(async () => {
  aws = await startEmulatedAws({ env: { EDGEPUSH_OFFLINE_RETRY_MS: '200' } });
}, 60000);

afterAll(async () => {
  for (const s of sockets) s.terminate();
  await aws?.stop();
});

describe('HTTP push API edges on emulated AWS', () => {
  it('a path with malformed percent-encoding gets a JSON error, not a crashed Lambda', async () => {
    const res = await api('POST', '/agents/%E0%A4%A/push', { destination: 'lab', body: hl7('BADPATH') });
    expect([400, 404]).toContain(res.status);
    expect(res.json).toMatchObject({ code: expect.any(String), error: expect.any(String) });
  });

  it('a push id no store could hold is 404, not 500', async () => {
    const res = await api('GET', `/pushes/${'x'.repeat(3000)}`);
    expect(res.status).toBe(404);
    expect(res.json).toMatchObject({ code: 'PUSH_NOT_FOUND' });
  });

  it('MedplumClient.pushToAgent on a device slower than waitTimeout makes one push, not one per SDK retry', async () => {
    const agent = await createAgent();
    const received = await silentRelay(agent, ['lab'], 400);
    const medplum = new MedplumClient({ baseUrl: `${aws.httpUrl}/`, fetch: (url: string, init: RequestInit) => fetch(url, init) });
    medplum.setAccessToken(unsignedJwt());
    // The device answers after waitTimeout: the push is still in flight then. MedplumClient
    // resends a POST answered 429 or 5xx, and every resend would be a new push to the device.
    const outcome = await medplum
      .post(medplum.fhirUrl('Agent', agent.agentId, '$push'), {
        destination: 'Device/lab',
        body: hl7('MP-SLOW'),
        contentType: 'x-application/hl7-v2+er7',
        waitForResponse: true,
        waitTimeout: 200,
      })
      .then(
        () => undefined,
        (err: OperationOutcomeError) => err.outcome,
      );
    expect(outcome?.resourceType).toBe('OperationOutcome');
    expect(outcome?.issue?.[0]?.code).toBe('timeout');
    await new Promise((r) => setTimeout(r, 3000)); // past the SDK's retry delays (0.5 s, 0.75 s)
    expect(received.filter((m) => m.type === 'push')).toHaveLength(1);
  });

  it('the Medplum route also takes its arguments as a FHIR Parameters resource', async () => {
    const agent = await createAgent();
    await silentRelay(agent, ['lab'], 0);
    const res = await fetch(`${aws.httpUrl}/fhir/R4/Agent/${agent.agentId}/$push`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify({
        resourceType: 'Parameters',
        parameter: [
          { name: 'destination', valueString: 'Device/lab' },
          { name: 'body', valueString: hl7('MP-PARAMS') },
          { name: 'contentType', valueString: 'x-application/hl7-v2+er7' },
          { name: 'waitForResponse', valueBoolean: true },
          { name: 'waitTimeout', valueInteger: 5000 },
        ],
      }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('x-application/hl7-v2+er7');
    expect(await res.text()).toContain('MSA|AA|');
  });

  it('the Medplum route serves only the $push operation: another is a 404 OperationOutcome', async () => {
    const agent = await createAgent();
    // API Gateway routes /fhir/R4/Agent/{agentId}/{operation}: the handler must refuse the rest.
    const res = await fetch(`${aws.httpUrl}/fhir/R4/Agent/${agent.agentId}/$everything`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ destination: 'Device/lab', body: hl7('MP-OTHER'), contentType: 'x-application/hl7-v2+er7' }),
    });
    expect(res.status).toBe(404);
    const outcome = (await res.json()) as any;
    expect(outcome.resourceType).toBe('OperationOutcome');
    expect(outcome.issue[0].code).toBe('not-found');
    const pushed = await fetch(`${aws.httpUrl}/fhir/R4/Agent/${agent.agentId}/%24push`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify({
        destination: 'Device/lab',
        body: hl7('MP-ENCODED'),
        contentType: 'x-application/hl7-v2+er7',
        waitForResponse: false,
      }),
    });
    expect(pushed.status).toBe(202);
  });

  it('the Medplum route says where to follow a push still in flight (Location), and does not invite a retry', async () => {
    const agent = await createAgent();
    const res = await fetch(`${aws.httpUrl}/fhir/R4/Agent/${agent.agentId}/$push`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify({
        destination: 'Device/lab',
        body: hl7('MP-504'),
        contentType: 'x-application/hl7-v2+er7',
        waitForResponse: true,
        waitTimeout: 200,
      }),
    });
    expect(res.status).toBeLessThan(500);
    expect(res.status).not.toBe(429);
    const outcome = (await res.json()) as any;
    expect(outcome.resourceType).toBe('OperationOutcome');
    expect(outcome.issue[0].details.coding[0].code).toBe('TIMEOUT');
    expect(res.headers.get('location')).toMatch(/\/pushes\/[0-9a-f-]{36}$/);
  });

  it('a body that grows past 128 KB once JSON-escaped goes to the relay as chunks, intact', async () => {
    const agent = await createAgent();
    const received = await silentRelay(agent, ['lab']);
    // An RTF report in OBX-5, its backslashes HL7-escaped as \E\: about a third of the bytes
    // are backslashes, which double when the push is JSON-encoded for the relay.
    const rtf = `OBX|1|ED|RTF||${'{\\E\\rtf1\\E\\ansi\\E\\b\\E\\par}'.repeat(3900)}\r`;
    const big = hl7('RTF-1', rtf);
    expect(Buffer.byteLength(big)).toBeLessThan(100 * 1024);
    const res = await api('POST', `/agents/${agent.agentId}/push`, { destination: 'lab', body: big, waitForResponse: false });
    expect(res.status).toBe(202);
    const deadline = Date.now() + 5000;
    let chunks: CloudChunkMessage[] = [];
    while (!(chunks.length > 0 && chunks.length === chunks[0].count)) {
      if (Date.now() > deadline) throw new Error('the chunks did not all arrive');
      await new Promise((r) => setTimeout(r, 25));
      chunks = received.filter((m) => m.type === 'chunk');
    }
    const assembler = new ChunkAssembler();
    const joined = chunks.map((c) => assembler.add(c)).find((j) => j.complete);
    const push = JSON.parse((joined as { text: string }).text);
    expect(push).toMatchObject({ type: 'push', pushId: res.json.pushId });
    expect(push.body === big.replace(/\n/g, '\r')).toBe(true);
  });
});
