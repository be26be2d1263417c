/**
 * PushWatcher for Lambda: the HTTP Lambda that accepted a push polls the push item
 * (strongly consistent read) until it is terminal or the caller's waitTimeout passes.
 * The result can arrive in any other Lambda (ws-message), so there is no in-process event
 * to wait on; polling one item by key is cheap (1 RRU per read), needs no extra
 * infrastructure, and a dead relay cannot leave the caller hanging past waitTimeout.
 */
import type { PushStore, PushWatcher } from '../../core/ports';
import { isTerminal, type PushRecord } from '../../core/records';

export interface PollingOptions {
  /** First delay between reads; doubles up to maxDelayMs. */
  initialDelayMs: number;
  maxDelayMs: number;
}

const DEFAULTS: PollingOptions = { initialDelayMs: 50, maxDelayMs: 250 };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class PollingWatcher implements PushWatcher {
  private readonly options: PollingOptions;

  constructor(
    private readonly store: PushStore,
    options: Partial<PollingOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  async waitForTerminal(pushId: string, timeoutMs: number): Promise<PushRecord | undefined> {
    const deadline = Date.now() + timeoutMs;
    let delay = this.options.initialDelayMs;
    for (;;) {
      const push = await this.store.get(pushId);
      if (push && isTerminal(push.status)) return push;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await sleep(Math.min(delay, left));
      delay = Math.min(delay * 2, this.options.maxDelayMs);
    }
  }

  /** Nothing to wake: waiters live in other Lambdas and poll. */
  notify(_push: PushRecord): void {}
}
