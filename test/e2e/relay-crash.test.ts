/**
 * A relay killed mid-stream (SIGKILL, no goodbye) with pushes in flight and queued behind
 * them. A new relay process connects with the same agent: every push ends acked exactly once,
 * in the order accepted; the device sees each control id, and at most the one that was on the
 * wire at the kill twice (DESIGN.md: the only case where a device may see a duplicate).
 */
import { http, run, startHub, startRelay, stopAll, tempDir, token } from './harness';
import { waitFor } from '../support/wait';

const msg = (controlId: string) => `MSH|^~\\&|EP|CLOUD|LAB|SITE|20240101120000||ORU^R01|${controlId}|P|2.5\rOBX|1|NM|GLU||5.4\r`;

describe('e2e: relay killed mid-stream', () => {
  const dir = tempDir();
  afterAll(async () => {
    await stopAll();
    dir.remove();
  });

  it('loses nothing and repeats at most the push that was on the wire', async () => {
    const hub = await startHub(dir.path);
    const tok = await token(dir.path);
    const created = await http(`${hub.url}/agents`, { token: tok, body: { agentId: 'crashy' } });
    const secret = created.body.secret as string;

    // A slow device (600 ms per ACK), so pushes are in flight when the relay dies.
    const device = run(['hl7', 'listen', '0', '--delay', '600', '--log-level', 'info']);
    const [, port] = await device.waitFor(/on 127\.0\.0\.1:(\d+)/);
    const relay = startRelay(hub.wsUrl, 'crashy', secret, { lab: Number(port) });
    await waitFor(
      async () => {
        const r = await http(`${hub.url}/agents/crashy`, { token: tok });
        return r.body.status === 'connected' && r.body.devices?.length === 1 && r;
      },
      15_000,
      'connected',
    );

    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await http(`${hub.url}/agents/crashy/push`, {
        token: tok,
        body: { destination: 'lab', body: msg(`KILL-${i}`), waitForResponse: false },
      });
      expect(res.status).toBe(202);
      ids.push(res.body.pushId);
    }
    // Kill once the device has the second message: one acked, one on the wire, four queued.
    await waitFor(() => (device.stderr() + device.stdout()).includes('"KILL-1"'), 10_000, 'the device to log KILL-1');
    relay.child.kill('SIGKILL');
    await relay.exited;

    startRelay(hub.wsUrl, 'crashy', secret, { lab: Number(port) });
    const finished = await Promise.all(
      ids.map((id) =>
        waitFor(
          async () => {
            const r = await http(`${hub.url}/pushes/${id}`, { token: tok });
            return r.body.status === 'acked' && r;
          },
          20_000,
          'acked',
        ),
      ),
    );
    finished.forEach((r, i) => expect(r.body.response).toMatch(new RegExp(`MSA\\|AA\\|KILL-${i}\\b`)));
    // The push on the wire at the kill was sent again to the new relay; the first one was done.
    expect(finished[0].body.attempts).toBe(1);
    expect(finished[1].body.attempts).toBe(2);
    const completed = finished.map((r) => Date.parse(r.body.completedAt));
    expect([...completed].sort((a, b) => a - b)).toEqual(completed);

    const log = device.stderr() + device.stdout();
    const seen = (i: number) => log.split(`"controlId":"KILL-${i}"`).length - 1;
    const counts = ids.map((_, i) => seen(i));
    expect(counts.every((c) => c >= 1)).toBe(true);
    expect(counts.filter((c) => c > 1).length).toBeLessThanOrEqual(1);
    expect(Math.max(...counts)).toBeLessThanOrEqual(2);
  }, 40_000);
});
