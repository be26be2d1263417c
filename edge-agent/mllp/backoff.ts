/** Exponential backoff with equal jitter: half the delay is fixed, half random, so many clients spread out. */
export interface BackoffOptions {
  initialDelayMs: number;
  maxDelayMs: number;
}

/** Delay before retry number `attempt` (1 = the first retry). */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
