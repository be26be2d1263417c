/** The body of a push queue message: a pointer to the push, never the message itself. */
import type { SQSRecord } from 'aws-lambda';
import type { QueueItem } from '../core/records';

export function parseQueueItem(record: SQSRecord): QueueItem | undefined {
  try {
    const value = JSON.parse(record.body) as Partial<QueueItem>;
    if (typeof value.pushId === 'string' && typeof value.agentId === 'string' && typeof value.destination === 'string') {
      return { pushId: value.pushId, agentId: value.agentId, destination: value.destination };
    }
  } catch {
    // fall through
  }
  return undefined;
}
