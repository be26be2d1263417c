/**
 * Results the cloud has not yet acknowledged with resultAck. Each is sent as soon as it exists
 * and again after every reconnect, until the cloud acknowledges it, so a WebSocket that drops
 * mid-push loses no result. Keyed by pushId: a result can never be confused with another's.
 * Bounded, so a cloud that never acknowledges cannot grow the relay's memory without limit.
 */
import { EventEmitter } from 'node:events';
import type { ResultMessage } from '../../protocol/messages';

export class Outbox extends EventEmitter {
  private readonly pending = new Map<string, ResultMessage>();
  /** Results dropped because the outbox was full (the cloud retries those pushes on its own). */
  dropped = 0;

  constructor(private readonly maxEntries: number) {
    super();
  }

  /** Keeps `result` until acknowledged; returns the pushId of a result evicted to make room, if any. */
  add(result: ResultMessage): string | undefined {
    this.pending.delete(result.pushId);
    this.pending.set(result.pushId, result);
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
    return [...this.pending.values()];
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
