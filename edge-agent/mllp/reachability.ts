/**
 * Whether a device can be reached, as log lines: one line when it becomes unreachable, one when it
 * is back, and a summary at most every `summaryMs` while it stays down, so a dead device costs a
 * few journal lines a day, not two per retry. The clock is injected for tests.
 */
export type ReachabilityEvent =
  | { kind: 'unreachable'; code: string }
  | { kind: 'still-unreachable'; code: string; failures: number; downMs: number }
  | { kind: 'reachable-again'; failures: number; downMs: number }
  /** Nothing to log at info or above (a repeat failure between summaries, or a normal connect). */
  | { kind: 'quiet'; failures: number };

/** Ten minutes: 144 summary lines a day for a device that stays down. */
export const DEFAULT_SUMMARY_MS = 10 * 60_000;

export class Reachability {
  private down?: { since: number; failures: number; lastLineAt: number };

  constructor(
    private readonly summaryMs = DEFAULT_SUMMARY_MS,
    private readonly now: () => number = Date.now,
  ) {}

  get unreachable(): boolean {
    return this.down !== undefined;
  }

  /** Every connect attempt (with its own retries) failed. */
  failed(code: string): ReachabilityEvent {
    const now = this.now();
    if (!this.down) {
      this.down = { since: now, failures: 1, lastLineAt: now };
      return { kind: 'unreachable', code };
    }
    this.down.failures++;
    if (now - this.down.lastLineAt < this.summaryMs) return { kind: 'quiet', failures: this.down.failures };
    this.down.lastLineAt = now;
    return { kind: 'still-unreachable', code, failures: this.down.failures, downMs: now - this.down.since };
  }

  /** A connection opened. */
  connected(): ReachabilityEvent {
    const down = this.down;
    this.down = undefined;
    if (!down) return { kind: 'quiet', failures: 0 };
    return { kind: 'reachable-again', failures: down.failures, downMs: this.now() - down.since };
  }
}
