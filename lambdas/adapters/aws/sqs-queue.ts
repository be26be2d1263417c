/**
 * PushQueue on SQS FIFO. The queue carries only a pointer ({pushId, agentId, destination}),
 * never the message body: PHI stays in the encrypted table.
 *
 * wake() on the relay's hello makes visible at once the agent's messages that are invisible
 * for a long time: those the dispatcher parked because the relay was offline (recorded with
 * their receipt handles in ParkedMessages), and those out at the relay (`sent`, invisible for
 * resultTimeout; found by InFlightPushes), so a relay back from an outage or a reconnect gets
 * its backlog and its lost in-flight pushes in seconds. Only on hello: until $connect has
 * returned, postToConnection answers Gone, so a wake at connect would only burn receives.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  SendMessageCommand,
  type ChangeMessageVisibilityBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Log, PushQueue, WakeReason } from '../../core/ports';
import type { PushRecord, QueueItem } from '../../core/records';
import { messageGroupId } from './message-group';
import type { InFlightPushes } from './in-flight-pushes';
import type { ParkedMessages } from './parked-messages';

/** ChangeMessageVisibilityBatch takes at most 10 entries. */
const BATCH = 10;

export class SqsPushQueue implements PushQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    /** Without it (tests of the bare queue), wake() does nothing. */
    readonly parked?: ParkedMessages,
    private readonly log?: Log,
    private readonly inFlight?: InFlightPushes,
  ) {}

  async enqueue(item: QueueItem): Promise<void> {
    const pointer: QueueItem = { pushId: item.pushId, agentId: item.agentId, destination: item.destination };
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(pointer),
        MessageGroupId: messageGroupId(item.agentId, item.destination),
        // A retried enqueue of one push within SQS's 5-minute window is dropped by SQS.
        MessageDeduplicationId: item.pushId,
      }),
    );
  }

  /** Deletes the delivery now so the next push of the group goes without waiting for its timer. */
  async release(push: PushRecord): Promise<void> {
    if (!push.queueReceipt) return;
    try {
      await this.sqs.send(new DeleteMessageCommand({ QueueUrl: this.queueUrl, ReceiptHandle: push.queueReceipt }));
    } catch (err) {
      // A receipt from an earlier receive is stale; the dispatcher's own delete covers it.
      if (!isStaleReceipt(err)) throw err;
    }
  }

  async wake(agentId: string, reason: WakeReason): Promise<void> {
    if (reason !== 'hello' || !this.parked) return;
    const [entries, sent] = await Promise.all([this.parked.list(agentId), this.inFlight?.list(agentId) ?? []]);
    // A message parked and since sent again has one live receipt at most: wake each once.
    const receipts = [...new Set([...entries.map((e) => e.receipt), ...sent.map((p) => p.receipt)])];
    let stale = 0;
    for (let i = 0; i < receipts.length; i += BATCH) {
      const batch: ChangeMessageVisibilityBatchRequestEntry[] = receipts.slice(i, i + BATCH).map((receipt, n) => ({
        Id: String(n),
        ReceiptHandle: receipt,
        VisibilityTimeout: 0,
      }));
      const out = await this.sqs.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: this.queueUrl, Entries: batch }));
      // A failed entry is a stale receipt: that message was deleted or received again since.
      stale += out.Failed?.length ?? 0;
    }
    if (receipts.length) {
      this.log?.info('woke parked and in-flight messages', { agentId, parked: entries.length, sent: sent.length, stale });
      if (entries.length) await this.parked.forget(agentId, entries);
    }
  }
}

function isStaleReceipt(err: unknown): boolean {
  const name = (err as { name?: string; Code?: string } | null)?.name ?? '';
  return name === 'ReceiptHandleIsInvalid' || name === 'InvalidParameterValue' || name.includes('ReceiptHandleIsInvalid');
}
