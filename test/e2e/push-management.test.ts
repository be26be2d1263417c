/**
 * Managing pushes on the hub through its HTTP API (the `edgepush hub` child process): list,
 * cancel, resend, and the push JSON's agentId/destination/expiresAt/resendOf.
 */
import { http, runToEnd, startDevice, startHub, startRelay, stopAll, tempDir, token, type HubProc } from './harness';
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

  describe('the CLI (edgepush push status|list|cancel|resend)', () => {
    const cli = (...args: string[]) => runToEnd(['push', ...args], { EDGEPUSH_API: hub.url, EDGEPUSH_TOKEN: tok });
    const lines = (out: string) =>
      out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, any>);

    it('keeps `push <agentId> <destination>` working next to the subcommands', async () => {
      const res = await cli(agentId, 'lab', '--generate-example', '--no-wait');
      expect(res.code).toBe(0);
      expect(lines(res.stdout)[0]).toMatchObject({ status: 'queued' });
    });

    it('status: prints the push and exits 3 while in flight, 1 once cancelled', async () => {
      const res = await cli('status', second);
      expect(res).toMatchObject({ code: 3 });
      expect(lines(res.stdout)[0]).toMatchObject({ pushId: second, status: 'queued', agentId, destination: 'lab' });
      expect((await cli('status', first, '--api', hub.url)).code).toBe(1);
    });

    it('list: filters and pages; a bad --status is a usage error', async () => {
      const res = await cli('list', '--agent', agentId, '--destination', 'ris');
      expect(res.code).toBe(0);
      expect(lines(res.stdout)[0].pushes.map((p: { pushId: string }) => p.pushId)).toEqual([other]);
      const page = lines((await cli('list', '--agent', agentId, '--limit', '1')).stdout)[0];
      expect(page.pushes).toHaveLength(1);
      const rest = lines((await cli('list', '--agent', agentId, '--limit', '1', '--cursor', page.next)).stdout)[0];
      expect(rest.pushes[0].pushId).not.toBe(page.pushes[0].pushId);
      const bad = await cli('list', '--status', 'lost');
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('status must be one of');
    });

    it('cancel and resend', async () => {
      const queued = (await push('ris', 'M9')).body.pushId as string;
      const cancelled = await cli('cancel', queued);
      expect(cancelled.code).toBe(0);
      expect(lines(cancelled.stdout)[0]).toMatchObject({ pushId: queued, status: 'cancelled' });
      const again = await cli('cancel', queued);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain('only a queued push can be cancelled');
      const resent = await cli('resend', queued);
      expect(resent.code).toBe(0);
      expect(lines(resent.stdout)[0]).toMatchObject({ resendOf: queued, status: 'queued' });
    });
  });

  it('skips the cancelled push: the next push of its destination is delivered', async () => {
    const device = await startDevice();
    startRelay(hub.wsUrl, agentId, secret, { lab: device.port, ris: device.port });
    await waitFor(async () => (await http(`${hub.url}/pushes/${second}`, { token: tok })).body.status === 'acked', 20_000);
    expect((await http(`${hub.url}/pushes/${first}`, { token: tok })).body).toMatchObject({ status: 'cancelled', attempts: 0 });
  }, 30_000);

  it('push status --follow prints each change and exits 0 once acked', async () => {
    const id = (await push('lab', 'M10')).body.pushId as string;
    const res = await runToEnd(['push', 'status', id, '--follow'], { EDGEPUSH_API: hub.url, EDGEPUSH_TOKEN: tok });
    expect(res.code).toBe(0);
    const seen = res.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { status: string }).status);
    expect(seen[seen.length - 1]).toBe('acked');
  }, 30_000);
});
