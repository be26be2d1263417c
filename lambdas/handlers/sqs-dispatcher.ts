/**
 * SQS FIFO event source -> core.dispatch, with ReportBatchItemFailures.
 * done: the record succeeds and Lambda deletes it. Not done: the record keeps its place at
 * the head of its group, made invisible for the core's retry delay (grown with the push's age),
 * and is reported failed. A long delay while the relay is offline is recorded with the receipt
 * handle (parked), so the relay's next hello can make it visible at once. A sent push waiting
 * for its result is not parked (that was a write on every push): its receipt is on the push
 * already, and the hello finds it there (in-flight-pushes.ts).
 * FIFO order: once a record of a group is not done, the group's later records in this batch
 * are not attempted; they are failed and made visible again at once (the head, still in
 * flight, keeps the group blocked, so they cannot overtake it).
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { ChangeMessageVisibilityCommand } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { parseQueueItem } from './queue-record';
import { visibilitySeconds } from './retry-visibility';

/** Offline delays at least this long are parked for a wake on hello; shorter ones are not worth a write. */
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

/** true when the record is finished (delete it), false when it must be retried. */
async function dispatchOne(rt: Runtime, record: SQSRecord): Promise<boolean> {
  const item = parseQueueItem(record);
  if (!item) {
    // Not ours (we only enqueue pointers): retrying cannot help and would block the group.
    rt.logger.error('dropping malformed queue message', { messageId: record.messageId });
    return true;
  }
  try {
    const outcome = await rt.core.dispatch(item, record.receiptHandle);
    rt.metrics.addMetric(outcome.done ? 'DispatchDone' : 'DispatchRetry', MetricUnit.Count, 1);
    if (outcome.done) return true;
    // Age since SQS accepted the message (the push's enqueue): SentTimestamp, epoch ms.
    const sentAt = Number(record.attributes.SentTimestamp);
    const seconds = visibilitySeconds(outcome.retryAfterMs, Number.isFinite(sentAt) ? Date.now() - sentAt : 0);
    await setVisibility(rt, record, seconds);
    if (outcome.waitForRelay && seconds >= PARK_MIN_SECONDS) {
      await rt.queue.parked
        ?.park(item, record.receiptHandle)
        .catch((err: Error) => rt.logger.warn('parking a message failed', { pushId: item.pushId, error: err.name }));
    }
    return false;
  } catch (err) {
    // A store or network error: the queue's visibility timeout brings it back.
    rt.logger.error('dispatch failed', { pushId: item.pushId, error: (err as Error).message });
    return false;
  }
}

export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const rt = getRuntime();
  const groups = new Map<string, SQSRecord[]>();
  for (const record of event.Records) {
    const group = record.attributes.MessageGroupId ?? record.messageId;
    groups.set(group, [...(groups.get(group) ?? []), record]);
  }
  const failures: string[] = [];
  // Groups are independent; within one group, strictly one after another.
  await Promise.all(
    [...groups.values()].map(async (records) => {
      for (let i = 0; i < records.length; i++) {
        if (await dispatchOne(rt, records[i])) continue;
        failures.push(records[i].messageId);
        for (const rest of records.slice(i + 1)) {
          failures.push(rest.messageId);
          await setVisibility(rt, rest, 0);
        }
        return;
      }
    }),
  );
  rt.metrics.publishStoredMetrics();
  return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
}
