/**
 * PushQueue on SQS FIFO. The queue carries only a pointer ({pushId, agentId, destination}),
 * never the message body: PHI stays in the encrypted table.
 *
 * wake() is a no-op here: SQS has no way to make an invisible message visible without its
 * receipt handle, and the dispatcher already retries offline pushes after a short,
 * receive-count-scaled visibility timeout. A reconnecting relay therefore waits at most one
 * such interval.
 */
import { DeleteMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { PushQueue } from '../../core/ports';
import type { PushRecord, QueueItem } from '../../core/records';
import { messageGroupId } from './message-group';

export class SqsPushQueue implements PushQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
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

  async wake(_agentId: string): Promise<void> {}
}

function isStaleReceipt(err: unknown): boolean {
  const name = (err as { name?: string; Code?: string } | null)?.name ?? '';
  return name === 'ReceiptHandleIsInvalid' || name === 'InvalidParameterValue' || name.includes('ReceiptHandleIsInvalid');
}
