/**
 * Remembers what happened to recent pushes, by pushId, so a push the cloud sends again is
 * answered from memory instead of reaching the device twice. Two parts:
 * - results: a bounded LRU with a TTL (Map keeps insertion order; a hit moves the entry to the end);
 * - in flight: pushes handed to a device and not yet answered, so a repeat is not started again.
 */
export interface ResultCacheOptions {
  maxEntries: number;
  ttlMs: number;
  now?: () => number;
}

export class ResultCache<T> {
  private readonly results = new Map<string, { value: T; at: number }>();
  private readonly inFlight = new Set<string>();
  private readonly now: () => number;

  constructor(private readonly opts: ResultCacheOptions) {
    this.now = opts.now ?? Date.now;
  }

  get(pushId: string): T | undefined {
    const entry = this.results.get(pushId);
    if (!entry) return undefined;
    if (this.now() - entry.at > this.opts.ttlMs) {
      this.results.delete(pushId);
      return undefined;
    }
    this.results.delete(pushId);
    this.results.set(pushId, entry);
    return entry.value;
  }

  isInFlight(pushId: string): boolean {
    return this.inFlight.has(pushId);
  }

  /** Marks a push as started; false if it already is. */
  begin(pushId: string): boolean {
    if (this.inFlight.has(pushId)) return false;
    this.inFlight.add(pushId);
    return true;
  }

  /** Ends an in-flight push; `value` undefined means "forget it" (it may be tried again). */
  finish(pushId: string, value: T | undefined): void {
    this.inFlight.delete(pushId);
    if (value !== undefined) this.set(pushId, value);
  }

  set(pushId: string, value: T): void {
    this.results.delete(pushId);
    this.results.set(pushId, { value, at: this.now() });
    while (this.results.size > this.opts.maxEntries) {
      this.results.delete(this.results.keys().next().value as string);
    }
  }

  get size(): number {
    return this.results.size;
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }
}
