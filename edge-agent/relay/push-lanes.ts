/**
 * One lane per destination: the pushes of a device, in the order the cloud sent them, one at a
 * time. The next push starts only once the one before it has its result, so the cloud may send
 * several ahead (the AWS dispatcher's pipelining window) and the device still sees them one by
 * one, in order.
 *
 * Order across retries: a push that fails retryably (nothing reached the device) is sent again
 * later by the cloud, ahead of the ones behind it. So when one does, every push queued behind it
 * fails retryably too, unsent; otherwise they would reach the device before its retry.
 * Expiry is checked when a push's turn comes, not only on arrival: it may wait here behind others.
 */
import { EXPIRED_BEFORE_DELIVERY, NOT_SENT_BEHIND, type PushMessage, type ResultMessage } from '../../protocol/messages';
import { failed } from './outcome';

interface Job {
  push: PushMessage;
  /** Date.now() when the push arrived, for its ttlMs. */
  arrivedAt: number;
  deliver: () => Promise<ResultMessage>;
  resolve: (result: ResultMessage) => void;
}

interface Lane {
  queue: Job[];
  busy: boolean;
}

export interface PushLanesOptions {
  /** The relay's expiry rule for a push that waited `waitedMs` here: true when it must not be started any more. */
  expired: (push: PushMessage, waitedMs: number) => boolean;
}

export class PushLanes {
  private readonly lanes = new Map<string, Lane>();

  constructor(private readonly options: PushLanesOptions) {}

  /** Queues a push on its destination's lane; resolves with its result (never rejects). */
  run(destination: string, push: PushMessage, deliver: () => Promise<ResultMessage>): Promise<ResultMessage> {
    let lane = this.lanes.get(destination);
    if (!lane) {
      lane = { queue: [], busy: false };
      this.lanes.set(destination, lane);
    }
    const queued = lane;
    return new Promise((resolve) => {
      queued.queue.push({ push, arrivedAt: Date.now(), deliver, resolve });
      this.pump(destination, queued);
    });
  }

  /** Pushes waiting or being delivered on a destination's lane. */
  pending(destination: string): number {
    const lane = this.lanes.get(destination);
    return lane ? lane.queue.length + (lane.busy ? 1 : 0) : 0;
  }

  private pump(destination: string, lane: Lane): void {
    while (!lane.busy) {
      const job = lane.queue.shift();
      if (!job) {
        this.lanes.delete(destination);
        return;
      }
      if (this.options.expired(job.push, Date.now() - job.arrivedAt)) {
        job.resolve(failed(job.push.pushId, EXPIRED_BEFORE_DELIVERY, false));
        continue;
      }
      lane.busy = true;
      void job
        .deliver()
        .catch((err: unknown) => failed(job.push.pushId, `relay error: ${(err as Error)?.message ?? String(err)}`, false))
        .then((result) => {
          lane.busy = false;
          job.resolve(result);
          if (result.status === 'failed' && result.retryable) this.failBehind(lane, job.push.pushId);
          this.pump(destination, lane);
        });
    }
  }

  private failBehind(lane: Lane, pushId: string): void {
    for (const behind of lane.queue.splice(0)) {
      behind.resolve(failed(behind.push.pushId, notSentBehind(pushId), true));
    }
  }
}

/** The reason a push fails, unsent, when the push before it was not delivered. */
export function notSentBehind(pushId: string): string {
  return `${NOT_SENT_BEHIND} (${pushId}); the cloud sends them again in order`;
}
