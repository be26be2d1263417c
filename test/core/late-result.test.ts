/**
 * A push that reached the device must not be recorded as a plain `expired` because the relay's
 * WebSocket blinked around expiresAt (issue 9, #5). Through a real hub and a scripted relay.
 */
import { startHub, type Hub } from '../../hub/hub';
import { loadOrCreateKeys } from '../../hub/keys';
import { mintToken } from '../../hub/tokens';
import { tempDir } from '../hub/fixtures';
import { ScriptedRelay } from './scripted-relay';

const MSG = (id: string) => `MSH|^~\\&|EHR|HOSP|LAB|DEV|20260101000000||ADT^A01|${id}|P|2.5.1\rPID|1||123\r`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a result that comes back around or after expiresAt', () => {
  let dir: ReturnType<typeof tempDir>;
  let hub: Hub;
  let token: string;
  const relays: ScriptedRelay[] = [];

  const api = async (method: string, path: string, body?: object) => {
    const res = await fetch(`${hub.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  const connect = async (agentId: string, secret: string) => {
    const relay = await ScriptedRelay.connect(hub.wsUrl, agentId, secret);
    relays.push(relay);
    return relay;
  };
  const waitFor = async (pushId: string, ok: (b: Record<string, any>) => boolean, timeoutMs = 8000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await api('GET', `/pushes/${pushId}`);
      if (ok(res.body)) return res.body;
      if (Date.now() > deadline) throw new Error(`push ${pushId}: ${JSON.stringify(res.body)}`);
      await sleep(25);
    }
  };

  beforeEach(async () => {
    dir = tempDir();
    // resultTimeout 2.5 s: longer than the 1 s expiry plus the blip below.
    hub = await startHub({ port: 0, dataDir: dir.path, core: { resultTimeoutMs: 2500, offlineRetryMs: 50, maxAttempts: 3 } });
    token = await mintToken(await loadOrCreateKeys(dir.path));
  });
  afterEach(async () => {
    for (const r of relays.splice(0)) r.close();
    await hub.close();
    dir.remove();
  });

  it('records the ACK the relay re-sends after a blip across expiresAt, instead of expiring the push at once', async () => {
    const { secret } = (await api('POST', '/agents', { agentId: 'blip' })).body as { secret: string };
    const first = await connect('blip', secret);
    const accepted = await api('POST', '/agents/blip/push', { destination: 'lab', body: MSG('B1'), expiresIn: 1, waitForResponse: false });
    const push = await first.nextPush();
    // The device got it; the WebSocket drops before the relay can report, and comes back after expiresAt.
    await first.kill();
    await sleep(1200);
    const second = await connect('blip', secret);
    // The hub's dispatcher ran on reconnect (wake): it must not have expired the push yet.
    await sleep(100);
    expect((await api('GET', `/pushes/${push.pushId}`)).body.status).toBe('sent');
    expect(await second.ack(push.pushId)).toMatchObject({ type: 'resultAck', pushId: push.pushId });
    const done = await waitFor(accepted.body.pushId as string, (b) => b.status !== 'sent');
    expect(done).toMatchObject({ status: 'acked', ackCode: 'AA' });
  });

  it('keeps a result that arrives after the push expired while sent, as delivered after expiry', async () => {
    const { secret } = (await api('POST', '/agents', { agentId: 'late' })).body as { secret: string };
    const first = await connect('late', secret);
    await api('POST', '/agents/late/push', { destination: 'lab', body: MSG('L1'), expiresIn: 1, waitForResponse: false });
    const push = await first.nextPush();
    await first.kill();
    // Past expiresAt and past resultTimeout: the hub gives up on it.
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
