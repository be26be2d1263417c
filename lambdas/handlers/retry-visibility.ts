/**
 * How long a not-yet-done push stays invisible before SQS hands it to the dispatcher again.
 *
 * The core asks for a delay (2 s while the relay is offline, 46 s while it awaits a
 * result). Taken literally, a relay offline for days would burn through the DLQ's
 * maxReceiveCount (at most 1000) in about half an hour and dead-letter pushes that have not
 * expired. So the delay doubles every RECEIVES_PER_STEP receives, capped at MAX_SECONDS:
 * with a 2 s base and maxReceiveCount 1000 that covers more than 7 days (MAX_EXPIRES_IN).
 * The price: after a long outage a reconnecting relay may wait up to MAX_SECONDS for its
 * backlog (SQS cannot be woken without a receipt handle).
 */
export const RECEIVES_PER_STEP = 10;
export const MAX_SECONDS = 900;

export function visibilitySeconds(retryAfterMs: number, receiveCount: number): number {
  const base = Math.max(1, Math.ceil(retryAfterMs / 1000));
  const step = Math.floor(Math.max(0, receiveCount - 1) / RECEIVES_PER_STEP);
  return Math.min(MAX_SECONDS, base * 2 ** Math.min(step, 20));
}
