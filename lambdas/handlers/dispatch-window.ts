/**
 * Pipelining within one FIFO batch. The event source hands the dispatcher up to 10 records of a
 * message group (one device), in order. A record whose push went to the relay and waits for its
 * result (`inFlight`) does not stop the group: the next record's push is sent too, marked to go
 * right after it, up to `window` pushes waiting at once. The relay delivers them one at a time,
 * in order (edge-agent/relay/push-lanes.ts), so the device's link is unchanged; what is saved is
 * a full SQS receive -> Lambda -> result -> delete cycle per push.
 *
 * Within the window, a record's `sent` write overlaps the post of the one before it; the posts
 * themselves go one after another, each only once the one before reached the relay.
 *
 * Each waiting record stays in flight (reported failed, invisible for its retry delay) and is
 * deleted early when its result is recorded, exactly as the head is. The group stops at the first
 * record not done for any other reason (relay offline, device retry delay, errors): it and the
 * rest are handled as before, the rest made visible again at once behind it.
 */

/** The batch size of the dispatcher's event source (lib/edgepush-construct.ts) bounds the window. */
export const MAX_DISPATCH_WINDOW = 10;
export const DEFAULT_DISPATCH_WINDOW = MAX_DISPATCH_WINDOW;
export const DISPATCH_WINDOW_ENV = 'EDGEPUSH_DISPATCH_WINDOW';

/** How many pushes of one destination may wait at the relay at once; 1 = one at a time. */
export function dispatchWindowFromEnv(env: NodeJS.ProcessEnv): number {
  const raw = env[DISPATCH_WINDOW_ENV];
  if (raw === undefined || raw === '') return DEFAULT_DISPATCH_WINDOW;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > MAX_DISPATCH_WINDOW) {
    throw new Error(`${DISPATCH_WINDOW_ENV} must be a whole number from 1 to ${MAX_DISPATCH_WINDOW}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** What one record's dispatch came to. */
export type RecordAttempt =
  | { outcome: 'done' }
  /** Sent to the relay (now or before, same connection), waiting for its result. */
  | { outcome: 'inFlight'; pushId: string }
  /** Not done for any other reason: the group stops here. */
  | { outcome: 'retry' };

/**
 * A record whose `sent` write is done and whose post is next: the next record may start now
 * (its write overlapping this post); its post waits for `posted`.
 */
export interface Sending {
  outcome: 'sending';
  pushId: string;
  /** Whether this record's push reached the relay. */
  posted: Promise<boolean>;
  /** The record's final attempt, once its post is done. */
  settled: Promise<RecordAttempt>;
}

export interface GroupResult<R> {
  /** Reported as batch item failures, in order: the records waiting, the one that stopped the group, the rest. */
  failed: R[];
  /** Not attempted (after the stop, or beyond the window): to be made visible again at once. */
  notAttempted: R[];
}

/**
 * Runs one group's records in order. `attempt` gets the pushId of the push sent just before it
 * that still waits for its result (undefined for the first one sent), and the gate its post must
 * wait for (whether the push before it reached the relay; undefined when none is being posted).
 */
export async function runGroup<R>(
  records: readonly R[],
  window: number,
  attempt: (record: R, after: string | undefined, gate: Promise<boolean> | undefined) => Promise<RecordAttempt | Sending>,
): Promise<GroupResult<R>> {
  const failed = new Set<R>();
  const sending: Array<{ record: R; settled: Promise<RecordAttempt> }> = [];
  let after: string | undefined;
  let gate: Promise<boolean> | undefined;
  let waiting = 0;
  let stop = records.length;
  for (let i = 0; i < records.length; i++) {
    const result = await attempt(records[i], after, gate);
    if (result.outcome === 'done') continue;
    if (result.outcome === 'sending') {
      sending.push({ record: records[i], settled: result.settled });
      gate = result.posted;
    } else {
      failed.add(records[i]);
    }
    if (result.outcome !== 'retry' && ++waiting < window) {
      after = result.pushId;
      continue;
    }
    stop = i + 1;
    break;
  }
  // A record being posted ends waiting (its post reached the relay) or not done (it did not, so
  // the ones after it were not posted either): both are failures, only `done` is not.
  const settled = await Promise.all(sending.map((s) => s.settled));
  sending.forEach((s, n) => settled[n].outcome !== 'done' && failed.add(s.record));
  const notAttempted = records.slice(stop);
  for (const r of notAttempted) failed.add(r);
  return { failed: records.filter((r) => failed.has(r)), notAttempted };
}
