/**
 * The dead-letter queue's consumer. A message lands there after maxReceiveCount deliveries
 * (days of backoff, or a dispatcher that kept failing). Its push is ended as failed or expired,
 * so no accepted push stays queued forever; the PushDeadLettered metric drives the alarm.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { parseQueueItem } from './queue-record';
import { getRuntime } from './runtime';

export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const rt = getRuntime();
  const failures: { itemIdentifier: string }[] = [];
  for (const record of event.Records) {
    const item = parseQueueItem(record);
    if (!item) {
      rt.logger.error('dropping malformed dead-letter message', { messageId: record.messageId });
      continue;
    }
    try {
      await rt.core.abandon(item);
      rt.metrics.addMetric('PushDeadLettered', MetricUnit.Count, 1);
      rt.logger.warn('push dead-lettered', { pushId: item.pushId, agentId: item.agentId, destination: item.destination });
    } catch (err) {
      rt.logger.error('abandoning a push failed', { pushId: item.pushId, error: (err as Error).message });
      failures.push({ itemIdentifier: record.messageId });
    }
  }
  rt.metrics.publishStoredMetrics();
  return { batchItemFailures: failures };
}
