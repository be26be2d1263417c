/**
 * PushWatcher for the hub: the core's notify() wakes the HTTP requests waiting for a result,
 * in-process, with no polling. waitForTerminal subscribes before it reads the store, so a
 * result that lands between the two is never missed.
 */
import { EventEmitter } from 'node:events';
import type { PushStore, PushWatcher } from '../../lambdas/core/ports';
import { isTerminal, type PushRecord } from '../../lambdas/core/records';

export class EventWatcher implements PushWatcher {
  private readonly events = new EventEmitter();
  /** Ends every wait now (with no result) and answers later ones at once. */
  private readonly closing = new EventEmitter();
  private closed = false;

  constructor(private readonly store: Pick<PushStore, 'get'>) {
    // One listener per waiting request: many concurrent waits are normal, not a leak.
    this.events.setMaxListeners(0);
    this.closing.setMaxListeners(0);
  }

  waitForTerminal(pushId: string, timeoutMs: number): Promise<PushRecord | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      let settled = false;
      const cleanup = (): void => {
        settled = true;
        clearTimeout(timer);
        this.events.off(pushId, finish);
        this.closing.off('close', onClose);
      };
      const finish = (push: PushRecord | undefined): void => {
        if (settled) return;
        cleanup();
        resolve(push);
      };
      const onClose = (): void => finish(undefined);
      const timer = setTimeout(() => finish(undefined), Math.max(0, timeoutMs));
      this.events.on(pushId, finish);
      this.closing.on('close', onClose);
      this.store.get(pushId).then(
        (push) => {
          if (push && isTerminal(push.status)) finish(push);
        },
        (err: unknown) => {
          if (settled) return;
          cleanup();
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }

  /**
   * For shutdown: every waiting request gets its answer now (the push as it stands: 504 and a
   * Location, it continues after a restart) instead of holding the process for its waitTimeout
   * and then reading a closed store.
   */
  close(): void {
    this.closed = true;
    this.closing.emit('close');
  }

  notify(push: PushRecord): void {
    if (isTerminal(push.status)) this.events.emit(push.pushId, push);
  }

  /** Requests currently waiting (for tests and status). */
  waiting(): number {
    return this.events.eventNames().reduce((n, name) => n + this.events.listenerCount(name), 0);
  }
}
