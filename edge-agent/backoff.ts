/**
 * Exponential backoff with equal jitter, for the relay's reconnects to the cloud and the device
 * client's connect attempts. Retry n waits a random time in [c/2, c], c = min(maxDelay,
 * initialDelay * 2^(n-1)): half of it fixed, so a retry never comes at once, and half random,
 * so a fleet of relays coming back after an outage does not reconnect in lockstep. (Full jitter
 * would draw from [0, c].)
 */
export interface BackoffOptions {
  initialDelayMs: number;
  maxDelayMs: number;
}

/** Delay in ms before retry number `retry` (1 = the first retry). */
export function equalJitterDelay(retry: number, options: BackoffOptions, random: () => number = Math.random): number {
  // The exponent is capped so a long outage cannot reach 2^n = Infinity (and 0 * Infinity = NaN).
  const ceiling = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** Math.min(Math.max(0, retry - 1), 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** The same as a counter, for a loop that retries until it gets through and then resets. */
export class EqualJitterBackoff {
  private retries = 0;

  constructor(
    private readonly options: BackoffOptions,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next retry; each call grows it until the cap. */
  next(): number {
    this.retries++;
    return equalJitterDelay(this.retries, this.options, this.random);
  }

  reset(): void {
    this.retries = 0;
  }
}
