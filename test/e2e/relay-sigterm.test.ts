/**
 * SIGTERM on a real `edgepush relay` while a device holds a push without answering yet
 * (issue 11). Within the shutdown time the relay waits for the ACK and the push ends acked;
 * past it the push ends failed, not retryable, "delivered, ACK not received": never requeued
 * as a plain failure that would deliver it a second time.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCloud, type Cloud } from '../core/clouds';
import { run, stopAll, tempDir } from './harness';
import { waitFor } from '../support/wait';

jest.setTimeout(60_000);

const MSG = (id: string) => `MSH|^~\\&|EP|HUB|LAB|DEV|20240101000000||ADT^A01|${id}|P|2.5\rPID|1||123\r`;

describe('SIGTERM on the relay with a push at the device', () => {
  let cloud: Cloud;
  const dir = tempDir();
  beforeAll(async () => {
    cloud = await startCloud('hub');
  });
  afterAll(async () => {
    await stopAll();
    await cloud.stop();
    dir.remove();
  });

  async function scenario(agentId: string, ackDelay: string, shutdownTimeoutMs: number) {
    const created = await cloud.api('POST', '/agents', { agentId });
    const device = run(['hl7', 'listen', '0', '--delay', ackDelay, '--log-level', 'warn']);
    const [, port] = await device.waitFor(/on 127\.0\.0\.1:(\d+)/);
    const config = join(dir.path, `${agentId}.json`);
    writeFileSync(config, JSON.stringify({ devices: { lab: `mllp://127.0.0.1:${port}` }, shutdownTimeoutMs }));
    const relay = run(['relay', '--config', config, '--url', cloud.wsUrl, '--agent', agentId, '--log-level', 'info'], {
      EDGEPUSH_AGENT_SECRET: created.body.secret as string,
    });
    await waitFor(async () => (await cloud.api('GET', `/agents/${agentId}`)).body.devices?.length === 1, 15_000);
    const push = await cloud.api('POST', `/agents/${agentId}/push`, { destination: 'lab', body: MSG(agentId), waitForResponse: false });
    // The device printed the message: it has it, and its ACK is delayed.
    await device.waitFor(new RegExp(`ADT\\^A01\\|${agentId}\\|`), 10_000);
    relay.child.kill('SIGTERM');
    const exitCode = await relay.exited;
    const end = await waitFor(async () => {
      const p = await cloud.api('GET', `/pushes/${push.body.pushId}`);
      return ['acked', 'failed'].includes(p.body.status as string) ? p.body : undefined;
    }, 15_000);
    return { end, exitCode, device };
  }

  it('waits for a delayed ACK within the shutdown time: the push ends acked', async () => {
    const { end, exitCode } = await scenario('sigterm-wait', '1500ms', 10_000);
    expect(exitCode).toBe(0);
    expect(end).toMatchObject({ status: 'acked', ackCode: 'AA', attempts: 1 });
  });

  it('past the shutdown time: failed, not retried, "delivered, ACK not received"; the device got it once', async () => {
    const { end, exitCode, device } = await scenario('sigterm-late', '20s', 500);
    expect(exitCode).toBe(0);
    expect(end).toMatchObject({ status: 'failed', attempts: 1 });
    expect(end.error).toMatch(/^delivered, ACK not received/);
    // Failed for good: it stays failed, the device never sees it again.
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await cloud.api('GET', `/pushes/${end.pushId}`)).body.status).toBe('failed');
    expect(device.stdout().match(/ADT\^A01\|sigterm-late\|/g)).toHaveLength(1);
  });
});
