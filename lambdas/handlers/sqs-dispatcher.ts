/**
 * SQS FIFO event source -> core.dispatch, with ReportBatchItemFailures.
 * done: the record succeeds and Lambda deletes it. Not done: the record keeps its place at
 * the head of its group, made invisible for the core's retry delay (grown with the push's age),
 * and is reported failed. A long delay while the relay is offline is recorded with the receipt
 * handle (parked), so the relay's next hello can make it visible at once. A sent push waiting
 * for its result is not parked (that was a write on every push): its receipt is on the push
 * already, and the hello finds it there (in-flight-pushes.ts).
 * Pipelining (dispatch-window.ts): while a record's push waits at the relay for its result, the
 * group's next record is sent too, up to the window. The batch's pushes are read at once, and its
 * visibility changes made in one call at the end, so a window's sends wait only on their own
 * `sent` write (overlapping the post before) and post. FIFO order: once a record of a group is
 * not done for another reason, the group's later records in this batch are not attempted; they
 * are failed and made visible again at once (the records still in flight keep the group
 * blocked, so they cannot overtake them).
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { ChangeMessageVisibilityBatchCommand } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { DispatchRead } from '../core/core';
import { dispatchWindowFromEnv, runGroup, type RecordAttempt, type Sending } from './dispatch-window';
import { parseQueueItem } from './queue-record';
import { visibilitySeconds } from './retry-visibility';

/** Offline delays at least this long are parked for a wake on hello; shorter ones are not worth a write. */
export const PARK_MIN_SECONDS = 10;
import { getRuntime, type Runtime } from './runtime';

interface Visibility {
  record: SQSRecord;
  seconds: number;
}

/**
 * The batch's visibility changes in one call (a batch is at most 10 records, as is the call):
 * one SQS request per invocation instead of one per record, made after the sends. Until then
 * the records keep the queue's own visibility timeout, which outlasts the invocation.
 */
async function setVisibilities(rt: Runtime, changes: Visibility[]): Promise<void> {
  for (let i = 0; i < changes.length; i += 10) {
    const chunk = changes.slice(i, i + 10);
    try {
      const out = await rt.clients.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: rt.queueUrl,
          Entries: chunk.map((c, n) => ({ Id: String(n), ReceiptHandle: c.record.receiptHandle, VisibilityTimeout: c.seconds })),
        }),
      );
      // A failed entry: its result was recorded and the record released (deleted) already.
      if (out.Failed?.length) rt.logger.info('some records were released before their visibility changed', { count: out.Failed.length });
    } catch (err) {
      // The queue's own visibility timeout is the fallback.
      rt.logger.warn('change visibility failed', { records: chunk.length, error: (err as Error).name });
    }
  }
}

/**
 * Dispatches one record. Returns as soon as its push is about to be posted (`sending`), so the
 * next record's write overlaps this post; or with its outcome when nothing is posted. The
 * visibility change of a record that is not done is collected in `visibility`, and its parking
 * queued on `work`; the handler makes them before it returns.
 */
async function dispatchOne(
  rt: Runtime,
  record: SQSRecord,
  after: string | undefined,
  gate: Promise<boolean> | undefined,
  reads: Map<string, DispatchRead>,
  visibility: Visibility[],
  work: Promise<void>[],
): Promise<RecordAttempt | Sending> {
  const item = parseQueueItem(record);
  if (!item) {
    // Not ours (we only enqueue pointers): retrying cannot help and would block the group.
    rt.logger.error('dropping malformed queue message', { messageId: record.messageId });
    return { outcome: 'done' };
  }
  let onSending: (posted: Promise<boolean>) => void = () => undefined;
  // Wrapped in an object: resolving with the promise itself would wait for the post.
  const sending = new Promise<{ posted: Promise<boolean> }>((resolve) => (onSending = (posted) => resolve({ posted })));
  const read = reads.get(item.pushId);
  const settled = (async (): Promise<RecordAttempt> => {
    try {
      const outcome = await rt.core.dispatch(item, record.receiptHandle, {
        ...(after === undefined ? {} : { after }),
        ...(gate === undefined ? {} : { gate }),
        ...(read ? { read } : {}),
        onSending,
      });
      rt.metrics.addMetric(outcome.done ? 'DispatchDone' : 'DispatchRetry', MetricUnit.Count, 1);
      if (outcome.done) return { outcome: 'done' };
      // Age since SQS accepted the message (the push's enqueue): SentTimestamp, epoch ms.
      const sentAt = Number(record.attributes.SentTimestamp);
      const seconds = visibilitySeconds(outcome.retryAfterMs, Number.isFinite(sentAt) ? Date.now() - sentAt : 0);
      visibility.push({ record, seconds });
      if (outcome.waitForRelay && seconds >= PARK_MIN_SECONDS && rt.queue.parked) {
        work.push(
          rt.queue.parked
            .park(item, record.receiptHandle)
            .catch((err: Error) => rt.logger.warn('parking a message failed', { pushId: item.pushId, error: err.name })),
        );
      }
      return outcome.inFlight ? { outcome: 'inFlight', pushId: item.pushId } : { outcome: 'retry' };
    } catch (err) {
      // A store or network error: the queue's visibility timeout brings it back.
      rt.logger.error('dispatch failed', { pushId: item.pushId, error: (err as Error).message });
      return { outcome: 'retry' };
    }
  })();
  const first = await Promise.race([settled.then((attempt) => ({ attempt })), sending]);
  return 'attempt' in first ? first.attempt : { outcome: 'sending', pushId: item.pushId, posted: first.posted, settled };
}

/**
 * The batch's pushes and agents, read at once rather than in turn per record (a pipelined
 * window's sends then wait only on their own write and post). On a read error, each record reads
 * for itself.
 */
async function readBatch(rt: Runtime, records: SQSRecord[]): Promise<Map<string, DispatchRead>> {
  const items = records.map(parseQueueItem).filter((item) => item !== undefined);
  try {
    return await rt.core.readForDispatch(items);
  } catch (err) {
    rt.logger.warn('reading the batch failed; each record reads for itself', { error: (err as Error).name });
    return new Map();
  }
}

export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const rt = getRuntime();
  const window = dispatchWindowFromEnv(process.env);
  const groups = new Map<string, SQSRecord[]>();
  for (const record of event.Records) {
    const group = record.attributes.MessageGroupId ?? record.messageId;
    groups.set(group, [...(groups.get(group) ?? []), record]);
  }
  const failures: string[] = [];
  const visibility: Visibility[] = [];
  const work: Promise<void>[] = [];
  const reads = await readBatch(rt, event.Records);
  // Groups are independent; within one group, strictly one after another.
  await Promise.all(
    [...groups.values()].map(async (records) => {
      const result = await runGroup(records, window, (record, after, gate) =>
        dispatchOne(rt, record, after, gate, reads, visibility, work),
      );
      for (const record of result.failed) failures.push(record.messageId);
      for (const rest of result.notAttempted) visibility.push({ record: rest, seconds: 0 });
    }),
  );
  await Promise.all([setVisibilities(rt, visibility), ...work]);
  rt.metrics.publishStoredMetrics();
  return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
}
