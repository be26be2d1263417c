/** The one backoff of the edge agent (relay reconnects, device connect attempts): equal jitter, its bounds. */
import { EqualJitterBackoff, equalJitterDelay } from '../../../edge-agent/backoff';

/** A seeded generator in [0, 1), so a failure can be replayed. */
function seeded(seed: number): () => number {
  return () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

describe('equalJitterDelay', () => {
  const options = { initialDelayMs: 100, maxDelayMs: 30_000 };

  it('stays within [c/2, c] for every retry, c = min(maxDelay, initialDelay * 2^(retry-1))', () => {
    const random = seeded(7);
    for (let retry = 1; retry <= 60; retry++) {
      const ceiling = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** (retry - 1));
      for (const r of [() => 0, () => 0.5, () => 0.999_999, () => 1, random, random, random]) {
        const delay = equalJitterDelay(retry, options, r);
        expect(delay).toBeGreaterThanOrEqual(Math.round(ceiling / 2));
        expect(delay).toBeLessThanOrEqual(ceiling);
        expect(delay).toBeLessThanOrEqual(options.maxDelayMs);
      }
    }
  });

  it('is equal jitter, not full jitter: never under half the ceiling, and reaching the ceiling', () => {
    expect(equalJitterDelay(1, options, () => 0)).toBe(50);
    expect(equalJitterDelay(1, options, () => 1)).toBe(100);
    expect(equalJitterDelay(4, options, () => 0)).toBe(400);
    expect(equalJitterDelay(4, options, () => 1)).toBe(800);
    expect(equalJitterDelay(100, options, () => 0)).toBe(15_000);
    expect(equalJitterDelay(100, options, () => 1)).toBe(30_000);
  });

  it('spreads retries over the whole upper half', () => {
    const random = seeded(42);
    const delays = Array.from({ length: 2000 }, () => equalJitterDelay(3, options, random));
    expect(Math.min(...delays)).toBeLessThan(210);
    expect(Math.max(...delays)).toBeGreaterThan(390);
  });

  it('treats retry 0 or less as the first retry, and a zero initial delay as no delay, however many retries', () => {
    expect(equalJitterDelay(0, options, () => 1)).toBe(100);
    expect(equalJitterDelay(-3, options, () => 1)).toBe(100);
    for (const retry of [1, 31, 1100]) expect(equalJitterDelay(retry, { initialDelayMs: 0, maxDelayMs: 5000 }, () => 1)).toBe(0);
  });
});

describe('EqualJitterBackoff', () => {
  it('doubles up to the cap, with jitter in [c/2, c], and resets', () => {
    const lo = new EqualJitterBackoff({ initialDelayMs: 100, maxDelayMs: 30_000 }, () => 0);
    const hi = new EqualJitterBackoff({ initialDelayMs: 100, maxDelayMs: 30_000 }, () => 1);
    const los = Array.from({ length: 12 }, () => lo.next());
    const his = Array.from({ length: 12 }, () => hi.next());
    expect(his.slice(0, 4)).toEqual([100, 200, 400, 800]);
    expect(los.slice(0, 4)).toEqual([50, 100, 200, 400]);
    expect(his.at(-1)).toBe(30_000);
    expect(los.at(-1)).toBe(15_000);
    hi.reset();
    expect(hi.next()).toBe(100);
  });

  it('gives the n-th call the delay of retry n', () => {
    const options = { initialDelayMs: 20, maxDelayMs: 1000 };
    const backoff = new EqualJitterBackoff(options, seeded(3));
    const again = seeded(3);
    for (let n = 1; n <= 20; n++) expect(backoff.next()).toBe(equalJitterDelay(n, options, again));
  });
});
