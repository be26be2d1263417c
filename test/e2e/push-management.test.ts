/**
 * Managing pushes on the hub through its HTTP API (the `edgepush hub` child process): list,
 * cancel, resend, and the push JSON's agentId/destination/expiresAt/resendOf.
 */
import { http, startDevice, startHub, startRelay, stopAll, tempDir, token, type HubProc } from './harness';
import { sleep, waitFor } from '../support/wait';

const MSG = (id: string) => `MSH|^~\\&|EP|HUB|LAB|DEV|20240101000000||ADT^A01|${id}|P|2.5\rPID|1||123\r`;

describe('push management on the hub', () => {
  const dir = tempDir();
  let hub: HubProc;
  let tok: string;
  let secret: string;
  const agentId = 'site-pm';
  const push = (destination: string, id: string) =>
    http(`${hub.url}/agents/${agentId}/push`, { token: tok, body: { destination, body: MSG(id), waitForResponse: false, expiresIn: 600 } });

  beforeAll(async () => {
    hub = await startHub(dir.path);
    tok = await token(dir.path);
    const created = await http(`${hub.url}/agents`, { token: tok, body: { agentId } });
    secret = created.body.secret as string;
  });
  afterAll(async () => {
    await stopAll();
    dir.remove();
  });

  let first: string;
  let second: string;
  let other: string;

  it('answers a push with its agent, destination and expiry', async () => {
    const res = await push('lab', 'M1');
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ agentId, destination: 'lab', status: 'queued' });
    expect(Date.parse(res.body.expiresAt) - Date.parse(res.body.createdAt)).toBe(600_000);
    first = res.body.pushId;
    // Apart in time, so newest-first does not fall back to the pushId tie-break.
    await sleep(5);
    second = (await push('lab', 'M2')).body.pushId;
    await sleep(5);
    other = (await push('ris', 'M3')).body.pushId;
  });

  it('lists pushes newest first, filtered, without bodies, in pages', async () => {
    const all = await http(`${hub.url}/pushes?agentId=${agentId}`, { token: tok });
    expect(all.status).toBe(200);
    expect(all.body.pushes.map((p: { pushId: string }) => p.pushId)).toEqual([other, second, first]);
    expect(all.text).not.toContain('MSH');
    expect(all.body.next).toBeUndefined();

    const labs = await http(`${hub.url}/pushes?agentId=${agentId}&destination=Device/lab`, { token: tok });
    expect(labs.body.pushes.map((p: { pushId: string }) => p.pushId)).toEqual([second, first]);

    const page1 = await http(`${hub.url}/pushes?agentId=${agentId}&limit=2`, { token: tok });
    expect(page1.body.pushes).toHaveLength(2);
    const page2 = await http(`${hub.url}/pushes?agentId=${agentId}&limit=2&cursor=${page1.body.next}`, { token: tok });
    expect(page2.body.pushes.map((p: { pushId: string }) => p.pushId)).toEqual([first]);
    expect(page2.body.next).toBeUndefined();
  });

  it('refuses a bad limit, status or cursor with INVALID_QUERY', async () => {
    for (const q of ['limit=0', 'limit=501', 'status=lost', 'cursor=zzz']) {
      const res = await http(`${hub.url}/pushes?${q}`, { token: tok });
      expect(res).toMatchObject({ status: 400, body: { code: 'INVALID_QUERY' } });
    }
  });

  it('cancels a queued push, once', async () => {
    const res = await http(`${hub.url}/pushes/${first}/cancel`, { token: tok, method: 'POST' });
    expect(res).toMatchObject({ status: 200, body: { pushId: first, status: 'cancelled' } });
    const again = await http(`${hub.url}/pushes/${first}/cancel`, { token: tok, method: 'POST' });
    expect(again).toMatchObject({ status: 409, body: { code: 'NOT_CANCELLABLE', error: expect.stringContaining('cancelled') } });
    const missing = await http(`${hub.url}/pushes/nope/cancel`, { token: tok, method: 'POST' });
    expect(missing).toMatchObject({ status: 404, body: { code: 'PUSH_NOT_FOUND' } });
    const cancelled = await http(`${hub.url}/pushes?status=cancelled`, { token: tok });
    expect(cancelled.body.pushes.map((p: { pushId: string }) => p.pushId)).toEqual([first]);
  });

  it('resends a push as a new one linked by resendOf', async () => {
    const res = await http(`${hub.url}/pushes/${first}/resend`, { token: tok, method: 'POST' });
    expect(res.status).toBe(202);
    expect(res.headers.get('location')).toMatch(new RegExp(`/pushes/${res.body.pushId}$`));
    expect(res.body).toMatchObject({ agentId, destination: 'lab', status: 'queued', resendOf: first });
    expect(res.body.pushId).not.toBe(first);
  });

  it('skips the cancelled push: the next push of its destination is delivered', async () => {
    const device = await startDevice();
    startRelay(hub.wsUrl, agentId, secret, { lab: device.port, ris: device.port });
    await waitFor(async () => (await http(`${hub.url}/pushes/${second}`, { token: tok })).body.status === 'acked', 20_000);
    expect((await http(`${hub.url}/pushes/${first}`, { token: tok })).body).toMatchObject({ status: 'cancelled', attempts: 0 });
  }, 30_000);
});
