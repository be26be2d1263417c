/**
 * The inbound queue (SQS FIFO, a group per agent+channel) -> core.deliverInbound, with
 * ReportBatchItemFailures. done: the record succeeds and Lambda deletes it, which lets the
 * channel's next message go. retry: the record stays in flight at the head of its group, made
 * invisible for the core's backoff delay, and is reported failed; the group's later records in
 * the batch are failed too and made visible again at once (the head, still in flight, keeps
 * the group blocked, so they cannot overtake it). Other groups are independent: one customer's
 * failing webhook never holds back another's channels.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { ChangeMessageVisibilityCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { parseInboundQueueItem } from '../adapters/aws/sqs-inbound-queue';
import type { InboundQueueItem, Log } from '../core/ports';
import { getRuntime } from './runtime';
import { delaySeconds } from './webhook-visibility';

export type DeliveryOutcome = { outcome: 'done' } | { outcome: 'retry'; delayMs: number };

/** What this handler needs of the core (EdgePushCore.deliverInbound). */
export interface InboundDeliverer {
  deliverInbound(item: InboundQueueItem): Promise<DeliveryOutcome>;
}

export interface WebhookDeliveryDeps {
  core: InboundDeliverer;
  sqs: SQSClient;
  queueUrl: string;
  log: Pick<Log, 'warn' | 'error'>;
  /** Count of outcomes (Powertools metrics on Lambda). */
  count?(name: 'InboundDelivered' | 'InboundRetry'): void;
}

async function setVisibility(deps: WebhookDeliveryDeps, record: SQSRecord, seconds: number): Promise<void> {
  try {
    await deps.sqs.send(
      new ChangeMessageVisibilityCommand({ QueueUrl: deps.queueUrl, ReceiptHandle: record.receiptHandle, VisibilityTimeout: seconds }),
    );
  } catch (err) {
    // The queue's own visibility timeout is the fallback: a retry comes sooner than asked.
    deps.log.warn('change visibility failed', { messageId: record.messageId, error: (err as Error).name });
  }
}

/** true when the record is finished (delete it), false when it must be retried. */
async function deliverOne(deps: WebhookDeliveryDeps, record: SQSRecord): Promise<boolean> {
  const item = parseInboundQueueItem(record.body);
  if (!item) {
    // Not ours (we only enqueue pointers): retrying cannot help and would block the group.
    deps.log.error('dropping malformed inbound queue message', { sqsMessageId: record.messageId });
    return true;
  }
  try {
    const result = await deps.core.deliverInbound(item);
    deps.count?.(result.outcome === 'done' ? 'InboundDelivered' : 'InboundRetry');
    if (result.outcome === 'done') return true;
    await setVisibility(deps, record, delaySeconds(result.delayMs));
    return false;
  } catch (err) {
    // A store or network error: the queue's visibility timeout brings it back.
    deps.log.error('inbound delivery failed', { messageId: item.messageId, error: (err as Error).message });
    return false;
  }
}

export function createWebhookDeliveryHandler(deps: WebhookDeliveryDeps): (event: SQSEvent) => Promise<SQSBatchResponse> {
  return async (event) => {
    const groups = new Map<string, SQSRecord[]>();
    for (const record of event.Records) {
      const group = record.attributes.MessageGroupId ?? record.messageId;
      groups.set(group, [...(groups.get(group) ?? []), record]);
    }
    const failures: string[] = [];
    await Promise.all(
      [...groups.values()].map(async (records) => {
        for (let i = 0; i < records.length; i++) {
          if (await deliverOne(deps, records[i])) continue;
          failures.push(records[i].messageId);
          for (const rest of records.slice(i + 1)) {
            failures.push(rest.messageId);
            await setVisibility(deps, rest, 0);
          }
          return;
        }
      }),
    );
    return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
  };
}

let lambdaHandler: ((event: SQSEvent) => Promise<SQSBatchResponse>) | undefined;

export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  if (!lambdaHandler) {
    const rt = getRuntime();
    lambdaHandler = createWebhookDeliveryHandler({
      core: rt.core,
      sqs: rt.clients.sqs,
      queueUrl: rt.inboundQueueUrl,
      log: { warn: (msg, fields) => rt.logger.warn(msg, { ...fields }), error: (msg, fields) => rt.logger.error(msg, { ...fields }) },
      count: (name) => rt.metrics.addMetric(name, MetricUnit.Count, 1),
    });
  }
  const response = await lambdaHandler(event);
  getRuntime().metrics.publishStoredMetrics();
  return response;
}
