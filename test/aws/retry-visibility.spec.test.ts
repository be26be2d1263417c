/**
 * Spec test, offline: the dispatcher's retry delays against SQS's rules.
 *  - A message goes to the DLQ after maxReceiveCount receives (the construct's
 *    MAX_RECEIVE_COUNT); a push may live up to 7 days (MAX_EXPIRES_IN_S), so over that life the
 *    receives must stay under it, even if every retry is also woken once by a relay's hello.
 *  - ChangeMessageVisibility: 0 to 43,200 s (12 hours)
 *    (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ChangeMessageVisibility.html).
 */
import { MAX_RECEIVE_COUNT } from '../../lib/edgepush-construct';
import { DEFAULT_CONFIG, MAX_EXPIRES_IN_S } from '../../lambdas/core/core-config';
import { MAX_SECONDS, visibilitySeconds } from '../../lambdas/handlers/retry-visibility';

/** Receives of one message retried with `askMs` until `lifeS` has passed. */
function receivesOverLife(askMs: number, lifeS: number): number {
  let t = 0;
  let receives = 0;
  while (t < lifeS * 1000) {
    receives++;
    t += visibilitySeconds(askMs, t) * 1000;
  }
  return receives;
}

it('keeps receives over a push’s longest life under maxReceiveCount, even with a wake per retry', () => {
  for (const ask of [DEFAULT_CONFIG.offlineRetryMs, 1, 1000, DEFAULT_CONFIG.resultTimeoutMs]) {
    const receives = receivesOverLife(ask, MAX_EXPIRES_IN_S);
    // A wake on hello can add at most one receive per park (woken entries are forgotten).
    expect(2 * receives).toBeLessThan(MAX_RECEIVE_COUNT);
  }
});

it('grows the delay with the push’s age, not with how often it was received', () => {
  expect(visibilitySeconds(2000, 0)).toBe(2);
  expect(visibilitySeconds(2000, 10_000)).toBe(2);
  expect(visibilitySeconds(2000, 10 * 60_000)).toBe(60);
  expect(visibilitySeconds(35_000, 60_000)).toBe(35);
  expect(visibilitySeconds(2000, 30 * 24 * 3600_000)).toBe(MAX_SECONDS);
});

it('stays inside SQS’s visibility timeout range (0 to 12 hours)', () => {
  expect(MAX_SECONDS).toBeLessThanOrEqual(43_200);
  for (const age of [0, 1, 1e6, 1e9, 1e12]) {
    const s = visibilitySeconds(2000, age);
    expect(Number.isInteger(s)).toBe(true);
    expect(s).toBeGreaterThanOrEqual(1);
    expect(s).toBeLessThanOrEqual(43_200);
  }
});
