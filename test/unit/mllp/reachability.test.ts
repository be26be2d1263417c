/** Reachability: the log lines for a device that goes down, stays down and comes back. */
import { Reachability } from '../../../edge-agent/mllp/reachability';

describe('Reachability', () => {
  it('says unreachable once, then is quiet until the summary interval, then back once', () => {
    let now = 0;
    const r = new Reachability(600_000, () => now);
    expect(r.connected()).toStrictEqual({ kind: 'quiet', failures: 0 });
    expect(r.failed('CONNECT_REFUSED')).toStrictEqual({ kind: 'unreachable', code: 'CONNECT_REFUSED' });
    expect(r.unreachable).toBe(true);
    const kinds: string[] = [];
    for (let i = 0; i < 100; i++) {
      now += 10_000; // a retry every 10 s for 1000 s
      kinds.push(r.failed('CONNECT_REFUSED').kind);
    }
    // One summary per 600 s while down; every other failure is quiet.
    expect(kinds.filter((k) => k === 'still-unreachable')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'quiet')).toHaveLength(99);
    now += 5_000;
    expect(r.connected()).toStrictEqual({ kind: 'reachable-again', failures: 101, downMs: 1_005_000 });
    expect(r.unreachable).toBe(false);
    expect(r.failed('CONNECT_TIMEOUT').kind).toBe('unreachable');
  });

  it('reports the failures and time down in its summary', () => {
    let now = 1_000;
    const r = new Reachability(100, () => now);
    r.failed('CONNECT_REFUSED');
    now += 100;
    expect(r.failed('CONNECT_REFUSED')).toStrictEqual({ kind: 'still-unreachable', code: 'CONNECT_REFUSED', failures: 2, downMs: 100 });
  });
});
