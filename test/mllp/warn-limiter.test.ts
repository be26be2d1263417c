import { WarnLimiter } from '../../edge-agent/mllp/warn-limiter';

describe('WarnLimiter', () => {
  it('warns first, demotes repeats to debug, and warns again once per interval with the count demoted', () => {
    let now = 0;
    const limiter = new WarnLimiter(60_000, () => now);
    expect(limiter.next()).toEqual({ level: 'warn', suppressed: 0 });
    for (let i = 1; i <= 500; i++) expect(limiter.next()).toEqual({ level: 'debug', suppressed: i });
    now = 59_999;
    expect(limiter.next().level).toBe('debug');
    now = 60_000;
    expect(limiter.next()).toEqual({ level: 'warn', suppressed: 501 });
    expect(limiter.next()).toEqual({ level: 'debug', suppressed: 1 });
  });
});
