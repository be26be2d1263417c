import type { Clock } from '../../lambdas/core/ports';

/** The core's Clock port on a hand-moved time: a test says when "now" is, in epoch ms. */
export class FakeClock implements Clock {
  constructor(private t = Date.UTC(2024, 0, 1)) {}

  now(): number {
    return this.t;
  }

  /** Moves time forward by `ms` (never back: a port's clock is monotonic enough for the core). */
  advance(ms: number): void {
    if (ms < 0) throw new Error(`FakeClock cannot go back (${ms} ms)`);
    this.t += ms;
  }

  set(epochMs: number): void {
    this.t = epochMs;
  }
}
