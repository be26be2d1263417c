/**
 * Jittered exponential backoff ("full jitter"): attempt n waits a random time in
 * [base/2, base] where base = min(maxDelay, initialDelay * 2^n). The random spread keeps a
 * fleet of relays from reconnecting in lockstep after a cloud outage.
 */
export interface BackoffOptions {
  initialDelayMs: number;
  maxDelayMs: number;
}

export class Backoff {
  private attempt = 0;

  constructor(
    private readonly opts: BackoffOptions,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next attempt; each call grows it until the cap. */
  next(): number {
    const base = Math.min(this.opts.maxDelayMs, this.opts.initialDelayMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.round(base / 2 + (this.random() * base) / 2);
  }

  reset(): void {
    this.attempt = 0;
  }
}
