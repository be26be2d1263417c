/**
 * The relay's per-device lanes over real sockets: a fake cloud sends several pushes of one
 * device ahead (as the AWS dispatcher's window does, each naming the one before in `after`),
 * and the device must see them one at a time, in order, exactly once, whatever fails.
 */
import { resolveConfig } from '../../edge-agent/relay/config-schema';
import { CLOCK_SKEW_ALLOWANCE_MS, Relay } from '../../edge-agent/relay/relay';
import { startHl7Listener, type Hl7Listener } from '../../edge-agent/mllp/listener';
import { readMsh } from '../../hl7/msh';
import { FakeCloud } from './fake-cloud';
import { freePort } from '../support/free-port';
import { adt, memoryLogger } from './helpers';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Seen {
  controlId: string;
  at: number;
}

async function device(opts: { port?: number; ack?: 'AA' | 'AE'; delayMs?: number } = {}): Promise<Hl7Listener & { seen: Seen[] }> {
  const seen: Seen[] = [];
  const l = await startHl7Listener({
    port: opts.port ?? 0,
    ack: opts.ack,
    delayMs: opts.delayMs,
    onMessage: (m) => seen.push({ controlId: readMsh(m).controlId, at: performance.now() }),
  });
  cleanups.push(() => l.close());
  return Object.assign(l, { seen });
}

async function rig(port: number): Promise<FakeCloud> {
  const cloud = await FakeCloud.start();
  cleanups.push(() => cloud.close());
  const relay = new Relay(
    resolveConfig({
      url: cloud.url,
      agentId: 'agent-1',
      secret: 's3cret',
      devices: { lab: `mllp://127.0.0.1:${port}` },
      reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
      device: { ackTimeoutMs: 2_000, connectTimeoutMs: 500 },
      shutdownTimeoutMs: 2_000,
    }),
    memoryLogger().logger,
  );
  cleanups.push(() => relay.stop());
  relay.start();
  await cloud.waitFor(() => cloud.count('hello') === 1, 5_000, 'hello');
  return cloud;
}

/** Sends p1..pn back to back, each after the one before, as the dispatcher's window does. */
function sendWindow(cloud: FakeCloud, ids: string[], extra: (id: string) => object = () => ({})): void {
  ids.forEach((id, i) => cloud.push({ pushId: id, body: adt(`C-${id}`), ...(i > 0 ? { after: ids[i - 1] } : {}), ...extra(id) }));
}

const ids = (n: number, prefix = 'p') => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);

describe('relay: pushes of one device sent ahead', () => {
  it('reach the device one at a time, in order, each after the one before has its ACK', async () => {
    const lab = await device({ delayMs: 30 });
    const cloud = await rig(lab.port);
    const window = ids(8);
    sendWindow(cloud, window);
    await cloud.waitFor(() => window.every((id) => cloud.results(id).length === 1), 10_000, 'results');
    expect(lab.seen.map((s) => s.controlId)).toStrictEqual(window.map((id) => `C-${id}`));
    // The device ACKs 30 ms after a message arrives: a next message sooner would overlap it.
    const gaps = lab.seen.slice(1).map((s, i) => s.at - lab.seen[i].at);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(29);
    expect(window.map((id) => cloud.results(id)[0].status)).toStrictEqual(window.map(() => 'acked'));
    // Results come back in the same order.
    expect(cloud.results().map((r) => r.pushId)).toStrictEqual(window);
  });

  it('goes on after a NAK: the NAK is that push final answer, the next one is still delivered', async () => {
    const lab = await device({ ack: 'AE' });
    const cloud = await rig(lab.port);
    sendWindow(cloud, ['n1', 'n2']);
    await cloud.waitFor(() => cloud.results('n2').length === 1, 5_000, 'results');
    expect(cloud.results('n1')[0]).toMatchObject({ status: 'nacked', ackCode: 'AE' });
    expect(cloud.results('n2')[0]).toMatchObject({ status: 'nacked', ackCode: 'AE' });
    expect(lab.seen.map((s) => s.controlId)).toStrictEqual(['C-n1', 'C-n2']);
  });

  it('fails a push whose `after` it does not know, retryably and unsent', async () => {
    const lab = await device();
    const cloud = await rig(lab.port);
    cloud.push({ pushId: 'x2', body: adt('C-x2'), after: 'x1' });
    await cloud.waitFor(() => cloud.results('x2').length === 1, 5_000, 'result');
    expect(cloud.results('x2')[0]).toMatchObject({ status: 'failed', retryable: true });
    expect(cloud.results('x2')[0].error).toContain('not sent: the push before it was not delivered (x1)');
    expect(lab.seen).toHaveLength(0);
  });

  it('when one fails retryably, the ones behind it fail retryably unsent; sent again, all arrive in order once', async () => {
    const port = await freePort();
    const cloud = await rig(port);
    const window = ids(4, 'r');
    sendWindow(cloud, window);
    await cloud.waitFor(() => window.every((id) => cloud.results(id).length === 1), 10_000, 'first results');
    expect(cloud.results('r1')[0].error).toMatch(/CONNECT_REFUSED/);
    for (const id of window) expect(cloud.results(id)[0]).toMatchObject({ status: 'failed', retryable: true });
    for (const id of window.slice(1)) expect(cloud.results(id)[0].error).toMatch(/^not sent: the push before it/);
    // A push the cloud sent before it heard of the failure is refused too: its `after` failed.
    cloud.push({ pushId: 'r5', body: adt('C-r5'), after: 'r4' });
    await cloud.waitFor(() => cloud.results('r5').length === 1, 5_000, 'late push');
    expect(cloud.results('r5')[0]).toMatchObject({ status: 'failed', retryable: true });

    const lab = await device({ port });
    sendWindow(cloud, [...window, 'r5']);
    await cloud.waitFor(() => [...window, 'r5'].every((id) => cloud.results(id).length === 2), 10_000, 'second results');
    expect(lab.seen.map((s) => s.controlId)).toStrictEqual([...window, 'r5'].map((id) => `C-${id}`));
  });

  it('does not start a push sent ahead once its ttlMs has run out on the relay clock', async () => {
    const lab = await device({ delayMs: 300 });
    const cloud = await rig(lab.port);
    // expiresAt far off by the relay's clock; only the time it had left when sent (ttlMs) runs out.
    sendWindow(cloud, ['t1', 't2', 't3'], (id) => (id === 't2' ? { ttlMs: 100 } : id === 't3' ? { ttlMs: 5_000 } : {}));
    await cloud.waitFor(() => cloud.results('t3').length === 1, 5_000, 'results');
    expect(cloud.results('t2')[0]).toMatchObject({ status: 'failed', retryable: false, error: 'expired before delivery' });
    expect(cloud.results('t3')[0]).toMatchObject({ status: 'acked' });
    expect(lab.seen.map((s) => s.controlId)).toStrictEqual(['C-t1', 'C-t3']);
  });

  it('does not start a push that expired while it waited behind another', async () => {
    const lab = await device({ delayMs: 300 });
    const cloud = await rig(lab.port);
    // Within the clock-skew allowance on arrival, past it 100 ms later, while e1 holds the device.
    const expiresAt = Date.now() - CLOCK_SKEW_ALLOWANCE_MS + 100;
    sendWindow(cloud, ['e1', 'e2'], (id) => (id === 'e2' ? { expiresAt } : {}));
    await cloud.waitFor(() => cloud.results('e2').length === 1, 5_000, 'result');
    expect(cloud.results('e1')[0]).toMatchObject({ status: 'acked' });
    expect(cloud.results('e2')[0]).toMatchObject({ status: 'failed', retryable: false, error: 'expired before delivery' });
    expect(lab.seen.map((s) => s.controlId)).toStrictEqual(['C-e1']);
  });
});
