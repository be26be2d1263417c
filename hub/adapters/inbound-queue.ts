/**
 * The hub's in-process InboundQueue, with the SQS FIFO path's semantics:
 * - one FIFO group per (agentId, channel); groups run concurrently (a slow webhook holds only
 *   its own channels), a group runs one delivery at a time;
 * - deduplicated by messageId while queued;
 * - the head stays at the head until the delivery answers `done`; `retry` waits delayMs first.
 * Nothing here is durable: the store is. The hub rebuilds the queue from the store's pending
 * messages at start.
 */
import type { InboundDeliveryOutcome, InboundQueue, InboundQueueItem } from '../../lambdas/core/ports';

export type DeliverFn = (item: InboundQueueItem) => Promise<InboundDeliveryOutcome>;

export interface InboundMemoryQueueOptions {
  /** Retry delay when deliver throws (the core's never does). Default 1 s. */
  errorRetryMs?: number;
  onError?: (err: unknown, item: InboundQueueItem) => void;
}

interface Group {
  key: string;
  items: InboundQueueItem[];
  running: boolean;
  timer?: NodeJS.Timeout;
  wake?: () => void;
}

const groupKey = (item: InboundQueueItem): string => `${item.agentId}\u0000${item.channel}`;

export class InboundMemoryQueue implements InboundQueue {
  private readonly groups = new Map<string, Group>();
  private readonly queued = new Set<string>();
  private readonly running = new Set<Promise<void>>();
  private deliver: DeliverFn | undefined;
  private stopped = false;

  constructor(private readonly options: InboundMemoryQueueOptions = {}) {}

  /** Starts consuming; `initial` (the store's pending messages, oldest first) is queued first. */
  start(deliver: DeliverFn, initial: Iterable<InboundQueueItem> = []): void {
    this.deliver = deliver;
    this.stopped = false;
    for (const item of initial) this.add(item);
    for (const group of this.groups.values()) this.run(group);
  }

  /** Stops consuming and waits for the deliveries in flight; queued items stay in the store. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const group of this.groups.values()) {
      clearTimeout(group.timer);
      group.wake?.();
    }
    await Promise.all([...this.running]);
  }

  enqueue(item: InboundQueueItem): Promise<void> {
    const group = this.add(item);
    if (group) this.run(group);
    return Promise.resolve();
  }

  /** Items waiting or in delivery (for tests and status). */
  size(): number {
    return this.queued.size;
  }

  private add(item: InboundQueueItem): Group | undefined {
    if (this.queued.has(item.messageId)) return undefined;
    const key = groupKey(item);
    let group = this.groups.get(key);
    if (!group) {
      group = { key, items: [], running: false };
      this.groups.set(key, group);
    }
    this.queued.add(item.messageId);
    group.items.push({ messageId: item.messageId, agentId: item.agentId, channel: item.channel });
    return group;
  }

  private run(group: Group): void {
    if (group.running || this.stopped || !this.deliver) return;
    group.running = true;
    const loop = this.loop(group, this.deliver).finally(() => {
      group.running = false;
      this.running.delete(loop);
      if (group.items.length === 0) this.groups.delete(group.key);
      else if (!this.stopped) this.run(group);
    });
    this.running.add(loop);
  }

  private async loop(group: Group, deliver: DeliverFn): Promise<void> {
    while (!this.stopped && group.items.length > 0) {
      const item = group.items[0];
      let outcome: InboundDeliveryOutcome;
      try {
        outcome = await deliver(item);
      } catch (err) {
        this.options.onError?.(err, item);
        outcome = { outcome: 'retry', delayMs: this.options.errorRetryMs ?? 1000 };
      }
      if (outcome.outcome === 'done') {
        group.items.shift();
        this.queued.delete(item.messageId);
        continue;
      }
      if (this.stopped) return;
      await new Promise<void>((resolve) => {
        group.wake = resolve;
        group.timer = setTimeout(resolve, Math.max(0, outcome.delayMs));
      });
      group.wake = undefined;
      group.timer = undefined;
    }
  }
}
