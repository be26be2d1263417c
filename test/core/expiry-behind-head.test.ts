/**
 * A push expires at its expiresAt even while it waits behind another push of its destination
 * (issue 11, "A push expires on time"), on the hub and on the AWS path (emulators). The head
 * is a push the scripted relay never answers, so it stays `sent` for the whole test. On the hub
 * the pushes behind it are sent ahead to the relay (the pipelining window) and expire there.
 */
import { CLOUD_KINDS, startCloud, type Cloud } from './clouds';
import { ScriptedRelay } from './scripted-relay';

jest.setTimeout(60_000);

const MSG = (id: string) => `MSH|^~\\&|EHR|HOSP|LAB|DEV|20260101000000||ADT^A01|${id}|P|2.5.1\rPID|1||123\r`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(CLOUD_KINDS)('a push behind a stuck head, on the %s', (kind) => {
  let cloud: Cloud;
  let relay: ScriptedRelay | undefined;
  const api = (method: string, path: string, body?: object) => cloud.api(method, path, body);

  beforeAll(async () => {
    cloud = await startCloud(kind, { resultTimeoutMs: 30_000 });
  });
  afterAll(async () => {
    relay?.close();
    await cloud.stop();
  });

  it('expires at expiresAt: the waiting caller and GET both see expired, never queued', async () => {
    const agent = await api('POST', '/agents', { agentId: 'stuck' });
    expect(agent.status).toBe(201);
    relay = await ScriptedRelay.connect(cloud.wsUrl, 'stuck', agent.body.secret as string);
    const head = await api('POST', '/agents/stuck/push', { destination: 'lab', body: MSG('H1'), waitForResponse: false });
    expect(head.status).toBe(202);
    expect((await relay.nextPush(10_000)).pushId).toBe(head.body.pushId);

    // Behind the head: one caller waits (waitTimeout 4 s), one push is only read back later,
    // one only ever seen in a list.
    const [waited, unread, listed] = await Promise.all([
      api('POST', '/agents/stuck/push', { destination: 'lab', body: MSG('W1'), expiresIn: 1, waitTimeout: 4000 }),
      api('POST', '/agents/stuck/push', { destination: 'lab', body: MSG('U1'), expiresIn: 1, waitForResponse: false }),
      api('POST', '/agents/stuck/push', { destination: 'lab', body: MSG('L1'), expiresIn: 1, waitForResponse: false }),
    ]);
    expect(waited).toMatchObject({ status: 504, body: { status: 'expired' } });
    expect(waited.body.error).toMatch(/expired before/);
    await sleep(200);
    const list = await api('GET', '/pushes?agentId=stuck');
    const statusOf = (id: string) => (list.body.pushes as { pushId: string; status: string }[]).find((p) => p.pushId === id)?.status;
    expect(statusOf(listed.body.pushId)).toBe('expired');
    expect((await api('GET', '/pushes?agentId=stuck&status=queued')).body.pushes).toStrictEqual([]);
    expect((await api('GET', `/pushes/${unread.body.pushId}`)).body.status).toBe('expired');
    const ahead = relay.received.filter((m) => m.type === 'push');
    if (kind === 'hub') {
      // The hub sent them ahead (its pipelining window), each to go right after the one before
      // and with its time left, so the relay never starts them past expiresAt.
      const behind = [waited.body.pushId, unread.body.pushId, listed.body.pushId] as string[];
      expect(ahead.map((m) => m.pushId).sort()).toStrictEqual([...behind].sort());
      expect(ahead.map((m) => m.after)).toStrictEqual([head.body.pushId, ...ahead.slice(0, -1).map((m) => m.pushId)]);
      for (const m of ahead) expect(m.ttlMs).toBeLessThanOrEqual(1000);
      // The relay reports each as not started: nothing reached the device, so no late result.
      for (const m of ahead) {
        relay.send({ action: 'result', v: 1, pushId: m.pushId, status: 'failed', error: 'expired before delivery', retryable: false });
        await relay.next((r) => r.type === 'resultAck' && r.pushId === m.pushId);
      }
      for (const id of behind) {
        const push = (await api('GET', `/pushes/${id}`)).body;
        expect(push.status).toBe('expired');
        expect(push.lateResult).toBeUndefined();
      }
    } else {
      // None ever went to the relay: SQS FIFO holds them behind the head in flight.
      expect(ahead).toHaveLength(0);
    }
    // The head is still waiting for its result.
    expect((await api('GET', `/pushes/${head.body.pushId}`)).body.status).toBe('sent');
  });
});
