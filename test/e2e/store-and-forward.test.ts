/**
 * Store and forward with real processes: no relay yet, a device that is down, a push that
 * expires, and a hub killed with SIGKILL and restarted on the same data dir.
 */
import { http, startDevice, startHub, startRelay, stopAll, tempDir, token, type HubProc } from './harness';
import { freePort } from '../support/free-port';
import { waitFor } from '../support/wait';

const msg = (controlId: string) => `MSH|^~\\&|EP|CLOUD|LAB|SITE|20240101120000||ORU^R01|${controlId}|P|2.5\rOBX|1|NM|GLU||5.4\r`;

async function createAgent(hub: HubProc, tok: string, agentId: string): Promise<string> {
  const res = await http(`${hub.url}/agents`, { token: tok, body: { agentId } });
  expect(res.status).toBe(201);
  return res.body.secret as string;
}

describe('e2e: store and forward', () => {
  const dirs: ReturnType<typeof tempDir>[] = [];
  afterAll(async () => {
    await stopAll();
    dirs.forEach((d) => d.remove());
  });
  const newDir = () => {
    const d = tempDir();
    dirs.push(d);
    return d.path;
  };

  it('no relay connected: 504 at waitTimeout with a Location, then delivered once the relay connects; an expiring push expires', async () => {
    const data = newDir();
    const hub = await startHub(data);
    const tok = await token(data);
    const secret = await createAgent(hub, tok, 'offline-site');
    expect((await http(`${hub.url}/agents/offline-site`, { token: tok })).body.status).toBe('disconnected');

    const started = Date.now();
    const res = await http(`${hub.url}/agents/offline-site/push`, {
      token: tok,
      body: { destination: 'lab', body: msg('OFF-1'), waitTimeout: 800 },
    });
    expect(res.status).toBe(504);
    expect(Date.now() - started).toBeGreaterThanOrEqual(750);
    expect(res.body).toMatchObject({ status: 'queued', attempts: 0 });
    const location = res.headers.get('location')!;
    expect(location).toContain(`/pushes/${res.body.pushId}`);

    // Another destination: behind OFF-1 in the same FIFO group it would wait its turn.
    const doomed = await http(`${hub.url}/agents/offline-site/push`, {
      token: tok,
      body: { destination: 'ris', body: msg('OFF-X'), waitForResponse: false, expiresIn: 1 },
    });
    expect(doomed.status).toBe(202);
    const expired = await waitFor(
      async () => {
        const r = await http(`${hub.url}/pushes/${doomed.body.pushId}`, { token: tok });
        return r.body.status === 'expired' && r;
      },
      10_000,
      'expired',
    );
    expect(expired.body.error).toEqual(expect.any(String));
    expect((await http(location, { token: tok })).body.status).toBe('queued');

    const device = await startDevice();
    startRelay(hub.wsUrl, 'offline-site', secret, { lab: device.port });
    const done = await waitFor(
      async () => {
        const r = await http(location, { token: tok });
        return r.body.status === 'acked' && r;
      },
      15_000,
      'acked',
    );
    expect(done.body).toMatchObject({ ackCode: 'AA', attempts: 1 });
    expect(done.body.response).toMatch(/MSA\|AA\|OFF-1/);
    expect((await http(`${hub.url}/agents/offline-site`, { token: tok })).body).toMatchObject({
      status: 'connected',
      devices: [{ name: 'lab' }],
    });
  });

  it('device down: the push stays queued, then is delivered when the device comes back', async () => {
    const data = newDir();
    const hub = await startHub(data);
    const tok = await token(data);
    const secret = await createAgent(hub, tok, 'flaky-site');
    const devicePort = await freePort(); // nothing listens here yet
    startRelay(hub.wsUrl, 'flaky-site', secret, { lab: devicePort });
    await waitFor(
      async () => {
        const r = await http(`${hub.url}/agents/flaky-site`, { token: tok });
        return r.body.status === 'connected' && r.body.devices?.length === 1 && r;
      },
      15_000,
      'connected',
    );

    const res = await http(`${hub.url}/agents/flaky-site/push`, {
      token: tok,
      body: { destination: 'lab', body: msg('DOWN-1'), waitTimeout: 1500 },
    });
    expect(res.status).toBe(504);
    const status = await http(`${hub.url}/pushes/${res.body.pushId}`, { token: tok });
    expect(['queued', 'sent']).toContain(status.body.status);

    await startDevice(devicePort);
    const done = await waitFor(
      async () => {
        const r = await http(`${hub.url}/pushes/${res.body.pushId}`, { token: tok });
        return r.body.status === 'acked' && r;
      },
      20_000,
      'acked',
    );
    expect(done.body.response).toMatch(/MSA\|AA\|DOWN-1/);
    expect(done.body.attempts).toBeGreaterThanOrEqual(2);
  }, 30_000);

  it('hub killed with SIGKILL and restarted: queued pushes survive and are delivered in order', async () => {
    const data = newDir();
    const port = await freePort();
    let hub = await startHub(data, port);
    const tok = await token(data);
    const secret = await createAgent(hub, tok, 'crash-site');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await http(`${hub.url}/agents/crash-site/push`, {
        token: tok,
        body: { destination: 'lab', body: msg(`CRASH-${i}`), waitForResponse: false },
      });
      expect(res.status).toBe(202);
      ids.push(res.body.pushId);
    }
    hub.child.kill('SIGKILL');
    await hub.exited;

    hub = await startHub(data, port);
    for (const id of ids) expect((await http(`${hub.url}/pushes/${id}`, { token: tok })).body.status).toBe('queued');
    expect((await http(`${hub.url}/agents/crash-site`, { token: tok })).body.status).toBe('disconnected');

    const device = await startDevice();
    startRelay(hub.wsUrl, 'crash-site', secret, { lab: device.port });
    const finished = await Promise.all(
      ids.map((id) =>
        waitFor(
          async () => {
            const r = await http(`${hub.url}/pushes/${id}`, { token: tok });
            return r.body.status === 'acked' && r;
          },
          15_000,
          'acked',
        ),
      ),
    );
    finished.forEach((r, i) => expect(r.body.response).toMatch(new RegExp(`MSA\\|AA\\|CRASH-${i}`)));
    const completed = finished.map((r) => Date.parse(r.body.completedAt));
    expect([...completed].sort((a, b) => a - b)).toEqual(completed);
  }, 30_000);
});
