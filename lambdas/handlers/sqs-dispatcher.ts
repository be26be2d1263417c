/**
 * SQS FIFO event source -> core.dispatch, with ReportBatchItemFailures.
 * done: the record succeeds and Lambda deletes it. Not done: the record keeps its place at
 * the head of its group, made invisible for the core's retry delay (grown with the push's age),
 * and is reported failed. A long delay is recorded with the receipt handle (parked), so the
 * relay's next hello can make it visible at once.
 * Pipelining (dispatch-window.ts): while a record's push waits at the relay for its result, the
 * group's next record is sent too, up to the window. FIFO order: once a record of a group is
 * not done for another reason, the group's later records in this batch are not attempted; they
 * are failed and made visible again at once (the records still in flight keep the group
 * blocked, so they cannot overtake them).
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { ChangeMessageVisibilityCommand } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { dispatchWindowFromEnv, runGroup, type RecordAttempt } from './dispatch-window';
import { parseQueueItem } from './queue-record';
import { visibilitySeconds } from './retry-visibility';

/** Delays at least this long are parked for a wake on hello; shorter ones are not worth a write. */
export const PARK_MIN_SECONDS = 10;
import { getRuntime, type Runtime } from './runtime';

async function setVisibility(rt: Runtime, record: SQSRecord, seconds: number): Promise<void> {
  try {
    await rt.clients.sqs.send(
      new ChangeMessageVisibilityCommand({ QueueUrl: rt.queueUrl, ReceiptHandle: record.receiptHandle, VisibilityTimeout: seconds }),
    );
  } catch (err) {
    // The core may have released (deleted) it already; the queue's own timeout is the fallback.
    rt.logger.warn('change visibility failed', { messageId: record.messageId, error: (err as Error).name });
  }
}

/**
 * Dispatches one record. The visibility change and parking of a record that is not done are
 * queued on `work` rather than awaited, so the next record's push goes out without
 * waiting for them; the handler awaits them all before it returns.
 */
async function dispatchOne(rt: Runtime, record: SQSRecord, after: string | undefined, work: Promise<void>[]): Promise<RecordAttempt> {
  const item = parseQueueItem(record);
  if (!item) {
    // Not ours (we only enqueue pointers): retrying cannot help and would block the group.
    rt.logger.error('dropping malformed queue message', { messageId: record.messageId });
    return { outcome: 'done' };
  }
  try {
    const outcome = await rt.core.dispatch(item, record.receiptHandle, after === undefined ? {} : { after });
    rt.metrics.addMetric(outcome.done ? 'DispatchDone' : 'DispatchRetry', MetricUnit.Count, 1);
    if (outcome.done) return { outcome: 'done' };
    // Age since SQS accepted the message (the push's enqueue): SentTimestamp, epoch ms.
    const sentAt = Number(record.attributes.SentTimestamp);
    const seconds = visibilitySeconds(outcome.retryAfterMs, Number.isFinite(sentAt) ? Date.now() - sentAt : 0);
    work.push(
      (async () => {
        await setVisibility(rt, record, seconds);
        if (seconds >= PARK_MIN_SECONDS) {
          await rt.queue.parked
            ?.park(item, record.receiptHandle)
            .catch((err: Error) => rt.logger.warn('parking a message failed', { pushId: item.pushId, error: err.name }));
        }
      })(),
    );
    return outcome.inFlight ? { outcome: 'inFlight', pushId: item.pushId } : { outcome: 'retry' };
  } catch (err) {
    // A store or network error: the queue's visibility timeout brings it back.
    rt.logger.error('dispatch failed', { pushId: item.pushId, error: (err as Error).message });
    return { outcome: 'retry' };
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
  const work: Promise<void>[] = [];
  // Groups are independent; within one group, strictly one after another.
  await Promise.all(
    [...groups.values()].map(async (records) => {
      const result = await runGroup(records, window, (record, after) => dispatchOne(rt, record, after, work));
      for (const record of result.failed) failures.push(record.messageId);
      for (const rest of result.notAttempted) work.push(setVisibility(rt, rest, 0));
    }),
  );
  await Promise.all(work);
  rt.metrics.publishStoredMetrics();
  return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
}
