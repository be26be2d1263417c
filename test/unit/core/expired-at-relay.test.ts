/**
 * A push sent ahead (the SQS dispatcher's window) may wait at the relay past its expiresAt; the
 * relay then does not start it and says `expired before delivery`. The push ends `expired`, as
 * it would have in the queue, not `failed`; before its time, the same answer stays a failure.
 */
import { createCore } from '../../../lambdas/core/core';
import { DEFAULT_CONFIG } from '../../../lambdas/core/core-config';
import { BASE_MESSAGE_VERSION, EXPIRED_BEFORE_DELIVERY, type ResultMessage } from '../../../protocol/messages';
import { RESULT_ACTION } from '../../../protocol/relay-routes';
import { FakeClock } from '../../support/fake-clock';
import { memoryPorts } from '../../support/memory-ports';
import { newAgent, newPush } from '../../support/records';

const T = Date.UTC(2024, 0, 1, 12);

async function answer(expiresAt: number, error: string) {
  const ports = memoryPorts(new FakeClock(T));
  const core = createCore(ports, DEFAULT_CONFIG);
  const push = newPush({ status: 'sent', attempts: 1, sentAt: T - 1_000, connectionId: 'c1', createdAt: T - 2_000, expiresAt });
  await ports.pushes.create(push);
  await ports.agents.create(newAgent({ agentId: push.agentId, connectionId: 'c1', connectedAt: T - 60_000 }));
  const result: ResultMessage = {
    action: RESULT_ACTION,
    v: BASE_MESSAGE_VERSION,
    pushId: push.pushId,
    status: 'failed',
    error,
    retryable: false,
  };
  await core.relayMessage(push.agentId, 'c1', JSON.stringify(result));
  return { push: ports.pushes.peek(push.pushId), notified: ports.watcher.notified.length, released: ports.queue.released.length };
}

describe('a push the relay did not start because its time was up', () => {
  it('past expiresAt: expired, and its waiters and queue are told', async () => {
    const out = await answer(T - 1, EXPIRED_BEFORE_DELIVERY);
    expect(out.push).toMatchObject({ status: 'expired', error: 'expired before delivery, waiting at the relay behind earlier pushes' });
    expect([out.notified, out.released]).toStrictEqual([1, 1]);
  });

  it('before expiresAt by the cloud clock (the relay clock runs ahead): failed with the relay reason', async () => {
    expect((await answer(T + 60_000, EXPIRED_BEFORE_DELIVERY)).push).toMatchObject({ status: 'failed', error: EXPIRED_BEFORE_DELIVERY });
  });

  it('any other failure past expiresAt: failed, as before', async () => {
    expect((await answer(T - 1, 'ACK_TIMEOUT: no ACK')).push).toMatchObject({ status: 'failed', error: 'ACK_TIMEOUT: no ACK' });
  });
});
