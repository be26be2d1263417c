/**
 * Heartbeats must not cost a store write each (issue 9 #4): lastSeenAt is written at most once
 * per `intervalMs` per agent. Per process (a hub, or one warm Lambda container); the liveness
 * window (CoreConfig.liveWindowMs) is far wider than the interval, so the slack is harmless.
 */
export class LastSeenThrottle {
  private readonly written = new Map<string, number>();

  constructor(
    private readonly intervalMs: number,
    /** Bounds the map: past it the oldest entries go (they are only a write saving). */
    private readonly maxAgents = 100_000,
  ) {}

  /** true when lastSeenAt should be written now (and records that it was). */
  due(agentId: string, now: number): boolean {
    const last = this.written.get(agentId);
    if (last !== undefined && now - last < this.intervalMs && now >= last) return false;
    this.written.delete(agentId);
    if (this.written.size >= this.maxAgents) this.written.delete(this.written.keys().next().value!);
    this.written.set(agentId, now);
    return true;
  }

  /** A new connection wrote lastSeenAt itself. */
  wrote(agentId: string, at: number): void {
    this.written.delete(agentId);
    this.written.set(agentId, at);
  }
}
