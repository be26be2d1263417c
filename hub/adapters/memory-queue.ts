/**
 * The hub's in-process PushQueue, with the SQS FIFO path's semantics:
 * - one FIFO group per (agentId, destination); groups run concurrently, a group runs one
 *   delivery at a time, so a destination sees its pushes in the order they were accepted;
 * - deduplicated by pushId;
 * - the head stays at the head until `dispatch` says done (redelivery after retryAfterMs,
 *   like a visibility timeout), or until the push turns terminal (`release`);
 * - `wake(agentId)` cuts the wait short for that agent's groups (a relay reconnected).
 * Pipelining, as the AWS dispatcher does (lambdas/handlers/dispatch-window.ts): while the head's
 * push waits at the relay for its result (`inFlight`), the group's next item is dispatched too,
 * marked to go right after it (`after`), up to `window` items waiting at once. The relay delivers
 * them one at a time, in order (edge-agent/relay/push-lanes.ts), so the device's link is
 * unchanged; what is saved is the result commit -> release -> dispatch turn between two pushes.
 * The window grows only while every outcome is `inFlight`; any other stops it (`stall`) until
 * that item is released or its retry delay is over. A wake (a bounce, a retryable failure, a
 * relay connecting) or the head's result timeout starts the group over from its head, so a
 * bounced push is dispatched again after the ones before it, in order.
 * Beyond SQS:
 * - a group whose agent has no relay (`waitForRelay`) is parked until wake(), not polled: ten
 *   thousand groups waiting for an offline relay cost nothing until it connects;
 * - items carry expiresAt, and one timer (armed at the earliest) hands overdue items to
 *   `onExpire`, so a push behind a stuck head expires on time.
 * Nothing here is durable: the store is. The hub rebuilds the queue from store.listOpen().
 */
import type { PushQueue } from '../../lambdas/core/ports';
import { isTerminal, type PushRecord, type QueueItem } from '../../lambdas/core/records';

/** The core's outcome (lambdas/core/push-dispatcher.ts); `inFlight`: sent, waiting for its result at the relay. */
export type DispatchOutcome = { done: true } | { done: false; retryAfterMs: number; waitForRelay?: boolean; inFlight?: boolean };
/** `after`: the pushId dispatched just before this item in its group, still waiting at the relay. */
export type DispatchFn = (item: QueueItem, options: { after?: string }) => Promise<DispatchOutcome>;

export interface MemoryQueueOptions {
  /** Retry delay when dispatch throws (it should not; the core never throws). */
  errorRetryMs?: number;
  onError?: (err: unknown, item: QueueItem) => void;
  /**
   * An item reached its expiresAt (the hub expires the push; its release then removes the item).
   * `sentAhead`: it is in the window behind the head, sent to the relay and waiting there.
   */
  onExpire?: (item: QueueItem, sentAhead: boolean) => Promise<void>;
  /**
   * How long a group parked for a relay waits without a wake before it looks again anyway (a
   * safety net; wake() is what normally ends the wait). Default 5 minutes.
   */
  relayWaitMs?: number;
  /** How many pushes of one destination may wait at the relay at once; 1 = one at a time. Default 8. */
  window?: number;
}

export const DEFAULT_HUB_DISPATCH_WINDOW = 8;

const DEFAULT_RELAY_WAIT_MS = 5 * 60_000;
/** setTimeout's limit (~24.8 days); expiresIn is at most 7 days, but a clock jump must not overflow it. */
const MAX_TIMER_MS = 2_147_483_647;

class Group {
  readonly items: QueueItem[] = [];
  running = false;
  /** Set by a wake/release that arrives while a dispatch is in flight, so the next wait is skipped. */
  poked = false;
  /** The leading `ahead` items were dispatched and wait at the relay for their results. */
  ahead = 0;
  /** Per item of the window: when its wait for its result is over (its outcome's retryAfterMs). */
  readonly dueAt = new Map<QueueItem, number>();
  /** The item after the window whose outcome was not inFlight, and until when nothing more is sent. */
  stall: { item: QueueItem; until: number } | undefined;
  /** Set by wake(): the next turn starts over from the head. */
  restart = false;
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
  private readonly window: number;
  private expiryTimer: NodeJS.Timeout | undefined;
  private expiryAt = Infinity;
  /** Items handed to onExpire and not yet released, so a slow store is not asked twice. */
  private readonly expiring = new Set<string>();

  constructor(private readonly options: MemoryQueueOptions = {}) {
    this.errorRetryMs = options.errorRetryMs ?? 1000;
    this.relayWaitMs = options.relayWaitMs ?? DEFAULT_RELAY_WAIT_MS;
    this.window = options.window ?? DEFAULT_HUB_DISPATCH_WINDOW;
    if (!Number.isInteger(this.window) || this.window < 1) throw new Error(`window must be a whole number, 1 or more, got ${this.window}`);
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
      // A group waiting with room in its window sends this one now.
      if (group.running && !group.stall && group.ahead < this.window) group.poke();
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
    this.remove(group, index);
    // The window moves (a result came), or the item holding the group back is gone.
    if (index <= group.ahead) group.poke();
  }

  private remove(group: Group, index: number): void {
    const [item] = group.items.splice(index, 1);
    this.queued.delete(item.pushId);
    this.expiring.delete(item.pushId);
    group.dueAt.delete(item);
    if (group.stall?.item === item) group.stall = undefined;
    if (index < group.ahead) group.ahead--;
  }

  wake(agentId: string): Promise<void> {
    for (const group of this.groups.values()) {
      if (group.agentId !== agentId) continue;
      group.restart = true;
      group.poke();
    }
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
    const due: Array<{ item: QueueItem; sentAhead: boolean }> = [];
    for (const group of this.groups.values()) {
      group.items.forEach((item, index) => {
        if (item.expiresAt === undefined || item.expiresAt > now || this.expiring.has(item.pushId)) return;
        due.push({ item, sentAhead: index > 0 && index < group.ahead });
      });
    }
    for (const { item, sentAhead } of due) {
      this.expiring.add(item.pushId);
      // Success releases the item (the core's finish calls release). The head, if `sent`, is
      // not expired there and stays (its result may be on its way); so does one whose expiry
      // failed: its head turn, or the next read, expires it.
      onExpire(item, sentAhead).catch((err: unknown) => this.options.onError?.(err, item));
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
      const now = Date.now();
      // The head's wait for its result is over: the group looks again.
      const headDueAt = group.ahead > 0 ? (group.dueAt.get(group.items[0]) ?? now) : Infinity;
      // Start over from the head: woken (a bounce, a retryable failure, a relay connecting),
      // the head's wait for its result is over, or the item that stopped the window may go again.
      if (group.restart || headDueAt <= now || (group.stall && group.stall.until <= now)) {
        group.restart = false;
        group.ahead = 0;
        group.dueAt.clear();
        group.stall = undefined;
      }
      if (group.stall || group.ahead >= Math.min(this.window, group.items.length)) {
        // Nothing to send now: wait for a result (release), a wake, or the earliest retry.
        const until = Math.min(group.stall?.until ?? Infinity, headDueAt);
        await group.wait(Math.min(MAX_TIMER_MS, until - now));
        continue;
      }
      const position = group.ahead;
      const item = group.items[position];
      const after = position > 0 ? group.items[position - 1].pushId : undefined;
      group.poked = false;
      let outcome: DispatchOutcome;
      try {
        outcome = await dispatch(item, after === undefined ? {} : { after });
      } catch (err) {
        this.options.onError?.(err, item);
        outcome = { done: false, retryAfterMs: this.errorRetryMs };
      }
      const index = group.items.indexOf(item);
      if (index < 0) continue; // released while in flight
      if (outcome.done) {
        this.remove(group, index);
        continue;
      }
      // A wake meanwhile: the window is re-walked from the head anyway.
      if (group.restart) continue;
      const at = Date.now();
      if (outcome.inFlight) {
        group.dueAt.set(item, at + outcome.retryAfterMs);
        group.ahead++;
        continue;
      }
      group.stall = { item, until: at + (outcome.waitForRelay ? Math.max(outcome.retryAfterMs, this.relayWaitMs) : outcome.retryAfterMs) };
    }
  }
}
