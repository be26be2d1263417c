/**
 * PushWatcher for the hub: the core's notify() wakes the HTTP requests waiting for a result,
 * in-process, with no polling. waitForTerminal subscribes before it reads the store, so a
 * result that lands between the two is never missed.
 */
import { EventEmitter } from 'node:events';
import type { PushStore, PushWatcher } from '../../core/ports';
import { isTerminal, type PushRecord } from '../../core/types';

export class EventWatcher implements PushWatcher {
  private readonly events = new EventEmitter();

  constructor(private readonly store: Pick<PushStore, 'get'>) {
    // One listener per waiting request: many concurrent waits are normal, not a leak.
    this.events.setMaxListeners(0);
  }

  waitForTerminal(pushId: string, timeoutMs: number): Promise<PushRecord | undefined> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (push: PushRecord | undefined): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.events.off(pushId, finish);
        resolve(push);
      };
      const timer = setTimeout(() => finish(undefined), Math.max(0, timeoutMs));
      this.events.on(pushId, finish);
      this.store.get(pushId).then(
        (push) => {
          if (push && isTerminal(push.status)) finish(push);
        },
        (err: unknown) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          this.events.off(pushId, finish);
          reject(err);
        },
      );
    });
  }

  notify(push: PushRecord): void {
    if (isTerminal(push.status)) this.events.emit(push.pushId, push);
  }

  /** Requests currently waiting (for tests and status). */
  waiting(): number {
    return this.events.eventNames().reduce((n, name) => n + this.events.listenerCount(name), 0);
  }
}
