/**
 * A relay back from an outage gets its backlog in seconds, not after the queue's long retry
 * delay. The offline retry delay is set to 60 s here, so each dispatch that finds the relay
 * offline parks its message for a minute; the relay's hello must make it visible at once.
 * Emulated AWS: the real handlers, dynalite, fauxqs, the WebSocket gateway, the real relay.
 */
import { randomUUID } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import pino from 'pino';
import { startHl7Listener, type Hl7Listener } from '../../edge-agent/mllp/listener';
import { resolveConfig } from '../../edge-agent/relay/config-schema';
import { Relay } from '../../edge-agent/relay/relay';
import { parkedKey } from '../../lambdas/adapters/aws/dynamo-keys';
import { startEmulatedAws, type EmulatedAws } from './emulated-aws';

jest.setTimeout(60000);

const hl7 = (id: string) => `MSH|^~\\&|EP|CLOUD|LAB|HOSP|20240101120000||ADT^A01|${id}|P|2.5\rPID|1||123\r`;

let aws: EmulatedAws;
let device: Hl7Listener;
let relay: Relay | undefined;

beforeAll(async () => {
  aws = await startEmulatedAws({ env: { EDGEPUSH_OFFLINE_RETRY_MS: '60000' } });
  device = await startHl7Listener({ port: 0 });
}, 60000);

afterAll(async () => {
  await relay?.stop();
  await aws?.stop();
  await device?.close();
});

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(aws.httpUrl + path, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

it('the relay’s hello makes its parked messages visible: the backlog is delivered at once', async () => {
  const agentId = `site-${randomUUID().slice(0, 8)}`;
  const created = await api('POST', '/agents', { agentId });
  expect(created.status).toBe(201);
  const pushes = [];
  for (const [i, destination] of ['lab', 'lab', 'ris'].entries()) {
    const res = await api('POST', `/agents/${agentId}/push`, { destination, body: hl7(`WAKE-${i}`), waitForResponse: false });
    expect(res.status).toBe(202);
    pushes.push(res.json.pushId as string);
  }
  // The dispatcher found the relay offline and parked each group's head for 60 s.
  const { dynamo } = aws.handlers.runtime.getRuntime().clients;
  const table = process.env.EDGEPUSH_TABLE!;
  const parked = await until(
    'both groups parked',
    async () => {
      const item = (await dynamo.send(new GetCommand({ TableName: table, Key: { pk: parkedKey(agentId) }, ConsistentRead: true }))).Item;
      return item && item['d#lab'] && item['d#ris'] ? item : undefined;
    },
    15_000,
  );
  expect(parked['d#lab']).toMatchObject({ pushId: pushes[0], receipt: expect.any(String) });

  relay = new Relay(
    resolveConfig({
      url: aws.wsUrl,
      agentId,
      secret: created.json.secret,
      devices: { lab: `mllp://127.0.0.1:${device.port}`, ris: `mllp://127.0.0.1:${device.port}` },
      reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
      logLevel: 'silent',
    }),
    pino({ enabled: false }),
  );
  relay.start();
  // Well inside the 60 s the messages were parked for: only a wake can deliver them this soon.
  for (const pushId of pushes) {
    await until(
      `push ${pushId} acked`,
      async () => ((await api('GET', `/pushes/${pushId}`)).json.status === 'acked' ? true : undefined),
      20_000,
    );
  }
  expect(device.received).toBe(3);
});
