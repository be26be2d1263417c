/**
 * Pipelining on the emulated AWS path (real handlers, dynalite, patched fauxqs, the WebSocket
 * gateway, the real relay, real MLLP devices): the dispatcher sends up to 10 pushes of one device
 * ahead, and the device still sees them strictly in order, one at a time, exactly once, even
 * when the relay's WebSocket drops in the middle of a window.
 */
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { startHl7Listener, type Hl7Listener } from '../../edge-agent/mllp/listener';
import { resolveConfig } from '../../edge-agent/relay/config-schema';
import { Relay } from '../../edge-agent/relay/relay';
import { readMsh } from '../../hl7/msh';
import { startEmulatedAws, type EmulatedAws } from './emulated-aws';
import { startWanProxy, type WanProxy } from './hop-delays';
import { waitFor } from '../support/wait';

jest.setTimeout(90_000);

/** Short, so the drop test sees records come back after their visibility within seconds. */
const RESULT_TIMEOUT_MS = 3_000;

let aws: EmulatedAws;
let proxy: WanProxy;
const closers: Array<() => Promise<void>> = [];

interface Seen {
  controlId: string;
  at: number;
}

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(aws.httpUrl + path, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

const hl7 = (id: string) => `MSH|^~\\&|EP|CLOUD|LAB|HOSP|20240101120000||ADT^A01|${id}|P|2.5\rPID|1||123^^^HOSP||DOE^JANE\r`;

/** A device that ACKs `delayMs` after each message and records when each arrived. */
async function device(delayMs: number): Promise<Hl7Listener & { seen: Seen[] }> {
  const seen: Seen[] = [];
  const l = await startHl7Listener({
    port: 0,
    delayMs,
    onMessage: (m) => seen.push({ controlId: readMsh(m).controlId, at: performance.now() }),
  });
  closers.push(() => l.close());
  return Object.assign(l, { seen });
}

/** An agent whose relay reaches the gateway through `proxy` (so a test can cut it), with one device. */
async function agentWith(port: number): Promise<string> {
  const agentId = `site-${randomUUID().slice(0, 8)}`;
  const created = await api('POST', '/agents', { agentId });
  expect(created.status).toBe(201);
  const relay = new Relay(
    resolveConfig({
      url: proxy.url,
      agentId,
      secret: created.json.secret,
      devices: { lab: `mllp://127.0.0.1:${port}` },
      reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
      device: { connectTimeoutMs: 1000, ackTimeoutMs: 10_000, idleTimeoutMs: 60_000, maxFrameBytes: 1024 * 1024 },
      logLevel: 'silent',
    }),
    pino({ enabled: false }),
  );
  relay.start();
  closers.push(() => relay.stop());
  await waitFor(
    async () => {
      const res = await api('GET', `/agents/${agentId}`);
      return res.json.status === 'connected' && (res.json.devices ?? []).length === 1 ? true : undefined;
    },
    15_000,
    'the relay connected',
  );
  return agentId;
}

/** Accepts n pushes in order (the order the device must see), without waiting for them. */
async function pushAll(agentId: string, n: number, prefix: string): Promise<Array<{ pushId: string; controlId: string }>> {
  const out = [];
  for (let i = 1; i <= n; i++) {
    const controlId = `${prefix}-${String(i).padStart(2, '0')}`;
    const res = await api('POST', `/agents/${agentId}/push`, { destination: 'lab', body: hl7(controlId), waitForResponse: false });
    expect(res.status).toBe(202);
    out.push({ pushId: res.json.pushId as string, controlId });
  }
  return out;
}

/** Every push as it stands once all are done (the last one is watched: one read per poll). */
async function finished(pushes: Array<{ pushId: string }>): Promise<any[]> {
  const last = pushes[pushes.length - 1].pushId;
  const terminal = ['acked', 'nacked', 'failed', 'expired', 'cancelled'];
  return waitFor(
    async () => {
      if (!terminal.includes((await api('GET', `/pushes/${last}`)).json.status)) return undefined;
      const all = await Promise.all(pushes.map(async (p) => (await api('GET', `/pushes/${p.pushId}`)).json));
      return all.every((p) => terminal.includes(p.status)) ? all : undefined;
    },
    60_000,
    'every push finished',
  );
}

/** The device got each message once, in order, and never a second one before it answered the first. */
function expectOneAtATimeInOrder(seen: Seen[], expected: string[], delayMs: number): void {
  expect(seen.map((s) => s.controlId)).toStrictEqual(expected);
  const gaps = seen.slice(1).map((s, i) => s.at - seen[i].at);
  expect(Math.min(...gaps)).toBeGreaterThanOrEqual(delayMs - 1);
}

beforeAll(async () => {
  aws = await startEmulatedAws({
    env: { EDGEPUSH_OFFLINE_RETRY_MS: '1000', EDGEPUSH_RESULT_TIMEOUT_MS: String(RESULT_TIMEOUT_MS), EDGEPUSH_DISPATCH_WINDOW: '10' },
  });
  proxy = await startWanProxy(aws.wsUrl, 0);
}, 60_000);

afterAll(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await proxy?.close();
  await aws?.stop();
});

describe('pipelined dispatch on emulated AWS', () => {
  it('keeps order across windows of 10 with a slow device, one message at a time, every result recorded', async () => {
    const lab = await device(40);
    const agentId = await agentWith(lab.port);
    const before = aws.invocations.dispatcher;
    const pushes = await pushAll(agentId, 25, 'ORD');
    const done = await finished(pushes);
    expectOneAtATimeInOrder(
      lab.seen,
      pushes.map((p) => p.controlId),
      40,
    );
    expect(done.map((p) => [p.status, p.ackCode, p.attempts])).toStrictEqual(pushes.map(() => ['acked', 'AA', 1]));
    expect(done.map((p) => p.response.includes(`MSA|AA|`))).toStrictEqual(pushes.map(() => true));
    // Sent ahead: far fewer dispatcher invocations than pushes (one push per cycle needs 25).
    expect(aws.invocations.dispatcher - before).toBeLessThan(pushes.length / 2);
  });

  it('a WebSocket drop mid-window: the records come back in order, are sent again, and the device sees each once', async () => {
    const DEVICE_MS = 700;
    const lab = await device(DEVICE_MS);
    const agentId = await agentWith(lab.port);
    const pushes = await pushAll(agentId, 8, 'DROP');
    await waitFor(async () => (lab.seen.length >= 2 ? true : undefined), 20_000, 'the device got two');
    const { connectedAt } = (await api('GET', `/agents/${agentId}`)).json;
    proxy.drop();
    await waitFor(
      async () => {
        const res = await api('GET', `/agents/${agentId}`);
        return res.json.status === 'connected' && res.json.connectedAt !== connectedAt ? true : undefined;
      },
      15_000,
      'the relay reconnected',
    );
    const done = await finished(pushes);
    // The relay held the window through the drop and deduplicated the sends that followed it.
    expectOneAtATimeInOrder(
      lab.seen,
      pushes.map((p) => p.controlId),
      DEVICE_MS,
    );
    expect(done.map((p) => p.status)).toStrictEqual(pushes.map(() => 'acked'));
    // The last ones outlived their 3 s visibility after the drop: dispatched again on the new connection.
    expect(Math.max(...done.map((p) => p.attempts))).toBeGreaterThanOrEqual(2);
  });
});
