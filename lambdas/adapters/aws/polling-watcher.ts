/**
 * PushWatcher for Lambda: the HTTP Lambda that accepted a push polls the push's status
 * (strongly consistent read) until it is terminal or the caller's waitTimeout passes, then
 * reads the whole push once. The result can arrive in any other Lambda (ws-message), so there
 * is no in-process event to wait on; polling one item by key needs no extra infrastructure,
 * and a dead relay cannot leave the caller hanging past waitTimeout.
 *
 * What it polls is the small status item (DynamoPushStore.readStatus: 1 RRU, the body is in
 * its own item), so it can poll often: every 20 ms while a result is likely (a device that
 * ACKs in 5 ms over a 30 ms WAN is recorded ~110 ms after the accept, bench/aws-model.ts),
 * adding ~10 ms on average to the caller's wait instead of up to a backoff step. After
 * fastForMs the delay doubles up to maxDelayMs, so a slow device does not cost a read every
 * 20 ms for the whole wait.
 */
import type { PushStore, PushWatcher } from '../../core/ports';
import { isTerminal, type PushRecord, type PushStatus } from '../../core/records';

export interface PollingOptions {
  /** Delay between reads during the first fastForMs of the wait. */
  intervalMs: number;
  fastForMs: number;
  /** Afterwards the delay doubles up to this. */
  maxDelayMs: number;
}

/** Reads only a push's status; undefined when the push does not exist. */
export type StatusReader = (pushId: string) => Promise<PushStatus | undefined>;

const DEFAULTS: PollingOptions = { intervalMs: 20, fastForMs: 400, maxDelayMs: 250 };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class PollingWatcher implements PushWatcher {
  private readonly options: PollingOptions;
  private readonly readStatus: StatusReader;

  constructor(
    private readonly store: PushStore,
    /** A cheap status read (the status item); without one, the whole push is read each time. */
    readStatus?: StatusReader,
    options: Partial<PollingOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
    this.readStatus = readStatus ?? (async (pushId) => (await store.get(pushId))?.status);
  }

  async waitForTerminal(pushId: string, timeoutMs: number): Promise<PushRecord | undefined> {
    const started = Date.now();
    const deadline = started + timeoutMs;
    let delay = this.options.intervalMs;
    for (;;) {
      const status = await this.readStatus(pushId);
      if (status !== undefined && isTerminal(status)) {
        const push = await this.store.get(pushId);
        if (push && isTerminal(push.status)) return push;
      }
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await sleep(Math.min(delay, left));
      if (Date.now() - started >= this.options.fastForMs) delay = Math.min(delay * 2, this.options.maxDelayMs);
    }
  }

  /** Nothing to wake: waiters live in other Lambdas and poll. */
  notify(_push: PushRecord): void {}
}
