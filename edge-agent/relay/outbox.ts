/**
 * Results the cloud has not yet acknowledged with resultAck. Each is sent as soon as it exists,
 * again after every reconnect, and again on a backoff timer while the connection stays up (the
 * cloud may not have recorded it: a throttled or failed ws-message Lambda), until the cloud
 * acknowledges it, so no result is lost. Keyed by pushId: a result can never be confused with another's.
 * Bounded, so a cloud that never acknowledges cannot grow the relay's memory without limit.
 */
import { EventEmitter } from 'node:events';
import type { ResultMessage } from '../../protocol/messages';

interface Entry {
  result: ResultMessage;
  /** Sends since it was added or since the last reconnect. */
  sends: number;
  /** Epoch ms when it should be sent again if still unacknowledged; undefined until sent. */
  dueAt?: number;
}

export class Outbox extends EventEmitter {
  private readonly pending = new Map<string, Entry>();
  /** Results dropped because the outbox was full (the cloud retries those pushes on its own). */
  dropped = 0;

  constructor(private readonly maxEntries: number) {
    super();
  }

  /** Keeps `result` until acknowledged; returns the pushId of a result evicted to make room, if any. */
  add(result: ResultMessage): string | undefined {
    this.pending.delete(result.pushId);
    this.pending.set(result.pushId, { result, sends: 0 });
    if (this.pending.size <= this.maxEntries) return undefined;
    const oldest = this.pending.keys().next().value as string;
    this.pending.delete(oldest);
    this.dropped++;
    return oldest;
  }

  /** The cloud recorded it. False when it was not pending (a repeat ack, or never ours). */
  ack(pushId: string): boolean {
    const had = this.pending.delete(pushId);
    if (had && this.pending.size === 0) this.emit('empty');
    return had;
  }

  has(pushId: string): boolean {
    return this.pending.has(pushId);
  }

  /** Oldest first, the order they were produced in. */
  all(): ResultMessage[] {
    return [...this.pending.values()].map((e) => e.result);
  }

  /** It went out (for the `sends`-th time, returned); re-send after `delayMs` if still unacknowledged. */
  markSent(pushId: string, now: number, delayOf: (sends: number) => number): number {
    const entry = this.pending.get(pushId);
    if (!entry) return 0;
    entry.sends++;
    entry.dueAt = now + delayOf(entry.sends);
    return entry.sends;
  }

  /** A new connection: every result starts its backoff again. */
  resetSends(): void {
    for (const entry of this.pending.values()) {
      entry.sends = 0;
      entry.dueAt = undefined;
    }
  }

  /** The unacknowledged results whose re-send time has come, oldest first. */
  due(now: number): ResultMessage[] {
    return [...this.pending.values()].filter((e) => e.dueAt !== undefined && e.dueAt <= now).map((e) => e.result);
  }

  /** The earliest re-send time, if any result is waiting for one. */
  nextDueAt(): number | undefined {
    let next: number | undefined;
    for (const { dueAt } of this.pending.values()) if (dueAt !== undefined && (next === undefined || dueAt < next)) next = dueAt;
    return next;
  }

  get size(): number {
    return this.pending.size;
  }

  /** Resolves true once empty, or false after `timeoutMs`. */
  waitEmpty(timeoutMs: number): Promise<boolean> {
    if (this.pending.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.off('empty', onEmpty);
        resolve(false);
      }, timeoutMs);
      const onEmpty = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.once('empty', onEmpty);
    });
  }
}
