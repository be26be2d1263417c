/**
 * The push state machine under a misbehaving relay, through a real hub (lmdb store, in-process
 * queue, WebSocket gateway) and a scripted relay on a real WebSocket. These are the cases where
 * a real relay is too well-behaved to show the guarantee: it dies after taking a push, it never
 * reports, it reports for someone else's push, it reports a device that can't be reached.
 */
import { startHub, type Hub } from '../../hub/hub';
import { loadOrCreateKeys } from '../../hub/keys';
import { mintToken } from '../../hub/tokens';
import { tempDir } from '../hub/fixtures';
import { ScriptedRelay } from './scripted-relay';
import { NOT_SENT_BEHIND } from '../../protocol/messages';

const MSG = (id: string) => `MSH|^~\\&|EHR|HOSP|LAB|DEV|20260101000000||ADT^A01|${id}|P|2.5.1\rPID|1||123\r`;

describe('push lifecycle under a misbehaving relay', () => {
  let dir: ReturnType<typeof tempDir>;
  let hub: Hub;
  let token: string;

  const api = async (method: string, path: string, body?: object) => {
    const res = await fetch(`${hub.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };

  const createAgent = async (agentId: string): Promise<string> => {
    const res = await api('POST', '/agents', { agentId });
    expect(res.status).toBe(201);
    return res.body.secret as string;
  };

  const waitForStatus = async (pushId: string, status: string, timeoutMs = 5000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await api('GET', `/pushes/${pushId}`);
      if (res.body.status === status) return res.body;
      if (Date.now() > deadline) throw new Error(`push ${pushId} is ${res.body.status}, not ${status}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  beforeEach(async () => {
    dir = tempDir();
    // Short timers so the relay-went-silent paths run in well under a second each.
    hub = await startHub({ port: 0, dataDir: dir.path, core: { resultTimeoutMs: 300, offlineRetryMs: 50, maxAttempts: 2 } });
    token = await mintToken(await loadOrCreateKeys(dir.path));
  });

  afterEach(async () => {
    await hub.close();
    dir.remove();
  });

  it('re-sends a push to the new connection when the relay dies after taking it', async () => {
    const secret = await createAgent('site-a');
    const first = await ScriptedRelay.connect(hub.wsUrl, 'site-a', secret);
    const accepted = await api('POST', '/agents/site-a/push', { destination: 'lab', body: MSG('C1'), waitForResponse: false });
    expect(accepted.status).toBe(202);
    const push = await first.nextPush();
    await first.kill(); // died between taking the push and reporting

    const second = await ScriptedRelay.connect(hub.wsUrl, 'site-a', secret);
    const again = await second.nextPush();
    expect(again.pushId).toBe(push.pushId);
    second.send({ action: 'result', v: 1, pushId: push.pushId, status: 'acked', ackCode: 'AA', response: 'MSH|^~\\&|\rMSA|AA|C1' });
    await second.next((m) => m.type === 'resultAck');

    const done = await waitForStatus(push.pushId, 'acked');
    expect(done).toMatchObject({ ackCode: 'AA', attempts: 2 });
    await second.kill();
  });

  it('fails a push whose relay never reports, after maxAttempts, instead of leaving it sent', async () => {
    const secret = await createAgent('site-b');
    const relay = await ScriptedRelay.connect(hub.wsUrl, 'site-b', secret);
    const res = await api('POST', '/agents/site-b/push', { destination: 'lab', body: MSG('C2'), waitTimeout: 3000 });
    // Two deliveries to a relay that stays silent, then the push ends.
    const a = await relay.nextPush();
    const b = await relay.nextPush();
    expect(b.pushId).toBe(a.pushId);
    expect(res.status).toBe(502);
    expect(res.body).toMatchObject({ status: 'failed', attempts: 2 });
    expect(res.body.error).toMatch(/no result from the relay/);
    await relay.kill();
  });

  it('on its last attempt, a relay that reconnects and reports the result gets it recorded, not failed first', async () => {
    // The reconnect and the result must land within resultTimeout of the last send: 300 ms is
    // too tight on a loaded machine (the exact boundary is in test/unit/core/push-dispatcher).
    await hub.close();
    hub = await startHub({ port: 0, dataDir: dir.path, core: { resultTimeoutMs: 2_000, offlineRetryMs: 50, maxAttempts: 2 } });
    const secret = await createAgent('site-f');
    const first = await ScriptedRelay.connect(hub.wsUrl, 'site-f', secret);
    const accepted = await api('POST', '/agents/site-f/push', { destination: 'lab', body: MSG('C8'), waitForResponse: false });
    // Attempt 1 goes unanswered; attempt 2 (the last, maxAttempts 2) reaches the device...
    const a = await first.nextPush();
    const b = await first.nextPush();
    expect(b.pushId).toBe(a.pushId);
    // ...and the connection drops before the relay reports. It reconnects at once and re-sends
    // the result it still holds, as the real relay does after its hello.
    await first.kill();
    const second = await ScriptedRelay.connect(hub.wsUrl, 'site-f', secret);
    second.send({ action: 'result', v: 1, pushId: a.pushId, status: 'acked', ackCode: 'AA', response: 'MSH|^~\\&|\rMSA|AA|C8' });
    await second.next((m) => m.type === 'resultAck' || m.type === 'error');
    const done = await waitForStatus(accepted.body.pushId, 'acked').catch(
      async () => (await api('GET', `/pushes/${accepted.body.pushId}`)).body,
    );
    expect(done).toMatchObject({ status: 'acked', ackCode: 'AA', attempts: 2 });
    await second.kill();
  });

  it('refuses a result for a push that was not dispatched to the reporting agent, and changes nothing', async () => {
    const secretA = await createAgent('owner');
    const secretB = await createAgent('rogue');
    const owner = await ScriptedRelay.connect(hub.wsUrl, 'owner', secretA);
    const rogue = await ScriptedRelay.connect(hub.wsUrl, 'rogue', secretB);
    const accepted = await api('POST', '/agents/owner/push', { destination: 'lab', body: MSG('C3'), waitForResponse: false });
    const push = await owner.nextPush();

    rogue.send({ action: 'result', v: 1, pushId: push.pushId, status: 'nacked', ackCode: 'AR', response: 'MSH|^~\\&|\rMSA|AR|C3' });
    const refusal = await rogue.next((m) => m.type === 'error');
    expect(refusal).toMatchObject({ code: 'UNKNOWN_PUSH' });
    expect((await api('GET', `/pushes/${accepted.body.pushId}`)).body.status).toBe('sent');

    // A result whose ackCode contradicts its status is refused too.
    owner.send({ action: 'result', v: 1, pushId: push.pushId, status: 'acked', ackCode: 'AE' });
    expect(await owner.next((m) => m.type === 'error')).toMatchObject({ code: 'INVALID_RESULT' });

    owner.send({ action: 'result', v: 1, pushId: push.pushId, status: 'acked', ackCode: 'AA', response: 'MSH|^~\\&|\rMSA|AA|C3' });
    await waitForStatus(push.pushId, 'acked');
    // A repeat of the same result is acknowledged and changes nothing.
    owner.send({ action: 'result', v: 1, pushId: push.pushId, status: 'failed', error: 'late' });
    await owner.next((m) => m.type === 'resultAck' && m.pushId === push.pushId);
    expect((await api('GET', `/pushes/${push.pushId}`)).body).toMatchObject({ status: 'acked', ackCode: 'AA' });
    await owner.kill();
    await rogue.kill();
  });

  it('keeps a push queued while the device is unreachable, then delivers it in order', async () => {
    const secret = await createAgent('site-c');
    const relay = await ScriptedRelay.connect(hub.wsUrl, 'site-c', secret);
    const p1 = await api('POST', '/agents/site-c/push', { destination: 'lab', body: MSG('C4'), waitForResponse: false });
    const p2 = await api('POST', '/agents/site-c/push', { destination: 'lab', body: MSG('C5'), waitForResponse: false });

    const first = await relay.nextPush();
    expect(first.pushId).toBe(p1.body.pushId);
    // Sent ahead while the first waits (the hub's pipelining window), to go right after it.
    const ahead = await relay.nextPush();
    expect(ahead).toMatchObject({ pushId: p2.body.pushId, after: p1.body.pushId });
    relay.send({ action: 'result', v: 1, pushId: first.pushId, status: 'failed', error: 'device refused the connection', retryable: true });
    await relay.next((m) => m.type === 'resultAck' && m.pushId === first.pushId);
    // As a real relay does (push-lanes.ts): the one behind a retryable failure comes back unsent.
    relay.send({
      action: 'result',
      v: 1,
      pushId: ahead.pushId,
      status: 'failed',
      error: `${NOT_SENT_BEHIND} (${first.pushId})`,
      retryable: true,
    });
    await relay.next((m) => m.type === 'resultAck' && m.pushId === ahead.pushId);
    const queued = await waitForStatus(first.pushId, 'queued');
    expect(queued.error).toMatch(/refused/);

    // The same push comes again before the one behind it: order per destination holds.
    const retried = await relay.nextPush();
    expect(retried.pushId).toBe(p1.body.pushId);
    relay.send({ action: 'result', v: 1, pushId: retried.pushId, status: 'acked', ackCode: 'AA', response: 'MSH|^~\\&|\rMSA|AA|C4' });
    const second = await relay.nextPush();
    expect(second.pushId).toBe(p2.body.pushId);
    relay.send({ action: 'result', v: 1, pushId: second.pushId, status: 'acked', ackCode: 'AA', response: 'MSH|^~\\&|\rMSA|AA|C5' });
    await waitForStatus(p2.body.pushId, 'acked');
    expect((await api('GET', `/pushes/${p1.body.pushId}`)).body).toMatchObject({ status: 'acked' });
    await relay.kill();
  });

  it('does not count a push the relay bounced unsent behind a failed one, and takes repeats of that bounce', async () => {
    const secret = await createAgent('site-b2');
    const relay = await ScriptedRelay.connect(hub.wsUrl, 'site-b2', secret);
    const accepted = await api('POST', '/agents/site-b2/push', { destination: 'lab', body: MSG('C7'), waitForResponse: false });
    const first = await relay.nextPush();
    const bounce = {
      action: 'result',
      v: 1,
      pushId: first.pushId,
      status: 'failed',
      error: `${NOT_SENT_BEHIND} (some-earlier-push); the cloud sends them again in order`,
      retryable: true,
    };
    // Twice, as a relay whose resultAck was lost sends it again: both acknowledged, none refused.
    relay.send(bounce);
    relay.send(bounce);
    await relay.next((m) => m.type === 'resultAck' && m.pushId === first.pushId);
    await relay.next((m) => m.type === 'resultAck' && m.pushId === first.pushId);
    expect(relay.received.filter((m) => m.type === 'error')).toStrictEqual([]);

    // Sent again at once (no backoff of its own), and the bounce was not an attempt.
    const again = await relay.nextPush();
    expect(again.pushId).toBe(accepted.body.pushId);
    relay.send({ action: 'result', v: 1, pushId: again.pushId, status: 'acked', ackCode: 'AA', response: 'MSH|^~\\&|\rMSA|AA|C7' });
    const done = await waitForStatus(again.pushId, 'acked');
    expect(done.attempts).toBe(1);
    await relay.kill();
  });

  it('expires a push whose relay stays offline past expiresIn', async () => {
    await createAgent('site-d');
    const res = await api('POST', '/agents/site-d/push', { destination: 'lab', body: MSG('C6'), expiresIn: 1, waitTimeout: 3000 });
    expect(res.status).toBe(504);
    expect(res.body).toMatchObject({ status: 'expired', attempts: 0 });
    expect(res.body.error).toMatch(/expired/);
  });

  it('refuses a push for a device the relay did not announce', async () => {
    const secret = await createAgent('site-e');
    const relay = await ScriptedRelay.connect(hub.wsUrl, 'site-e', secret, ['lab']);
    const res = await api('POST', '/agents/site-e/push', { destination: 'Device/pharmacy', body: MSG('C7') });
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ code: 'DESTINATION_NOT_FOUND' });
    await relay.kill();
  });
});
