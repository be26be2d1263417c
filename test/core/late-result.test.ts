/**
 * A push that reached the device must not be recorded as a plain `expired` because the relay's
 * WebSocket blinked around expiresAt (issue 9, #5). Through a real cloud side (the hub, and the
 * AWS path on emulators) and a scripted relay.
 */
import { CLOUD_KINDS, startCloud, type Cloud } from './clouds';
import { ScriptedRelay } from './scripted-relay';

jest.setTimeout(60_000);

const MSG = (id: string) => `MSH|^~\\&|EHR|HOSP|LAB|DEV|20260101000000||ADT^A01|${id}|P|2.5.1\rPID|1||123\r`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(CLOUD_KINDS)('a result that comes back around or after expiresAt, on the %s', (kind) => {
  let cloud: Cloud;
  const relays: ScriptedRelay[] = [];

  const connect = async (agentId: string, secret: string) => {
    const relay = await ScriptedRelay.connect(cloud.wsUrl, agentId, secret);
    relays.push(relay);
    return relay;
  };
  const waitFor = async (pushId: string, ok: (b: Record<string, any>) => boolean, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await cloud.api('GET', `/pushes/${pushId}`);
      if (ok(res.body)) return res.body;
      if (Date.now() > deadline) throw new Error(`push ${pushId}: ${JSON.stringify(res.body)}`);
      await sleep(25);
    }
  };

  beforeAll(async () => {
    // resultTimeout 2.5 s: longer than the 1 s expiry plus the blip below.
    cloud = await startCloud(kind, { resultTimeoutMs: 2500, offlineRetryMs: 50, maxAttempts: 3 });
  });
  afterAll(async () => {
    for (const r of relays.splice(0)) r.close();
    await cloud.stop();
  });

  it('records the ACK the relay re-sends after a blip across expiresAt, instead of expiring the push at once', async () => {
    const { secret } = (await cloud.api('POST', '/agents', { agentId: 'blip' })).body as { secret: string };
    const first = await connect('blip', secret);
    await cloud.api('POST', '/agents/blip/push', { destination: 'lab', body: MSG('B1'), expiresIn: 1, waitForResponse: false });
    const push = await first.nextPush(10_000);
    // The device got it; the WebSocket drops before the relay can report, and comes back after expiresAt.
    await first.kill();
    await sleep(1200);
    const second = await connect('blip', secret);
    // The hub's dispatcher ran on reconnect (wake): it must not have expired the push yet.
    await sleep(100);
    expect((await cloud.api('GET', `/pushes/${push.pushId}`)).body.status).toBe('sent');
    expect(await second.ack(push.pushId)).toMatchObject({ type: 'resultAck', pushId: push.pushId });
    const done = await waitFor(push.pushId, (b) => b.status !== 'sent');
    expect(done).toMatchObject({ status: 'acked', ackCode: 'AA' });
  });

  it('keeps a result that arrives after the push expired while sent, as delivered after expiry', async () => {
    const { secret } = (await cloud.api('POST', '/agents', { agentId: 'late' })).body as { secret: string };
    const first = await connect('late', secret);
    await cloud.api('POST', '/agents/late/push', { destination: 'lab', body: MSG('L1'), expiresIn: 1, waitForResponse: false });
    const push = await first.nextPush(10_000);
    await first.kill();
    // Past expiresAt and past resultTimeout: the cloud gives up on it.
    const expired = await waitFor(push.pushId, (b) => b.status === 'expired');
    expect(expired.deliveredAfterExpiry).toBeUndefined();

    const second = await connect('late', secret);
    // The relay's outbox re-sends the device's AA: acknowledged (so it leaves the outbox) and kept.
    expect(await second.ack(push.pushId)).toMatchObject({ type: 'resultAck', pushId: push.pushId });
    const after = await waitFor(push.pushId, (b) => b.deliveredAfterExpiry !== undefined);
    expect(after).toMatchObject({ status: 'expired', deliveredAfterExpiry: { status: 'acked', ackCode: 'AA', response: 'MSA|AA|X' } });
    expect(typeof after.deliveredAfterExpiry.receivedAt).toBe('string');
  });
});
