/** The cloud's retry delays for a device that stays unreachable. */
import { DEFAULT_CONFIG, deviceRetryDelayMs } from '../../../lambdas/core/core-config';

describe('deviceRetryDelayMs', () => {
  it('doubles from offlineRetryMs per attempt, up to maxRetryMs', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8, 9, 50, 10_000].map((a) => deviceRetryDelayMs(DEFAULT_CONFIG, a));
    expect(delays).toStrictEqual([2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 120_000, 120_000, 120_000, 120_000, 120_000]);
    expect(deviceRetryDelayMs(DEFAULT_CONFIG, 0)).toBe(2_000);
  });

  it('costs about 720 attempts a day for a device that stays down (it was 43,200 at a fixed 2 s)', () => {
    let t = 0;
    let attempts = 0;
    while (t < 86_400_000) t += deviceRetryDelayMs(DEFAULT_CONFIG, ++attempts);
    expect(attempts).toBeLessThan(730);
    expect(attempts).toBeGreaterThan(700);
  });
});
