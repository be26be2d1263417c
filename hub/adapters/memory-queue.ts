/**
 * The hub's in-process PushQueue, with the SQS FIFO path's semantics:
 * - one FIFO group per (agentId, destination); groups run concurrently, a group runs one
 *   delivery at a time, so a destination sees its pushes in the order they were accepted;
 * - deduplicated by pushId;
 * - the head stays at the head until `dispatch` says done (redelivery after retryAfterMs,
 *   like a visibility timeout), or until the push turns terminal (`release`);
 * - `wake(agentId)` cuts the wait short for that agent's groups (a relay reconnected).
 * Beyond SQS:
 * - a group whose agent has no relay (`waitForRelay`) is parked until wake(), not polled: ten
 *   thousand groups waiting for an offline relay cost nothing until it connects;
 * - items carry expiresAt, and one timer (armed at the earliest) hands overdue items to
 *   `onExpire`, so a push behind a stuck head expires on time.
 * Nothing here is durable: the store is. The hub rebuilds the queue from store.listOpen().
 */
import type { PushQueue } from '../../lambdas/core/ports';
import { isTerminal, type PushRecord, type QueueItem } from '../../lambdas/core/records';

export type DispatchOutcome = { done: true } | { done: false; retryAfterMs: number; waitForRelay?: boolean };
export type DispatchFn = (item: QueueItem) => Promise<DispatchOutcome>;

export interface MemoryQueueOptions {
  /** Retry delay when dispatch throws (it should not; the core never throws). */
  errorRetryMs?: number;
  onError?: (err: unknown, item: QueueItem) => void;
  /** An item reached its expiresAt (the hub expires the push; its release then removes the item). */
  onExpire?: (item: QueueItem) => Promise<void>;
  /**
   * How long a group parked for a relay waits without a wake before it looks again anyway (a
   * safety net; wake() is what normally ends the wait). Default 5 minutes.
   */
  relayWaitMs?: number;
}

const DEFAULT_RELAY_WAIT_MS = 5 * 60_000;
/** setTimeout's limit (~24.8 days); expiresIn is at most 7 days, but a clock jump must not overflow it. */
const MAX_TIMER_MS = 2_147_483_647;

class Group {
  readonly items: QueueItem[] = [];
  running = false;
  /** Set by a wake/release that arrives while a dispatch is in flight, so the next wait is skipped. */
  poked = false;
  private timer: NodeJS.Timeout | undefined;
  private resolveWait: (() => void) | undefined;

  constructor(
    readonly key: string,
    readonly agentId: string,
  ) {}

  /** Waits `ms`, or less if poked. */
  wait(ms: number): Promise<void> {
    if (this.poked) {
      this.poked = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.resolveWait = resolve;
      this.timer = setTimeout(() => this.poke(), Math.max(0, ms));
    });
  }

  poke(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const resolve = this.resolveWait;
    this.resolveWait = undefined;
    if (resolve) resolve();
    else this.poked = true;
  }
}

const groupKey = (agentId: string, destination: string): string => `${agentId}\u0000${destination}`;

export class MemoryQueue implements PushQueue {
  private readonly groups = new Map<string, Group>();
  /** pushId -> its group, for dedupe and for release (which may only know the pushId). */
  private readonly queued = new Map<string, Group>();
  private dispatch: DispatchFn | undefined;
  private stopped = false;
  private readonly running = new Set<Promise<void>>();
  private readonly errorRetryMs: number;
  private readonly relayWaitMs: number;
  private expiryTimer: NodeJS.Timeout | undefined;
  private expiryAt = Infinity;
  /** Items handed to onExpire and not yet released, so a slow store is not asked twice. */
  private readonly expiring = new Set<string>();

  constructor(private readonly options: MemoryQueueOptions = {}) {
    this.errorRetryMs = options.errorRetryMs ?? 1000;
    this.relayWaitMs = options.relayWaitMs ?? DEFAULT_RELAY_WAIT_MS;
  }

  /** Starts consuming. `initial` (from store.listOpen(), in acceptance order) is queued first. */
  start(dispatch: DispatchFn, initial: Iterable<QueueItem> = []): void {
    this.dispatch = dispatch;
    this.stopped = false;
    for (const item of initial) this.add(item);
    for (const group of this.groups.values()) this.run(group);
    this.armExpiry();
  }

  /** Stops consuming and waits for the deliveries in flight. Queued items stay (the store has them). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    this.expiryAt = Infinity;
    for (const group of this.groups.values()) group.poke();
    await Promise.all([...this.running]);
  }

  enqueue(item: QueueItem): Promise<void> {
    const group = this.add(item);
    if (group) {
      this.run(group);
      if (item.expiresAt !== undefined && item.expiresAt < this.expiryAt) this.armExpiry();
    }
    return Promise.resolve();
  }

  release(push: PushRecord): Promise<void> {
    this.releaseNow(push);
    return Promise.resolve();
  }

  private releaseNow(push: PushRecord): void {
    if (!isTerminal(push.status)) return;
    const group = this.queued.get(push.pushId);
    if (!group) return;
    const index = group.items.findIndex((i) => i.pushId === push.pushId);
    if (index < 0) return;
    group.items.splice(index, 1);
    this.queued.delete(push.pushId);
    this.expiring.delete(push.pushId);
    if (index === 0) group.poke();
  }

  wake(agentId: string): Promise<void> {
    for (const group of this.groups.values()) if (group.agentId === agentId) group.poke();
    return Promise.resolve();
  }

  /** Items waiting or in delivery, for tests and status. */
  size(): number {
    return this.queued.size;
  }

  private add(item: QueueItem): Group | undefined {
    if (this.queued.has(item.pushId)) return undefined;
    const key = groupKey(item.agentId, item.destination);
    let group = this.groups.get(key);
    if (!group) {
      group = new Group(key, item.agentId);
      this.groups.set(key, group);
    }
    this.queued.set(item.pushId, group);
    const pointer: QueueItem = { pushId: item.pushId, agentId: item.agentId, destination: item.destination };
    if (item.expiresAt !== undefined) pointer.expiresAt = item.expiresAt;
    group.items.push(pointer);
    return group;
  }

  /** One timer for every item's expiry, armed at the earliest; a scan only when it fires. */
  private armExpiry(): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    this.expiryAt = Infinity;
    if (this.stopped || !this.options.onExpire) return;
    for (const group of this.groups.values()) {
      for (const item of group.items) {
        if (item.expiresAt !== undefined && item.expiresAt < this.expiryAt && !this.expiring.has(item.pushId))
          this.expiryAt = item.expiresAt;
      }
    }
    if (this.expiryAt === Infinity) return;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, this.expiryAt - Date.now()));
    this.expiryTimer = setTimeout(() => this.expireDue(), delay);
    this.expiryTimer.unref();
  }

  private expireDue(): void {
    this.expiryTimer = undefined;
    const onExpire = this.options.onExpire;
    if (this.stopped || !onExpire) return;
    const now = Date.now();
    for (const group of this.groups.values()) {
      for (const item of group.items) {
        if (item.expiresAt === undefined || item.expiresAt > now || this.expiring.has(item.pushId)) continue;
        this.expiring.add(item.pushId);
        // Success releases the item (the core's finish calls release). A push that is `sent`
        // is not expired there and stays; so does one whose expiry failed: its head turn, or
        // the next read, expires it.
        onExpire(item).catch((err: unknown) => this.options.onError?.(err, item));
      }
    }
    this.armExpiry();
  }

  private run(group: Group): void {
    if (group.running || this.stopped || !this.dispatch) return;
    group.running = true;
    const loop = this.loop(group, this.dispatch).finally(() => {
      group.running = false;
      this.running.delete(loop);
      if (group.items.length === 0) this.groups.delete(group.key);
      else if (!this.stopped) this.run(group); // an item arrived as the loop ended
    });
    this.running.add(loop);
  }

  private async loop(group: Group, dispatch: DispatchFn): Promise<void> {
    while (!this.stopped && group.items.length > 0) {
      const item = group.items[0];
      group.poked = false;
      let outcome: DispatchOutcome;
      try {
        outcome = await dispatch(item);
      } catch (err) {
        this.options.onError?.(err, item);
        outcome = { done: false, retryAfterMs: this.errorRetryMs };
      }
      if (group.items[0] !== item) continue; // released while in flight
      if (outcome.done) {
        group.items.shift();
        this.queued.delete(item.pushId);
        this.expiring.delete(item.pushId);
        continue;
      }
      await group.wait(outcome.waitForRelay ? Math.max(outcome.retryAfterMs, this.relayWaitMs) : outcome.retryAfterMs);
    }
  }
}
