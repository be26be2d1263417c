/**
 * A result the cloud did not record is sent again on a timer, on the same connection: not
 * only after the next reconnect. The fake cloud answers the first send of a result the way
 * AWS does when the result was not recorded: API Gateway's own error frame (the ws-message
 * Lambda failed, or the stage throttled), or the cloud's INTERNAL error with the pushId.
 */
import { resolveConfig } from '../../edge-agent/relay/config-schema';
import { Relay } from '../../edge-agent/relay/relay';
import { startHl7Listener, type Hl7Listener } from '../../edge-agent/mllp/listener';
import { BASE_MESSAGE_VERSION } from '../../protocol/messages';
import { FakeCloud } from './fake-cloud';
import { adt, memoryLogger } from './helpers';
import { sleep } from '../support/wait';

let cloud: FakeCloud;
let relay: Relay;
let lab: Hl7Listener;
let lines: string[];

beforeEach(async () => {
  cloud = await FakeCloud.start();
  lab = await startHl7Listener({ port: 0 });
  const log = memoryLogger();
  lines = log.lines;
  relay = new Relay(
    {
      ...resolveConfig({
        url: cloud.url,
        agentId: 'agent-1',
        secret: 's3cret',
        devices: { lab: `mllp://127.0.0.1:${lab.port}` },
        reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
        device: { ackTimeoutMs: 2_000, connectTimeoutMs: 500 },
      }),
      resultResend: { initialDelayMs: 100, maxDelayMs: 400 },
    },
    log.logger,
  );
  relay.start();
  await cloud.waitFor(() => cloud.count('hello') === 1, 5_000, 'hello');
});

afterEach(async () => {
  await relay.stop();
  await cloud.close();
  await lab.close();
});

const gatewayFrame = (message: string) => JSON.stringify({ message, connectionId: 'Zq0lpfIyliACGbQ=', requestId: 'Zq1LaGLQliAFsbA=' });

it.each([
  ['API Gateway: Internal server error', () => gatewayFrame('Internal server error')],
  ['API Gateway: Too Many Requests (stage throttle)', () => gatewayFrame('Too Many Requests')],
  [
    'the cloud: INTERNAL error carrying the pushId',
    () => JSON.stringify({ type: 'error', v: BASE_MESSAGE_VERSION, code: 'INTERNAL', error: 'send it again', pushId: 'p1' }),
  ],
])('re-sends a result answered with %s, on the same connection, until acknowledged', async (_name, frame) => {
  cloud.resultReply = (_result, nth) => (nth <= 2 ? frame() : undefined);
  cloud.push({ pushId: 'p1', body: adt('RESEND1') });
  await cloud.waitFor(() => relay.outbox.size === 0 && cloud.results('p1').length >= 3, 5_000, 'result acknowledged');
  expect(cloud.connections).toBe(1);
  expect(cloud.results('p1').every((r) => r.status === 'acked')).toBe(true);
  expect(relay.stats.resultResends).toBeGreaterThanOrEqual(2);
  // Acknowledged: no more re-sends.
  const sent = cloud.results('p1').length;
  await sleep(600);
  expect(cloud.results('p1')).toHaveLength(sent);
  // The device got the message once: the re-sends are of the result, not the push.
  expect(lab.received).toBe(1);
  if (frame().includes('connectionId')) {
    expect(relay.stats.gatewayErrors).toBe(2);
    expect(lines.some((l) => l.includes('API Gateway did not deliver a message to the cloud'))).toBe(true);
    expect(relay.stats.invalidMessages).toBe(0);
  }
});

it('takes a cloud error carrying the pushId (not INTERNAL) as the final word: no re-send', async () => {
  cloud.resultReply = () =>
    JSON.stringify({ type: 'error', v: BASE_MESSAGE_VERSION, code: 'UNKNOWN_PUSH', error: 'no such push', pushId: 'p2' });
  cloud.push({ pushId: 'p2', body: adt('RESEND2') });
  await cloud.waitFor(() => cloud.results('p2').length === 1, 5_000, 'result');
  await cloud.waitFor(() => relay.outbox.size === 0, 2_000, 'outbox empty');
  await sleep(500);
  expect(cloud.results('p2')).toHaveLength(1);
});
