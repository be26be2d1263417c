/**
 * Rate-limits a repeated warning from one peer, so a misbehaving device cannot flood the
 * journal: the first occurrence is a warning, the rest are debug lines, and at most one warning
 * per interval after that, carrying how many were demoted since the last one. Used for bytes
 * outside a frame (mllp-connection.ts) and for frames that answer nothing (device-client.ts).
 * The clock is injected for tests.
 */
export interface WarnDecision {
  level: 'warn' | 'debug';
  /** Occurrences logged at debug since the previous warning (0 for the first one). */
  suppressed: number;
}

export const DEFAULT_WARN_INTERVAL_MS = 60_000;

export class WarnLimiter {
  private lastWarnAt: number | undefined;
  private suppressed = 0;

  constructor(
    private readonly intervalMs = DEFAULT_WARN_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Call once per occurrence; log at the level it returns. */
  next(): WarnDecision {
    const now = this.now();
    if (this.lastWarnAt === undefined || now - this.lastWarnAt >= this.intervalMs) {
      const decision: WarnDecision = { level: 'warn', suppressed: this.suppressed };
      this.lastWarnAt = now;
      this.suppressed = 0;
      return decision;
    }
    this.suppressed++;
    return { level: 'debug', suppressed: this.suppressed };
  }
}
