/**
 * A relay back from an outage gets its backlog in seconds, not after the queue's long retry
 * delay. The offline retry delay is set to 60 s here, so each dispatch that finds the relay
 * offline parks its message for a minute; the relay's hello must make it visible at once.
 * The result timeout is 60 s too, so a push that was out at a relay that went away is invisible
 * for a minute: the next relay's hello must find it (it is not parked) and get it at once.
 * Emulated AWS: the real handlers, dynalite, fauxqs, the WebSocket gateway, the real relay.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import pino from 'pino';
import { startHl7Listener, type Hl7Listener } from '../../edge-agent/mllp/listener';
import { resolveConfig } from '../../edge-agent/relay/config-schema';
import { Relay } from '../../edge-agent/relay/relay';
import { parkedKey } from '../../lambdas/adapters/aws/dynamo-keys';
import { startRelay, stopAll } from '../e2e/harness';
import { startEmulatedAws, type EmulatedAws } from './emulated-aws';

jest.setTimeout(60000);

const hl7 = (id: string) => `MSH|^~\\&|EP|CLOUD|LAB|HOSP|20240101120000||ADT^A01|${id}|P|2.5\rPID|1||123\r`;

let aws: EmulatedAws;
let device: Hl7Listener;
let relay: Relay | undefined;

beforeAll(async () => {
  aws = await startEmulatedAws({ env: { EDGEPUSH_OFFLINE_RETRY_MS: '60000', EDGEPUSH_RESULT_TIMEOUT_MS: '60000' } });
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

it('a push out at a relay that died is re-sent as soon as the next relay says hello, not after resultTimeout', async () => {
  await relay?.stop();
  relay = undefined;
  const agentId = `site-${randomUUID().slice(0, 8)}`;
  const created = await api('POST', '/agents', { agentId });
  expect(created.status).toBe(201);
  // A device that takes the message and never answers: the push stays sent at the first relay.
  const sockets: Socket[] = [];
  const silent: Server = createServer((s) => sockets.push(s.on('error', () => undefined)));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  // The first relay is a real process, killed: it reports nothing, as after a crash or power cut.
  const first = startRelay(aws.wsUrl, agentId, created.json.secret, { lab: (silent.address() as AddressInfo).port });
  try {
    await until(
      'first relay connected',
      async () => ((await api('GET', `/agents/${agentId}`)).json.devices?.length ? true : undefined),
      15_000,
    );
    const res = await api('POST', `/agents/${agentId}/push`, { destination: 'lab', body: hl7('INFLIGHT'), waitForResponse: false });
    expect(res.status).toBe(202);
    const pushId = res.json.pushId as string;
    await until('push sent', async () => ((await api('GET', `/pushes/${pushId}`)).json.status === 'sent' ? true : undefined), 15_000);
    await until('device got it', async () => (sockets.length ? true : undefined), 15_000);
    first.child.kill('SIGKILL');
    await first.exited;
    await until(
      'first relay gone',
      async () => ((await api('GET', `/agents/${agentId}`)).json.status !== 'connected' ? true : undefined),
      15_000,
    );
    expect((await api('GET', `/pushes/${pushId}`)).json.status).toBe('sent');

    const receivedBefore = device.received;
    relay = new Relay(
      resolveConfig({
        url: aws.wsUrl,
        agentId,
        secret: created.json.secret,
        devices: { lab: `mllp://127.0.0.1:${device.port}` },
        logLevel: 'silent',
      }),
      pino({ enabled: false }),
    );
    relay.start();
    // Well inside the 60 s its message is invisible for: only the hello's wake brings it back this soon.
    await until(
      'push acked through the second relay',
      async () => ((await api('GET', `/pushes/${pushId}`)).json.status === 'acked' ? true : undefined),
      20_000,
    );
    expect(device.received).toBe(receivedBefore + 1);
    // Woken from the push's own receipt: nothing was parked for this agent.
    const { dynamo } = aws.handlers.runtime.getRuntime().clients;
    const parked = await dynamo.send(
      new GetCommand({ TableName: process.env.EDGEPUSH_TABLE!, Key: { pk: parkedKey(agentId) }, ConsistentRead: true }),
    );
    expect(parked.Item).toBeUndefined();
  } finally {
    await stopAll();
    for (const s of sockets) s.destroy();
    await new Promise((r) => silent.close(r));
  }
});
