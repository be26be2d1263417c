/**
 * InboundQueue on its own SQS FIFO queue (not the push queue: a backlog of one direction never
 * sits in the other's 120,000-message group-scan window). MessageGroupId per (agent, channel):
 * SQS hands out a group's next message only once the one before is deleted, so webhook delivery
 * is ordered per channel, and a channel whose webhook fails holds back only its own group.
 * MessageDeduplicationId = messageId: an enqueue retried within SQS's 5-minute window is dropped
 * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html).
 * The body is a pointer; the message (PHI) stays in the table.
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { InboundQueue, InboundQueueItem } from '../../core/ports';
import { messageGroupId } from './message-group';

export class SqsInboundQueue implements InboundQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async enqueue(item: InboundQueueItem): Promise<void> {
    const pointer: InboundQueueItem = { messageId: item.messageId, agentId: item.agentId, channel: item.channel };
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(pointer),
        MessageGroupId: messageGroupId(item.agentId, item.channel),
        MessageDeduplicationId: item.messageId,
      }),
    );
  }
}

/** The body of an inbound queue message, or undefined when it is not one of ours. */
export function parseInboundQueueItem(body: string): InboundQueueItem | undefined {
  try {
    const value = JSON.parse(body) as Partial<InboundQueueItem>;
    if (typeof value.messageId === 'string' && typeof value.agentId === 'string' && typeof value.channel === 'string') {
      return { messageId: value.messageId, agentId: value.agentId, channel: value.channel };
    }
  } catch {
    // fall through
  }
  return undefined;
}
