/**
 * How long a webhook delivery the core wants retried stays invisible: the core's backoff delay,
 * within what ChangeMessageVisibility accepts: 0 to 43,200 s (12 hours), counted from the receive
 * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ChangeMessageVisibility.html).
 * The handler's own run time (WEBHOOK_TIMEOUT_SECONDS at most) has already passed since then.
 */
export const MAX_VISIBILITY_SECONDS = 43_200;
/** The webhook Lambda's timeout (the construct reads it): a few webhook attempts of 10-20 s. */
export const WEBHOOK_TIMEOUT_SECONDS = 60;

export function delaySeconds(delayMs: number): number {
  const asked = Math.ceil(Math.max(0, delayMs) / 1000);
  return Math.min(MAX_VISIBILITY_SECONDS - WEBHOOK_TIMEOUT_SECONDS, Math.max(1, asked));
}
