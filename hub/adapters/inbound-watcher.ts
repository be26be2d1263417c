/**
 * InboundWatcher for the hub: the core's notify() wakes the long polls of that agent at once,
 * in-process. A waiter is registered before waitForMessage returns, as the port requires.
 */
import { EventEmitter } from 'node:events';
import type { InboundWatcher } from '../../lambdas/core/ports';

/** A symbol, so no agent id can be mistaken for it. */
const CLOSE = Symbol('close');

export class InboundEventWatcher implements InboundWatcher {
  private readonly events = new EventEmitter();
  private closed = false;

  constructor() {
    // One listener per waiting request: many concurrent long polls are normal, not a leak.
    this.events.setMaxListeners(0);
  }

  waitForMessage(agentId: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.closed || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.events.off(agentId, done);
        this.events.off(CLOSE, done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, timeoutMs));
      this.events.on(agentId, done);
      this.events.on(CLOSE, done);
      signal?.addEventListener('abort', done);
    });
  }

  notify(agentId: string): void {
    this.events.emit(agentId);
  }

  /** For shutdown: every long poll answers now (with what it has: nothing new). */
  close(): void {
    this.closed = true;
    this.events.emit(CLOSE);
  }

  /** Long polls currently waiting (for tests). */
  waiting(): number {
    return this.events.eventNames().reduce((n, name) => n + (name === CLOSE ? 0 : this.events.listenerCount(name)), 0);
  }
}
