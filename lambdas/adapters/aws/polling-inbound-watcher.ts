/**
 * InboundWatcher for Lambda: a long poll (GET /agents/{id}/messages?wait=) waits by reading the
 * agent's inbound counter item until it moves. Messages are stored by other Lambdas (ws-message),
 * so there is no in-process event to wait on.
 *
 * Cost: one eventually consistent GetItem of a ~60-byte item per poll, 0.5 read request units
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html),
 * every 250 ms rising to 1 s: an idle 20-second wait is about 25 reads, ~12 RRU. The Lambda's
 * duration while it waits costs more than the reads. A stale read only wakes the caller late by
 * one poll; the list after the wake reads consistently.
 *
 * The baseline is the counter the store saw on this agent's last list in this container (the
 * list the caller just made), so a message stored between that list and the wait still wakes it.
 */
import type { InboundWatcher } from '../../core/ports';

/** What the watcher needs of the store: DynamoInboundStore. */
export interface CounterSource {
  lastSeen(agentId: string): number | undefined;
  highWater(agentId: string): Promise<number>;
}

export interface InboundPollingOptions {
  initialDelayMs: number;
  maxDelayMs: number;
}

const DEFAULTS: InboundPollingOptions = { initialDelayMs: 250, maxDelayMs: 1000 };

export class PollingInboundWatcher implements InboundWatcher {
  private readonly options: InboundPollingOptions;
  /** Waiters in this container, woken at once by notify (a message stored by this same Lambda). */
  private readonly local = new Map<string, Set<() => void>>();

  constructor(
    private readonly counters: CounterSource,
    options: Partial<InboundPollingOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  async waitForMessage(agentId: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const baseline = this.counters.lastSeen(agentId) ?? (await this.counters.highWater(agentId));
    let woken = false;
    let wake: () => void = () => undefined;
    const notified = new Promise<void>((resolve) => {
      wake = () => {
        woken = true;
        resolve();
      };
    });
    const waiters = this.local.get(agentId) ?? new Set();
    this.local.set(agentId, waiters.add(wake));
    try {
      let delay = this.options.initialDelayMs;
      for (;;) {
        const left = deadline - Date.now();
        if (left <= 0 || woken) return;
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([notified, new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.min(delay, left))))]);
        clearTimeout(timer);
        if (woken) return;
        if ((await this.counters.highWater(agentId)) > baseline) return;
        delay = Math.min(delay * 2, this.options.maxDelayMs);
      }
    } finally {
      waiters.delete(wake);
      if (waiters.size === 0) this.local.delete(agentId);
    }
  }

  notify(agentId: string): void {
    for (const wake of this.local.get(agentId) ?? []) wake();
  }
}
