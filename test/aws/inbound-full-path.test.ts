/**
 * Inbound on emulated AWS, end to end: a real relay process with a fast channel, a device on a
 * socket, the real Lambda handlers (ws-message stores in dynalite and enqueues on the inbound
 * FIFO queue in fauxqs; the webhook Lambda, driven by an event source mapping, signs and posts),
 * and a real webhook server. Order per channel, once each, a webhook down then up, and pull.
 * Deployed webhooks must be https; EDGEPUSH_ALLOW_LOCAL_HTTP_WEBHOOKS lets this test use loopback.
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, stopAll } from '../e2e/harness';
import { canConnect } from '../inbound/relay-process';
import { connectSender, msa, oru } from '../inbound/sender';
import { freePort } from '../support/free-port';
import { waitFor } from '../support/wait';
import { startEmulatedAws, type EmulatedAws } from './emulated-aws';

jest.setTimeout(90_000);

interface Received {
  headers: IncomingHttpHeaders;
  raw: string;
  body: Record<string, any>;
}

let aws: EmulatedAws;
let server: Server;
let hookUrl = '';
let down = false;
const received: Received[] = [];
const dataDir = mkdtempSync(join(tmpdir(), 'edgepush-aws-inbound-'));

beforeAll(async () => {
  aws = await startEmulatedAws({
    env: { EDGEPUSH_ALLOW_LOCAL_HTTP_WEBHOOKS: 'true', EDGEPUSH_WEBHOOK_INITIAL_BACKOFF_MS: '200', EDGEPUSH_WEBHOOK_MAX_BACKOFF_MS: '500' },
  });
  server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (raw += d));
    req.on('end', () => {
      if (down) return void res.writeHead(503).end();
      received.push({ headers: req.headers, raw, body: JSON.parse(raw) as Record<string, any> });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  hookUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
});

afterAll(async () => {
  await stopAll();
  await aws?.stop();
  await new Promise((resolve) => server.close(resolve));
  rmSync(dataDir, { recursive: true, force: true });
});

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(aws.httpUrl + path, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

it('device -> relay -> ws-message -> DynamoDB + FIFO -> webhook Lambda -> webhook, in order, once each, signed', async () => {
  const agent = await api('POST', '/agents', { agentId: 'aws-lab' });
  expect(agent.status).toBe(201);
  const hook = await api('PUT', '/agents/aws-lab/webhook', { url: hookUrl });
  expect(hook.status).toBe(200);
  const secret = hook.json.secret as string;

  const lab = await freePort();
  run(
    [
      'relay',
      '--url',
      aws.wsUrl,
      '--agent',
      'aws-lab',
      '--data',
      dataDir,
      '--channel',
      `lab=mllp://127.0.0.1:${lab}`,
      '--log-level',
      'warn',
    ],
    {
      EDGEPUSH_AGENT_SECRET: agent.json.secret as string,
    },
  );
  await waitFor(() => canConnect(lab), 15_000, 'the channel');
  await waitFor(async () => (await api('GET', '/agents/aws-lab')).json.status === 'connected', 15_000, 'the relay connected');

  const device = await connectSender(lab);
  const ids = ['A-1', 'A-2', 'A-3'];
  for (const id of ids) expect(msa(await device.exchange(oru(id)))).toMatchObject({ code: 'AA', controlId: id });
  await waitFor(() => received.length >= 3, 30_000, 'three deliveries');
  expect(received.map((r) => r.body.controlId)).toStrictEqual(ids);
  for (const r of received) {
    const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(r.headers['edgepush-signature']));
    expect(m && createHmac('sha256', secret).update(`${m[1]}.${r.raw}`).digest('hex')).toBe(m?.[2]);
  }

  // The webhook goes down: the next messages wait, then arrive in order once it is back.
  down = true;
  for (const id of ['B-1', 'B-2']) expect(msa(await device.exchange(oru(id)))).toMatchObject({ code: 'AA', controlId: id });
  await waitFor(
    async () => (await api('GET', '/agents/aws-lab/messages?channel=lab&limit=10')).json.messages?.length === 5,
    15_000,
    'stored',
  );
  down = false;
  await waitFor(() => received.length >= 5, 30_000, 'the backlog');
  expect(received.map((r) => r.body.controlId)).toStrictEqual([...ids, 'B-1', 'B-2']);
  device.close();

  const pulled = await api('GET', '/agents/aws-lab/messages?channel=lab&limit=10');
  expect((pulled.json.messages as { controlId: string }[]).map((m) => m.controlId)).toStrictEqual([...ids, 'B-1', 'B-2']);
  const first = await api('GET', `/messages/${pulled.json.messages[0].messageId}`);
  expect(first.json.delivery).toMatchObject({ status: 'delivered' });
});
