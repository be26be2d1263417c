/** The hub's in-process inbound queue: retry after delayMs, order held meanwhile, stop() ends waits. */
import { InboundMemoryQueue } from '../../../hub/adapters/inbound-queue';
import type { InboundDeliveryOutcome, InboundQueueItem } from '../../../lambdas/core/ports';

const item = (messageId: string, channel = 'c'): InboundQueueItem => ({ messageId, agentId: 'a', channel });

it('keeps a retried head at the head, hands it over again after delayMs, then moves on', async () => {
  jest.useFakeTimers();
  try {
    const calls: string[] = [];
    const answers: InboundDeliveryOutcome[] = [{ outcome: 'retry', delayMs: 5_000 }];
    const queue = new InboundMemoryQueue();
    queue.start((i) => {
      calls.push(i.messageId);
      return Promise.resolve(i.messageId === 'm1' ? (answers.shift() ?? { outcome: 'done' }) : { outcome: 'done' });
    });
    await queue.enqueue(item('m1'));
    await queue.enqueue(item('m2'));
    await jest.advanceTimersByTimeAsync(4_999);
    expect(calls).toStrictEqual(['m1']);
    await jest.advanceTimersByTimeAsync(1);
    expect(calls).toStrictEqual(['m1', 'm1', 'm2']);
    expect(queue.size()).toBe(0);
    await queue.stop();
  } finally {
    jest.useRealTimers();
  }
});

it('treats a throwing delivery as a retry, reports it, and stop() ends a wait at once', async () => {
  const errors: unknown[] = [];
  const queue = new InboundMemoryQueue({ errorRetryMs: 3_600_000, onError: (err) => errors.push(err) });
  queue.start(() => Promise.reject(new Error('boom')), [item('m1')]);
  await new Promise((resolve) => setImmediate(resolve));
  expect(errors).toHaveLength(1);
  expect(queue.size()).toBe(1);
  await queue.stop(); // would hang for an hour if the wait were not cut short
});
