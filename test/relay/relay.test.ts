/**
 * The relay in-process, end to end over real sockets: a fake cloud (ws server) on one side,
 * device simulators (edgepush's MLLP listener, or a raw misbehaving device) on the other.
 */
import { resolveConfig, type RelayConfig } from '../../edge-agent/relay/config-schema';
import { CLOCK_SKEW_ALLOWANCE_MS, Relay } from '../../edge-agent/relay/relay';
import { startHl7Listener, type Hl7Listener } from '../../edge-agent/mllp/listener';
import { MAX_FRAME_BYTES } from '../../protocol/messages';
import { FakeCloud } from './fake-cloud';
import { startFrameMeter } from './frame-meter';
import { freePort } from '../support/free-port';
import { sleep } from '../support/wait';
import { adt, memoryLogger, msa2 } from './helpers';
import { startRawDevice, type RawDevice } from './raw-device';

interface Rig {
  cloud: FakeCloud;
  relay: Relay;
  lines: string[];
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function listener(opts: { ack?: 'AA' | 'AE' | 'AR'; delayMs?: number } = {}): Promise<Hl7Listener & { seen: string[] }> {
  const seen: string[] = [];
  const l = await startHl7Listener({ port: 0, ...opts, onMessage: (m) => seen.push(m) });
  cleanups.push(() => l.close());
  return Object.assign(l, { seen });
}

async function rawDevice(mode: 'silent' | 'bigAck', pad = 0): Promise<RawDevice> {
  const d = await startRawDevice(mode, pad);
  cleanups.push(() => d.close());
  return d;
}

async function rig(
  devices: Record<string, string>,
  over: Partial<Record<keyof RelayConfig, unknown>> = {},
  cloudUrl?: (c: FakeCloud) => string,
): Promise<Rig> {
  const cloud = await FakeCloud.start();
  cleanups.push(() => cloud.close());
  const { logger, lines } = memoryLogger();
  const config = resolveConfig({
    url: cloudUrl ? cloudUrl(cloud) : cloud.url,
    agentId: 'agent-1',
    secret: 's3cret',
    devices,
    reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
    device: { ackTimeoutMs: 500, connectTimeoutMs: 500 },
    shutdownTimeoutMs: 2_000,
    ...over,
  });
  const relay = new Relay(config, logger);
  cleanups.push(() => relay.stop());
  relay.start();
  await cloud.waitFor(() => cloud.count('hello') === 1, 5_000, 'hello');
  return { cloud, relay, lines };
}

const mllp = (port: number): string => `mllp://127.0.0.1:${port}`;

describe('relay: pushes', () => {
  it('says hello with its device names only, then delivers a push and returns the ACK', async () => {
    const lab = await listener();
    const { cloud, lines } = await rig({ lab: mllp(lab.port) });
    const hello = cloud.received.find((m) => m.action === 'hello');
    expect(hello).toMatchObject({ devices: ['lab'] });
    expect(JSON.stringify(hello)).not.toContain(String(lab.port));

    cloud.push({ pushId: 'p1', body: adt('CTRL1') });
    await cloud.waitFor(() => cloud.results('p1').length === 1, 5_000, 'result');
    const r = cloud.results('p1')[0];
    expect(r).toMatchObject({ status: 'acked', ackCode: 'AA' });
    expect(msa2(r.response)).toBe('CTRL1');
    expect(lab.seen).toHaveLength(1);
    // Logged with pushId, destination, status and duration, never the body.
    const done = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'push done');
    expect(done).toMatchObject({ pushId: 'p1', destination: 'lab', status: 'acked' });
    expect(typeof done.durationMs).toBe('number');
    expect(lines.join('\n')).not.toContain('PHIMARKER');
  });

  it('reports a negative ACK (AE) as nacked with the ACK text', async () => {
    const lab = await listener({ ack: 'AE' });
    const { cloud } = await rig({ lab: mllp(lab.port) });
    cloud.push({ pushId: 'p1', body: adt('CTRL2') });
    await cloud.waitFor(() => cloud.results('p1').length === 1, 5_000, 'result');
    const r = cloud.results('p1')[0];
    expect(r).toMatchObject({ status: 'nacked', ackCode: 'AE' });
    expect(msa2(r.response)).toBe('CTRL2');
  });

  it('accepts a Device/<name> destination', async () => {
    const lab = await listener();
    const { cloud } = await rig({ lab: mllp(lab.port) });
    cloud.push({ pushId: 'p1', body: adt('C1'), destination: 'Device/lab' });
    await cloud.waitFor(() => cloud.results('p1').length === 1, 5_000, 'result');
    expect(cloud.results('p1')[0]).toMatchObject({ status: 'acked' });
  });
});

describe('relay: bad input', () => {
  it('refuses an unknown device without dialling anything, even a name that looks like an address', async () => {
    const lab = await rawDevice('silent');
    const other = await rawDevice('silent');
    const { cloud, relay } = await rig({ lab: mllp(lab.port) });
    cloud.push({ pushId: 'p1', body: adt('C1'), destination: 'pharmacy' });
    cloud.push({ pushId: 'p2', body: adt('C2'), destination: `127.0.0.1:${other.port}` });
    cloud.push({ pushId: 'p3', body: adt('C3'), destination: `mllp://127.0.0.1:${other.port}` });
    await cloud.waitFor(() => cloud.results().length === 3, 5_000, 'three results');
    for (const id of ['p1', 'p2', 'p3']) {
      expect(cloud.results(id)[0]).toMatchObject({ status: 'failed', error: 'unknown device', retryable: false });
    }
    await sleep(100);
    expect(other.connections).toBe(0);
    expect(lab.connections).toBe(0);
    expect(relay.devices.names()).toEqual(['lab']);
  });

  it('reports a device that refuses the connection as failed and retryable', async () => {
    const port = await freePort();
    const { cloud } = await rig({ lab: mllp(port) });
    cloud.push({ pushId: 'p1', body: adt('C1') });
    await cloud.waitFor(() => cloud.results('p1').length === 1, 5_000, 'result');
    const r = cloud.results('p1')[0];
    expect(r).toMatchObject({ status: 'failed', retryable: true });
    expect(r.error).toMatch(/CONNECT_REFUSED/);
  });

  it('retries a retryable failure when the cloud sends the push again, instead of replaying it', async () => {
    const port = await freePort();
    const { cloud } = await rig({ lab: mllp(port) });
    cloud.push({ pushId: 'p1', body: adt('C1') });
    await cloud.waitFor(() => cloud.results('p1').length === 1, 5_000, 'first result');
    const lab = await startHl7Listener({ port });
    cleanups.push(() => lab.close());
    cloud.push({ pushId: 'p1', body: adt('C1') });
    await cloud.waitFor(() => cloud.results('p1').length === 2, 5_000, 'second result');
    expect(cloud.results('p1')[1]).toMatchObject({ status: 'acked', ackCode: 'AA' });
    expect(lab.received).toBe(1);
  });

  it('reports a device that never ACKs as failed, not retryable (it may have the message)', async () => {
    const lab = await rawDevice('silent');
    const { cloud } = await rig({ lab: mllp(lab.port) });
    cloud.push({ pushId: 'p1', body: adt('C1') });
    await cloud.waitFor(() => cloud.results('p1').length === 1, 5_000, 'result');
    const r = cloud.results('p1')[0];
    expect(r).toMatchObject({ status: 'failed', retryable: false });
    expect(r.error).toMatch(/ACK_TIMEOUT/);
    expect(lab.messages).toHaveLength(1);
  });

  it('refuses an expired push, a non-HL7 body and an unsupported content type, and keeps working', async () => {
    const lab = await listener();
    const { cloud } = await rig({ lab: mllp(lab.port) });
    cloud.push({ pushId: 'old', body: adt('C1'), expiresAt: Date.now() - CLOCK_SKEW_ALLOWANCE_MS - 1 });
    cloud.push({ pushId: 'text', body: 'hello, not HL7' });
    cloud.push({ pushId: 'json', body: adt('C2'), contentType: 'application/json' });
    cloud.push({ pushId: 'ok', body: adt('C3') });
    // Expired a minute ago by this relay's clock only: a site clock running ahead, not a stale push.
    cloud.push({ pushId: 'skewed', body: adt('C4'), expiresAt: Date.now() - 60_000 });
    await cloud.waitFor(() => cloud.results().length === 5, 5_000, 'five results');
    expect(cloud.results('skewed')[0]).toMatchObject({ status: 'acked', ackCode: 'AA' });
    expect(cloud.results('old')[0]).toMatchObject({ status: 'failed', error: 'expired before delivery', retryable: false });
    expect(cloud.results('text')[0]).toMatchObject({ status: 'failed', retryable: false });
    expect(cloud.results('text')[0].error).toMatch(/NOT_HL7/);
    expect(cloud.results('json')[0]).toMatchObject({ status: 'failed', retryable: false });
    expect(cloud.results('json')[0].error).toMatch(/takes x-application\/hl7-v2\+er7, not "application\/json"/);
    expect(cloud.results('ok')[0]).toMatchObject({ status: 'acked' });
    // Only the two deliverable pushes reached the device.
    expect(lab.seen).toHaveLength(2);
  });

  it('logs malformed cloud messages, fails a malformed push it can name, and keeps working', async () => {
    const lab = await listener();
    const { cloud, relay, lines } = await rig({ lab: mllp(lab.port) });
    cloud.sendRaw('{not json');
    cloud.sendRaw(JSON.stringify({ type: 'launch', v: 1 }));
    cloud.sendRaw(JSON.stringify({ type: 'push', v: 1, pushId: 'bad', body: 'x' })); // no destination etc.
    cloud.sendRaw(JSON.stringify({ type: 'push', v: 3, pushId: 'v2', destination: 'lab' }));
    cloud.sendRaw(JSON.stringify([1, 2, 3]));
    cloud.sendRaw(Buffer.from([0xff, 0xfe, 0x00]).toString('latin1'));
    cloud.push({ pushId: 'good', body: adt('C9') });
    await cloud.waitFor(() => cloud.results('good').length === 1, 5_000, 'good result');
    expect(cloud.results('good')[0]).toMatchObject({ status: 'acked' });
    expect(cloud.results('bad')[0]).toMatchObject({ status: 'failed', retryable: false });
    expect(cloud.results('bad')[0].error).toMatch(/invalid push \(INVALID_MESSAGE\)/);
    expect(cloud.results('v2')[0].error).toMatch(/UNSUPPORTED_VERSION/);
    expect(relay.stats.invalidMessages).toBe(6);
    const warnings = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'invalid message from cloud');
    expect(warnings.map((w) => w.code)).toEqual([
      'MALFORMED_JSON',
      'UNKNOWN_TYPE',
      'INVALID_MESSAGE',
      'UNSUPPORTED_VERSION',
      'INVALID_MESSAGE',
      'MALFORMED_JSON',
    ]);
    expect(lab.seen).toHaveLength(1);
    expect(cloud.connections).toBe(1);
  });

  it('sends an ACK text too large for one message as a result without the text', async () => {
    const lab = await rawDevice('bigAck', 140 * 1024);
    const { cloud } = await rig({ lab: mllp(lab.port) });
    cloud.push({ pushId: 'p1', body: adt('C1') });
    await cloud.waitFor(() => cloud.results('p1').length === 1, 5_000, 'result');
    const r = cloud.results('p1')[0];
    expect(r).toMatchObject({ status: 'acked', ackCode: 'AA' });
    expect(r.response).toBeUndefined();
    expect(r.error).toMatch(/exceeds the 131072-byte message limit/);
  });
});

describe('relay: duplicates', () => {
  it('delivers a repeated pushId once and answers every repeat with the same result', async () => {
    const lab = await listener({ delayMs: 150 });
    const { cloud, relay } = await rig({ lab: mllp(lab.port) });
    cloud.push({ pushId: 'p1', body: adt('C1') });
    cloud.push({ pushId: 'p1', body: adt('C1') }); // while in flight: not started again
    await cloud.waitFor(() => cloud.results('p1').length === 1, 5_000, 'first result');
    cloud.push({ pushId: 'p1', body: adt('C1') }); // after: answered from the cache
    await cloud.waitFor(() => cloud.results('p1').length === 2, 5_000, 'second result');
    await sleep(200);
    expect(lab.seen).toHaveLength(1);
    const [a, b] = cloud.results('p1');
    expect(b).toEqual(a);
    expect(relay.stats.duplicates).toBe(2);
  });
});

describe('relay: connection trouble', () => {
  it('delivers the result of a push whose WebSocket dropped mid-push after reconnecting, each to its own pushId', async () => {
    const lab = await listener({ delayMs: 200 });
    const { cloud } = await rig({ lab: mllp(lab.port) });
    cloud.push({ pushId: 'p1', body: adt('FIRST') });
    cloud.push({ pushId: 'p2', body: adt('SECOND') });
    await sleep(50);
    cloud.dropConnection();
    await cloud.waitFor(() => cloud.results('p1').length === 1 && cloud.results('p2').length === 1, 5_000, 'both results');
    expect(cloud.connections).toBe(2);
    expect(msa2(cloud.results('p1')[0].response)).toBe('FIRST');
    expect(msa2(cloud.results('p2')[0].response)).toBe('SECOND');
    expect(lab.seen).toHaveLength(2);
  });

  it('re-sends unacknowledged results after a reconnect, and stops once the cloud acknowledges them', async () => {
    const lab = await listener();
    const { cloud, relay } = await rig({ lab: mllp(lab.port) });
    cloud.ackResults = false;
    cloud.push({ pushId: 'p1', body: adt('C1') });
    await cloud.waitFor(() => cloud.results('p1').length === 1, 5_000, 'result');
    expect(relay.outbox.size).toBe(1);
    cloud.ackResults = true;
    cloud.dropConnection();
    await cloud.waitFor(() => cloud.results('p1').length === 2, 5_000, 'the result re-sent');
    await cloud.waitFor(() => relay.outbox.size === 0, 5_000, 'outbox empty');
    cloud.dropConnection();
    await cloud.waitFor(() => cloud.count('hello') === 3, 5_000, 'third hello');
    await sleep(100);
    expect(cloud.results('p1')).toHaveLength(2);
    expect(lab.seen).toHaveLength(1);
  });

  it('sends a 64 KB ACK result as WebSocket frames of at most 32 KB', async () => {
    const lab = await rawDevice('bigAck', 64 * 1024);
    const cloud = await FakeCloud.start();
    cleanups.push(() => cloud.close());
    const meter = await startFrameMeter(cloud.port);
    cleanups.push(() => meter.close());
    const { logger } = memoryLogger();
    const relay = new Relay(
      resolveConfig({ url: `ws://127.0.0.1:${meter.port}/ws`, agentId: 'agent-1', secret: 's3cret', devices: { lab: mllp(lab.port) } }),
      logger,
    );
    cleanups.push(() => relay.stop());
    relay.start();
    await cloud.waitFor(() => cloud.count('hello') === 1, 5_000, 'hello');
    cloud.push({ pushId: 'big', body: adt('C1') });
    await cloud.waitFor(() => cloud.results('big').length === 1, 5_000, 'result');
    const r = cloud.results('big')[0];
    expect(r.response!.length).toBeGreaterThan(64 * 1024);
    expect(msa2(r.response)).toBe('C1');
    const frames = meter.parsers[0].frames;
    expect(frames.length).toBeGreaterThanOrEqual(4); // hello + at least 3 fragments
    expect(Math.max(...frames.map((f) => f.frameBytes))).toBeLessThanOrEqual(MAX_FRAME_BYTES);
  });

  it('on stop, finishes the in-flight push and flushes its result before closing', async () => {
    const lab = await listener({ delayMs: 200 });
    const { cloud, relay } = await rig({ lab: mllp(lab.port) });
    cloud.push({ pushId: 'p1', body: adt('C1') });
    await sleep(50);
    await relay.stop();
    expect(cloud.results('p1')[0]).toMatchObject({ status: 'acked' });
    expect(relay.outbox.size).toBe(0);
    await cloud.waitFor(() => cloud.current === undefined, 5_000, 'socket closed');
  });

  it('on stop, fails a push the device never answers once the shutdown time is up, and reports it', async () => {
    const lab = await rawDevice('silent');
    const { cloud, relay } = await rig({ lab: mllp(lab.port) }, { shutdownTimeoutMs: 200, device: { ackTimeoutMs: 60_000 } });
    cloud.push({ pushId: 'p1', body: adt('C1') });
    await cloud.waitFor(() => lab.messages.length === 1, 5_000, 'device got the message');
    const t0 = Date.now();
    await relay.stop();
    expect(Date.now() - t0).toBeLessThan(3_000);
    const r = cloud.results('p1')[0];
    expect(r).toMatchObject({ status: 'failed', retryable: false });
    expect(r.error).toMatch(/CLIENT_CLOSED/);
  });

  it('on stop while the WebSocket is down, waits for the reconnect to hand over the finished result', async () => {
    const lab = await listener({ delayMs: 300 });
    // The reconnect comes 400-800 ms after the drop: after the push is done, well within the shutdown time.
    const { cloud, relay } = await rig(
      { lab: mllp(lab.port) },
      { reconnect: { initialDelayMs: 800, maxDelayMs: 800 }, shutdownTimeoutMs: 5_000 },
    );
    cloud.push({ pushId: 'p1', body: adt('C1') });
    await cloud.waitFor(() => lab.seen.length === 1, 5_000, 'device got the message');
    cloud.dropConnection();
    await relay.stop();
    expect(cloud.results('p1')[0]).toMatchObject({ status: 'acked' });
    expect(relay.outbox.size).toBe(0);
  });

  it('while stopping, answers a new push with a retryable failure instead of delivering it', async () => {
    const lab = await listener({ delayMs: 300 });
    const { cloud, relay } = await rig({ lab: mllp(lab.port) });
    cloud.push({ pushId: 'p1', body: adt('C1') });
    await sleep(50);
    const stopping = relay.stop();
    cloud.push({ pushId: 'late', body: adt('C2') });
    await stopping;
    expect(cloud.results('late')[0]).toMatchObject({ status: 'failed', error: 'relay is shutting down', retryable: true });
    expect(cloud.results('p1')[0]).toMatchObject({ status: 'acked' });
    expect(lab.seen).toHaveLength(1);
  });
});
