/**
 * The full push path on emulators: the real Lambda handlers behind an HTTP API look-alike and
 * the API-Gateway-like WebSocket gateway, dynalite + fauxqs, the real relay, and
 * startHl7Listener devices.
 */
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import WebSocket from 'ws';
import { startHl7Listener, type Hl7Listener } from '../../edge-agent/mllp/listener';
import { resolveConfig } from '../../edge-agent/relay/config-schema';
import { Relay } from '../../edge-agent/relay/relay';
import { AGENT_ID_HEADER, AGENT_SECRET_HEADER } from '../../protocol/messages';
import { startEmulatedAws, type EmulatedAws } from './emulated-aws';
import { AWS_MAX_BODY_BYTES } from '../../lambdas/adapters/aws/aws-limits';
import { sleep, waitFor } from '../support/wait';

jest.setTimeout(60000);

const hl7 = (id = randomUUID().slice(0, 12)) =>
  `MSH|^~\\&|EP|CLOUD|LAB|HOSP|20240101120000||ADT^A01|${id}|P|2.5\rPID|1||123^^^HOSP||DOE^JANE\r`;

let aws: EmulatedAws;
const devices: Hl7Listener[] = [];
const relays: Relay[] = [];
const sockets: WebSocket[] = [];

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(aws.httpUrl + path, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json, headers: res.headers };
}

async function createAgent(): Promise<{ agentId: string; secret: string }> {
  const agentId = `site-${randomUUID().slice(0, 8)}`;
  const res = await api('POST', '/agents', { agentId });
  expect(res.status).toBe(201);
  return res.json;
}

function startRelay(agent: { agentId: string; secret: string }, deviceMap: Record<string, number>): Relay {
  const relay = new Relay(
    resolveConfig({
      url: aws.wsUrl,
      agentId: agent.agentId,
      secret: agent.secret,
      devices: Object.fromEntries(Object.entries(deviceMap).map(([name, port]) => [name, `mllp://127.0.0.1:${port}`])),
      reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
      device: { connectTimeoutMs: 1000, ackTimeoutMs: 10000, idleTimeoutMs: 60000, maxFrameBytes: 1024 * 1024 },
      logLevel: 'silent',
    }),
    pino({ enabled: false }),
  );
  relays.push(relay);
  relay.start();
  return relay;
}

const connected = (agentId: string, devicesExpected: string[]) =>
  waitFor(
    async () => {
      const res = await api('GET', `/agents/${agentId}`);
      const names = (res.json.devices ?? []).map((d: { name: string }) => d.name);
      return res.json.status === 'connected' && devicesExpected.every((d) => names.includes(d)) ? res.json : undefined;
    },
    15_000,
    'the relay connected',
  );

let agent: { agentId: string; secret: string };

beforeAll(async () => {
  aws = await startEmulatedAws({ env: { EDGEPUSH_OFFLINE_RETRY_MS: '1000' } });
  const ok = await startHl7Listener({ port: 0 });
  const ae = await startHl7Listener({ port: 0, ack: 'AE' });
  const slow = await startHl7Listener({ port: 0, delayMs: 1500 });
  devices.push(ok, ae, slow);
  agent = await createAgent();
  startRelay(agent, { lab: ok.port, picky: ae.port, slow: slow.port });
  await connected(agent.agentId, ['lab', 'picky', 'slow']);
}, 60000);

afterAll(async () => {
  for (const s of sockets) s.terminate();
  await Promise.all(relays.map((r) => r.stop()));
  await aws?.stop();
  await Promise.all(devices.map((d) => d.close()));
});

describe('full push path on emulated AWS', () => {
  it('acked by the device -> 200 with the ACK', async () => {
    const res = await api('POST', `/agents/${agent.agentId}/push`, { destination: 'lab', body: hl7('CTRL-AA-1') });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: 'acked', ackCode: 'AA', attempts: 1 });
    expect(res.json.response).toContain('MSA|AA|CTRL-AA-1');
    const again = await api('GET', `/pushes/${res.json.pushId}`);
    expect(again.json).toMatchObject({ pushId: res.json.pushId, status: 'acked' });
  });

  it('accepts Device/<name> and \\n line endings through the Medplum-compatible route', async () => {
    const res = await fetch(`${aws.httpUrl}/fhir/R4/Agent/${agent.agentId}/$push`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify({
        destination: 'Device/lab',
        body: hl7('CTRL-MP-1').replace(/\r/g, '\n'),
        contentType: 'x-application/hl7-v2+er7',
        waitForResponse: true,
      }),
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('MSA|AA|CTRL-MP-1');
  });

  it('lists, cancels and resends pushes; a cancelled push is skipped and its destination goes on', async () => {
    const send = async (id: string) => {
      const res = await api('POST', `/agents/${agent.agentId}/push`, { destination: 'slow', body: hl7(id), waitForResponse: false });
      expect(res.status).toBe(202);
      expect(res.json).toMatchObject({ agentId: agent.agentId, destination: 'slow', status: 'queued' });
      expect(typeof res.json.expiresAt).toBe('string');
      await sleep(5); // apart in time, so newest-first does not fall back to the pushId tie-break
      return res.json.pushId as string;
    };
    // The slow device holds the first push 1.5 s: the second waits queued behind it.
    const first = await send('CTRL-PM-1');
    const second = await send('CTRL-PM-2');
    const cancel = await api('POST', `/pushes/${second}/cancel`);
    expect(cancel).toMatchObject({ status: 200, json: { pushId: second, status: 'cancelled' } });
    expect(await api('POST', `/pushes/${second}/cancel`)).toMatchObject({ status: 409, json: { code: 'NOT_CANCELLABLE' } });
    const third = await send('CTRL-PM-3');
    await waitFor(async () => (await api('GET', `/pushes/${third}`)).json.status === 'acked', 20_000, 'the push after the cancelled one');
    expect((await api('GET', `/pushes/${first}`)).json.status).toBe('acked');
    expect((await api('GET', `/pushes/${second}`)).json).toMatchObject({ status: 'cancelled', attempts: 0 });

    const resent = await api('POST', `/pushes/${second}/resend`);
    expect(resent).toMatchObject({ status: 202, json: { resendOf: second, destination: 'slow', status: 'queued' } });
    await waitFor(async () => (await api('GET', `/pushes/${resent.json.pushId}`)).json.status === 'acked', 20_000, 'the resent push');

    // The list reads a GSI (eventually consistent on real DynamoDB): newest first, no bodies.
    const list = await api('GET', `/pushes?agentId=${agent.agentId}&destination=slow&limit=500`);
    expect(list.status).toBe(200);
    const ids = list.json.pushes.map((p: { pushId: string }) => p.pushId);
    expect(ids.slice(0, 4)).toEqual([resent.json.pushId, third, second, first]);
    expect(JSON.stringify(list.json)).not.toContain('MSH');
    const cancelled = await api('GET', `/pushes?status=cancelled&limit=1`);
    expect(cancelled.json.pushes.map((p: { pushId: string }) => p.pushId)).toEqual([second]);
  });

  it('AE from the device -> 422 with the ACK', async () => {
    const res = await api('POST', `/agents/${agent.agentId}/push`, { destination: 'picky', body: hl7('CTRL-AE-1') });
    expect(res.status).toBe(422);
    expect(res.json).toMatchObject({ status: 'nacked', ackCode: 'AE' });
    expect(res.json.response).toContain('MSA|AE|CTRL-AE-1');
  });

  it('no answer within waitTimeout -> 504 with Location; the push still completes', async () => {
    const res = await api('POST', `/agents/${agent.agentId}/push`, { destination: 'slow', body: hl7(), waitTimeout: 300 });
    expect(res.status).toBe(504);
    expect(res.headers.get('location')).toBe(`${aws.httpUrl}/pushes/${res.json.pushId}`);
    const done = await waitFor(
      async () => {
        const r = await api('GET', `/pushes/${res.json.pushId}`);
        return r.json.status === 'acked' ? r.json : undefined;
      },
      15_000,
      'acked',
    );
    expect(done.ackCode).toBe('AA');
  });

  it('waitForResponse:false -> 202, then acked', async () => {
    const res = await api('POST', `/agents/${agent.agentId}/push`, { destination: 'lab', body: hl7(), waitForResponse: false });
    expect(res.status).toBe(202);
    await waitFor(async () => (await api('GET', `/pushes/${res.json.pushId}`)).json.status === 'acked', 15_000, 'acked');
  });

  it('an unknown device -> 404, and nothing is queued', async () => {
    const res = await api('POST', `/agents/${agent.agentId}/push`, { destination: 'nosuch', body: hl7() });
    expect(res.status).toBe(404);
    expect(res.json).toMatchObject({ code: expect.any(String), error: expect.stringContaining('nosuch') });
    expect(res.json.pushId).toBeUndefined();
  });

  it('relay offline -> 504 at once (no wait billed), then delivered in order once it connects', async () => {
    const offline = await createAgent();
    // waitTimeout 25 s: the Lambda does not wait it out, since no relay can answer before connecting.
    const first = await api('POST', `/agents/${offline.agentId}/push`, { destination: 'lab', body: hl7('OFF-1'), waitTimeout: 25_000 });
    expect(first.status).toBe(504);
    expect(first.json.status).toBe('queued');
    expect(first.headers.get('edgepush-not-waited')).toBe('relay-not-connected');
    expect(first.headers.get('location')).toBe(`${aws.httpUrl}/pushes/${first.json.pushId}`);
    const second = await api('POST', `/agents/${offline.agentId}/push`, { destination: 'lab', body: hl7('OFF-2'), waitForResponse: false });
    expect(second.status).toBe(202);
    expect(second.headers.get('edgepush-not-waited')).toBeNull();
    const medplum = await api('POST', `/fhir/R4/Agent/${offline.agentId}/$push`, {
      destination: 'Device/lab',
      body: hl7('OFF-3'),
      waitTimeout: 25_000,
    });
    expect(medplum.status).toBe(400);
    expect(medplum.json).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'timeout' }] });
    expect(medplum.headers.get('edgepush-not-waited')).toBe('relay-not-connected');
    const third = { json: { pushId: String(medplum.headers.get('location')).split('/').pop() } };

    const seen: string[] = [];
    const device = await startHl7Listener({ port: 0, onMessage: (m) => seen.push(m.split('\r')[0].split('|')[9]) });
    devices.push(device);
    startRelay(offline, { lab: device.port });
    for (const p of [first, second, third]) {
      await waitFor(async () => (await api('GET', `/pushes/${p.json.pushId}`)).json.status === 'acked', 15_000, 'acked');
    }
    expect(seen).toEqual(['OFF-1', 'OFF-2', 'OFF-3']);
  });

  it('an idempotencyKey replay returns the first push; a different body with it is 409', async () => {
    const body = hl7('IDEM-1');
    const a = await api('POST', `/agents/${agent.agentId}/push`, { destination: 'lab', body, idempotencyKey: 'order-77' });
    const b = await api('POST', `/agents/${agent.agentId}/push`, { destination: 'lab', body, idempotencyKey: 'order-77' });
    expect(a.status).toBe(200);
    expect(b.json.pushId).toBe(a.json.pushId);
    const c = await api('POST', `/agents/${agent.agentId}/push`, { destination: 'lab', body: hl7('IDEM-2'), idempotencyKey: 'order-77' });
    expect(c.status).toBe(409);
  });
});

describe('bad input on emulated AWS', () => {
  const push = (body: unknown, agentId = agent.agentId) => api('POST', `/agents/${agentId}/push`, body);
  const expectError = (res: { status: number; json: any }, status: number) => {
    expect(res.status).toBe(status);
    expect(typeof res.json.error).toBe('string');
    expect(typeof res.json.code).toBe('string');
    expect(res.json.pushId).toBeUndefined();
  };

  it('malformed JSON -> 400', async () => expectError(await push('{"destination": "lab", '), 400));
  it('missing destination -> 400', async () => expectError(await push({ body: hl7() }), 400));
  it('a body that is not HL7 -> 400', async () => expectError(await push({ destination: 'lab', body: 'hello world' }), 400));
  it('waitTimeout out of range -> 400', async () => expectError(await push({ destination: 'lab', body: hl7(), waitTimeout: 26000 }), 400));
  it('a body over the limit -> 413', async () => {
    const big = hl7() + `OBX|1|TX|||${'x'.repeat(AWS_MAX_BODY_BYTES)}\r`;
    expectError(await push({ destination: 'lab', body: big }), 413);
  });
  it('an unknown agent -> 404', async () => expectError(await push({ destination: 'lab', body: hl7() }, 'no-such-agent'), 404));

  it('agent lifecycle: list, disable closes the connection (DeleteConnection) and refuses, rotate, delete', async () => {
    const site = await createAgent();
    const open = (secret: string) =>
      new Promise<{ ws?: WebSocket; status: number; closed: Promise<void> }>((resolve) => {
        const ws = new WebSocket(aws.wsUrl, { headers: { [AGENT_ID_HEADER]: site.agentId, [AGENT_SECRET_HEADER]: secret } });
        sockets.push(ws);
        const closed = new Promise<void>((r) => ws.once('close', () => r()));
        ws.once('open', () => resolve({ ws, status: 101, closed }));
        ws.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode ?? 0, closed }));
        ws.on('error', () => undefined);
      });
    const status = async () => (await api('GET', `/agents/${site.agentId}`)).json.status as string;

    const listed = await api('GET', '/agents');
    expect(listed.status).toBe(200);
    expect(listed.json.agents.map((a: { agentId: string }) => a.agentId)).toEqual(expect.arrayContaining([agent.agentId, site.agentId]));

    const first = await open(site.secret);
    expect(first.status).toBe(101);
    await waitFor(async () => (await status()) === 'connected', 15_000, 'connected');
    const off = await api('PATCH', `/agents/${site.agentId}`, { enabled: false });
    expect(off).toMatchObject({ status: 200, json: { status: 'disabled' } });
    await first.closed; // closed by the HTTP function's DeleteConnection
    expect((await open(site.secret)).status).toBe(401);
    const push = await api('POST', `/agents/${site.agentId}/push`, { destination: 'lab', body: hl7() });
    expect(push).toMatchObject({ status: 409, json: { code: 'AGENT_DISABLED' } });
    expect((await api('PATCH', `/agents/${site.agentId}`, { enabled: true })).status).toBe(200);

    const second = await open(site.secret);
    expect(second.status).toBe(101);
    await waitFor(async () => (await status()) === 'connected', 15_000, 'connected again');
    const rotated = await api('POST', `/agents/${site.agentId}/secret`);
    expect(rotated.status).toBe(200);
    await second.closed;
    expect((await open(site.secret)).status).toBe(401);
    expect((await open(rotated.json.secret)).status).toBe(101);

    expect((await api('DELETE', `/agents/${site.agentId}`)).status).toBe(204);
    expect((await api('GET', `/agents/${site.agentId}`)).status).toBe(404);
  });

  it('a wrong agent secret at connect -> 401 on the upgrade, and the agent stays as it was', async () => {
    const before = (await api('GET', `/agents/${agent.agentId}`)).json;
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(aws.wsUrl, { headers: { [AGENT_ID_HEADER]: agent.agentId, [AGENT_SECRET_HEADER]: 'wrong-secret' } });
      sockets.push(ws);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => reject(new Error('connected with a wrong secret')));
      ws.on('error', () => undefined);
    });
    expect(status).toBe(401);
    const after = (await api('GET', `/agents/${agent.agentId}`)).json;
    expect(after.status).toBe('connected');
    expect(after.connectedAt).toBe(before.connectedAt);
  });

  it('a relay reporting a result for a push not dispatched to it gets an error reply, and the push is unchanged', async () => {
    // A push of `agent` that is waiting on a slow device: status sent.
    const victim = await api('POST', `/agents/${agent.agentId}/push`, { destination: 'slow', body: hl7(), waitForResponse: false });
    await waitFor(async () => (await api('GET', `/pushes/${victim.json.pushId}`)).json.status === 'sent', 15_000, 'sent');

    const rogue = await createAgent();
    const ws = new WebSocket(aws.wsUrl, { headers: { [AGENT_ID_HEADER]: rogue.agentId, [AGENT_SECRET_HEADER]: rogue.secret } });
    sockets.push(ws);
    const replies: any[] = [];
    ws.on('message', (data) => replies.push(JSON.parse(data.toString())));
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    ws.send(JSON.stringify({ action: 'result', v: 1, pushId: victim.json.pushId, status: 'nacked', ackCode: 'AR', response: 'MSH|fake' }));
    ws.send('not json at all');
    const errors = await waitFor(
      async () => (replies.filter((r) => r.type === 'error').length >= 2 ? replies.filter((r) => r.type === 'error') : undefined),
      15_000,
      'two error replies',
    );
    // Each message is its own Lambda invocation, so the replies may come in either order.
    expect(errors.map((e) => e.code).sort()).toEqual(['MALFORMED_JSON', 'UNKNOWN_PUSH']);
    const after = (await api('GET', `/pushes/${victim.json.pushId}`)).json;
    expect(after.status).not.toBe('nacked');
    // The real relay still finishes it.
    await waitFor(async () => (await api('GET', `/pushes/${victim.json.pushId}`)).json.status === 'acked', 15_000, 'acked');
  });
});

describe('one relay per agent on emulated AWS', () => {
  it('refuses a second connection while the real relay is live ($connect 409 -> 4409 here); the relay keeps its pushes', async () => {
    const second = new WebSocket(aws.wsUrl, { headers: { [AGENT_ID_HEADER]: agent.agentId, [AGENT_SECRET_HEADER]: agent.secret } });
    sockets.push(second);
    const closed = await new Promise<{ code: number; reason: string }>((resolve) =>
      second.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    expect(closed).toEqual({ code: 4409, reason: 'agent already connected' });
    const status = await api('GET', `/agents/${agent.agentId}`);
    expect(status.json).toMatchObject({ status: 'connected', conflict: { count: expect.any(Number) } });
    const res = await api('POST', `/agents/${agent.agentId}/push`, { destination: 'lab', body: hl7('CTRL-ONE-1') });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: 'acked', attempts: 1 });
  });
});
