/**
 * What stands between an unauthenticated upgrade flood and the secret check (issue 9 #3):
 * - at most `maxConcurrent` authorisations run at once; past that the upgrade gets 503 at once;
 * - failures are counted per source address and per claimed agent id in fixed windows; past
 *   a limit the upgrade gets 429 before any secret is checked. A (source, agent) pair that
 *   authenticated recently is exempt from those two and has its own small budget instead, so
 *   a flood from the relay's own address, or naming the relay's agent id, does not lock the
 *   real relay out, and wrong secrets from that pair still stop after a few;
 * - refusals are logged as one line per interval with counts, not one line each.
 */
import type { Logger } from 'pino';

export interface UpgradeGuardOptions {
  /** Authorisations (secret checks) running at once. Default 1: a scrypt check costs 16 MB and a thread. */
  maxConcurrent?: number;
  /** Failed attempts per source address per window before 429. Default 20. */
  maxFailuresPerSource?: number;
  /** Failed attempts per claimed agent id per window before 429. Default 60. */
  maxFailuresPerAgent?: number;
  /** Failed attempts per window from a (source, agent) pair that authenticated recently. Default 5. */
  maxFailuresPerTrustedPair?: number;
  /** Default 60 s. */
  windowMs?: number;
  /** One summary line per interval while anything was refused. Default 60 s. */
  logIntervalMs?: number;
  logger?: Logger;
}

export type Admission = { ok: true; release(outcome: 'ok' | 'failed'): void } | { ok: false; status: 429 | 503; retryAfterS: number };

interface Window {
  start: number;
  count: number;
}

/** Counters are only an optimisation: beyond this many keys a map starts over. */
const MAX_KEYS = 50_000;

export class UpgradeGuard {
  private running = 0;
  private readonly bySource = new Map<string, Window>();
  private readonly byAgent = new Map<string, Window>();
  private readonly byPair = new Map<string, Window>();
  /** `${source} ${agentId}` -> last success (ms). */
  private readonly trusted = new Map<string, number>();
  private counts = { failed: 0, rateLimited: 0, busy: 0 };
  private readonly sources = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private readonly maxConcurrent: number;
  private readonly maxPerSource: number;
  private readonly maxPerAgent: number;
  private readonly maxPerPair: number;
  private readonly windowMs: number;

  constructor(private readonly options: UpgradeGuardOptions = {}) {
    this.maxConcurrent = options.maxConcurrent ?? 1;
    this.maxPerPair = options.maxFailuresPerTrustedPair ?? 5;
    this.maxPerSource = options.maxFailuresPerSource ?? 20;
    this.maxPerAgent = options.maxFailuresPerAgent ?? 60;
    this.windowMs = options.windowMs ?? 60_000;
    this.timer = setInterval(() => this.flush(), options.logIntervalMs ?? 60_000);
    this.timer.unref();
  }

  admit(source: string, agentId: string | undefined, now = Date.now()): Admission {
    const pair = `${source} ${agentId ?? ''}`;
    const trusted = agentId !== undefined && now - (this.trusted.get(pair) ?? -Infinity) < this.windowMs * 10;
    if (trusted) {
      if (this.current(this.byPair, pair, now) >= this.maxPerPair)
        return this.refuse('rateLimited', source, 429, Math.ceil(this.windowMs / 1000));
    } else {
      const overSource = this.current(this.bySource, source, now) >= this.maxPerSource;
      const overAgent = agentId !== undefined && this.current(this.byAgent, agentId, now) >= this.maxPerAgent;
      if (overSource || overAgent) return this.refuse('rateLimited', source, 429, Math.ceil(this.windowMs / 1000));
    }
    if (this.running >= this.maxConcurrent) return this.refuse('busy', source, 503, 5);
    this.running++;
    let released = false;
    return {
      ok: true,
      release: (outcome) => {
        if (released) return;
        released = true;
        this.running--;
        if (outcome === 'ok') {
          if (agentId !== undefined) {
            if (this.trusted.size >= MAX_KEYS) this.trusted.clear();
            this.trusted.set(pair, Date.now());
          }
          return;
        }
        this.counts.failed++;
        this.note(source);
        if (trusted) {
          this.bump(this.byPair, pair, Date.now());
          return;
        }
        this.bump(this.bySource, source, Date.now());
        if (agentId !== undefined) this.bump(this.byAgent, agentId, Date.now());
      },
    };
  }

  /** Writes the summary now (also on every interval). */
  flush(): void {
    const { failed, rateLimited, busy } = this.counts;
    if (failed + rateLimited + busy === 0) return;
    const topSources = [...this.sources.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5);
    this.options.logger?.warn(
      { failed, rateLimited, busy, sources: this.sources.size, topSources: Object.fromEntries(topSources) },
      'relay upgrades refused since the last report (bad credentials, rate-limited, or too many at once)',
    );
    this.counts = { failed: 0, rateLimited: 0, busy: 0 };
    this.sources.clear();
  }

  close(): void {
    clearInterval(this.timer);
    this.flush();
  }

  private refuse(kind: 'rateLimited' | 'busy', source: string, status: 429 | 503, retryAfterS: number): Admission {
    this.counts[kind]++;
    this.note(source);
    return { ok: false, status, retryAfterS };
  }

  private note(source: string): void {
    if (this.sources.size < 1000 || this.sources.has(source)) this.sources.set(source, (this.sources.get(source) ?? 0) + 1);
  }

  private current(map: Map<string, Window>, key: string, now: number): number {
    const w = map.get(key);
    return w && now - w.start < this.windowMs ? w.count : 0;
  }

  private bump(map: Map<string, Window>, key: string, now: number): void {
    const w = map.get(key);
    if (w && now - w.start < this.windowMs) {
      w.count++;
      return;
    }
    if (map.size >= MAX_KEYS) map.clear();
    map.set(key, { start: now, count: 1 });
  }
}
