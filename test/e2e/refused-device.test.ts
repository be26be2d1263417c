/**
 * A device that refuses connections (issue 11), with a real `edgepush relay` process: the cloud
 * retries it with a doubling delay (not every offlineRetryMs), the relay logs one line when it
 * goes down and one when it is back (not two per retry), a push behind it still expires on
 * time, and the waiting push is delivered once the device listens. On the hub and on the AWS
 * path (emulators), with short delays so the test is quick.
 */
import { CLOUD_KINDS, startCloud, type Cloud } from '../core/clouds';
import { run, startDevice, stopAll, type Proc } from './harness';
import { freePort } from '../support/free-port';
import { sleep, waitFor } from '../support/wait';

jest.setTimeout(90_000);

const MSG = (id: string) => `MSH|^~\\&|EP|HUB|LAB|DEV|20240101000000||ADT^A01|${id}|P|2.5\rPID|1||123\r`;
const logLines = (p: Proc) =>
  p
    .stderr()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg: string; level: number });

describe.each(CLOUD_KINDS)('a refused device, on the %s', (kind) => {
  let cloud: Cloud;
  // offlineRetryMs 200, doubling to at most 1600: 0.2, 0.4, 0.8, 1.6, 1.6 … s between attempts.
  // On AWS a retry also waits for the SQS message's visibility (resultTimeoutMs after a
  // dispatch): short here, so both clouds try several times within the test.
  beforeAll(async () => {
    cloud = await startCloud(kind, { offlineRetryMs: 200, maxRetryMs: 1_600, resultTimeoutMs: 1_000 });
  });
  afterAll(async () => {
    await stopAll();
    await cloud.stop();
  });

  it('backs off, logs state changes only, expires the push behind it on time, delivers once the device is back', async () => {
    const agentId = `refused-${kind === 'hub' ? 'hub' : 'aws'}`;
    const created = await cloud.api('POST', '/agents', { agentId });
    const port = await freePort();
    const relay = run(
      ['relay', '--url', cloud.wsUrl, '--agent', agentId, '--log-level', 'info', '--device', `lab=mllp://127.0.0.1:${port}`],
      {
        EDGEPUSH_AGENT_SECRET: created.body.secret as string,
      },
    );
    await waitFor(async () => (await cloud.api('GET', `/agents/${agentId}`)).body.devices?.length === 1, 15_000);

    const head = await cloud.api('POST', `/agents/${agentId}/push`, { destination: 'lab', body: MSG('H1'), waitForResponse: false });
    const behind = await cloud.api('POST', `/agents/${agentId}/push`, {
      destination: 'lab',
      body: MSG('B1'),
      waitForResponse: false,
      expiresIn: 5,
    });
    expect([head.status, behind.status]).toStrictEqual([202, 202]);
    const started = Date.now();
    await sleep(7_000);

    // Behind the refused head, the 5 s push has expired, never sent.
    const b = await cloud.api('GET', `/pushes/${behind.body.pushId}`);
    expect(b.body).toMatchObject({ status: 'expired', attempts: 0 });
    // At a fixed 200 ms the head would have been tried ~30 times in 7 s; doubling to 1.6 s: ≤ 9.
    const h = await cloud.api('GET', `/pushes/${head.body.pushId}`);
    expect(h.body.status).toBe('queued');
    expect(h.body.attempts).toBeGreaterThanOrEqual(3);
    expect(h.body.attempts).toBeLessThanOrEqual(Math.ceil((Date.now() - started) / 1000) + 2);
    expect(h.body.waitReason).toMatchObject({ code: 'DEVICE_UNREACHABLE' });

    // One warn line for the whole outage, no 'push done' line per retry at info.
    const lines = logLines(relay);
    expect(lines.filter((l) => l.msg === 'device unreachable' && l.level >= 40)).toHaveLength(1);
    expect(lines.filter((l) => l.msg === 'push done')).toHaveLength(0);

    // The device comes back: the head is delivered at the next attempt (≤ 1.6 s later), one line says so.
    await startDevice(port);
    const done = await waitFor(async () => {
      const p = await cloud.api('GET', `/pushes/${head.body.pushId}`);
      return p.body.status === 'acked' ? p.body : undefined;
    }, 15_000);
    expect(done.ackCode).toBe('AA');
    expect(done.waitReason).toBeUndefined();
    await waitFor(() => logLines(relay).some((l) => l.msg === 'push done'), 5_000);
    expect(logLines(relay).filter((l) => l.msg === 'device reachable again')).toHaveLength(1);
  });
});
