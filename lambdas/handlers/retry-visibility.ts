/**
 * How long a not-yet-done push stays invisible before SQS hands it to the dispatcher again.
 *
 * The core asks for a delay (2 s while the relay is offline, 46 s while it awaits a result).
 * Taken literally, a relay offline for days would burn through the DLQ's maxReceiveCount in
 * hours and dead-letter pushes that have not expired. So the delay grows with the push's AGE
 * (time since it was enqueued): at least a tenth of its age, capped at MAX_SECONDS. Unlike a
 * receive count, age is not inflated by extra receives (a wake on hello, a redelivery), and a
 * young push retries quickly whatever happened to it. Receives over the longest life (7 days)
 * stay well under maxReceiveCount even if every one of them is also woken once (spec test).
 * A reconnecting relay does not wait out the long delays: its hello makes its parked messages
 * visible at once (SqsPushQueue.wake).
 */
export const AGE_DIVISOR = 10;
export const MAX_SECONDS = 1800;

export function visibilitySeconds(retryAfterMs: number, ageMs: number): number {
  const asked = Math.max(1, Math.ceil(retryAfterMs / 1000));
  const byAge = Math.floor(Math.max(0, ageMs) / 1000 / AGE_DIVISOR);
  return Math.min(MAX_SECONDS, Math.max(asked, byAge));
}
