/**
 * What every Lambda shares, built once per container (on first use, so tests can set env
 * first): config from env, the SDK clients, the aws ports, the core, and Powertools
 * logging/metrics. Logs carry ids and codes only, never a message body.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { configFromEnv } from '../adapters/aws/aws-config';
import { AWS_INLINE_BODY_BYTES, AWS_MAX_BODY_BYTES } from '../adapters/aws/aws-limits';
import { DynamoChunkStore } from '../adapters/aws/dynamo-chunk-store';
import { createAwsPorts } from '../adapters/aws/aws-ports';
import type { SqsPushQueue } from '../adapters/aws/sqs-queue';
import { createClients, type AwsClients } from '../adapters/aws/clients';
import { createCore, type CoreConfig, type EdgePushCore } from '../core/core';
import type { Log } from '../core/ports';

export interface Runtime {
  core: EdgePushCore;
  clients: AwsClients;
  queueUrl: string;
  /** The SQS queue port; the dispatcher records parked messages through it. */
  queue: SqsPushQueue;
  /** Parts of chunked relay messages, between ws-message invocations. */
  chunks: DynamoChunkStore;
  /** The inbound FIFO queue the webhook Lambda consumes (EDGEPUSH_INBOUND_QUEUE_URL). */
  inboundQueueUrl: string;
  logger: Logger;
  metrics: Metrics;
}

let runtime: Runtime | undefined;

export function getRuntime(): Runtime {
  runtime ??= buildRuntime(process.env);
  return runtime;
}

/** Tests that change env between suites in one process start over with this. */
export function resetRuntime(): void {
  runtime = undefined;
}

function buildRuntime(env: NodeJS.ProcessEnv): Runtime {
  const config = configFromEnv(env);
  const clients = createClients(config);
  const logger = new Logger({ serviceName: 'edgepush' });
  const metrics = new Metrics({ namespace: env.POWERTOOLS_METRICS_NAMESPACE ?? 'EdgePush', serviceName: 'edgepush' });
  const log = toLog(logger);
  const ports = { ...createAwsPorts(config, clients, log), log };
  return {
    core: createCore(ports, coreConfigFromEnv(env, config.bodyBucket !== undefined)),
    clients,
    queueUrl: config.queueUrl,
    queue: ports.queue,
    chunks: new DynamoChunkStore(clients.dynamo, config.tableName),
    inboundQueueUrl: config.inboundQueueUrl,
    logger,
    metrics,
  };
}

function coreConfigFromEnv(env: NodeJS.ProcessEnv, bodyBucket: boolean): Partial<CoreConfig> {
  const pick = (name: string): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
    return value;
  };
  const overrides: Partial<CoreConfig> = {
    maxBodyBytes: pick('EDGEPUSH_MAX_BODY_BYTES'),
    resultTimeoutMs: pick('EDGEPUSH_RESULT_TIMEOUT_MS'),
    offlineRetryMs: pick('EDGEPUSH_OFFLINE_RETRY_MS'),
    maxRetryMs: pick('EDGEPUSH_MAX_RETRY_MS'),
    maxAttempts: pick('EDGEPUSH_MAX_ATTEMPTS'),
    maxQueuedPerDestination: pick('EDGEPUSH_MAX_QUEUED_PER_DESTINATION'),
    maxQueuedPerAgent: pick('EDGEPUSH_MAX_QUEUED_PER_AGENT'),
    maxDestinationsBeforeHello: pick('EDGEPUSH_MAX_DESTINATIONS_BEFORE_HELLO'),
    liveWindowMs: pick('EDGEPUSH_LIVE_WINDOW_MS'),
    lastSeenWriteMs: pick('EDGEPUSH_LAST_SEEN_WRITE_MS'),
    inboundDedupeWindowMs: pick('EDGEPUSH_INBOUND_DEDUPE_WINDOW_MS'),
    inboundRetentionMs: pick('EDGEPUSH_INBOUND_RETENTION_MS'),
    webhookRetryPeriodMs: pick('EDGEPUSH_WEBHOOK_RETRY_PERIOD_MS'),
    webhookInitialBackoffMs: pick('EDGEPUSH_WEBHOOK_INITIAL_BACKOFF_MS'),
    webhookMaxBackoffMs: pick('EDGEPUSH_WEBHOOK_MAX_BACKOFF_MS'),
    webhookTimeoutMs: pick('EDGEPUSH_WEBHOOK_TIMEOUT_MS'),
  };
  // Test emulations only: the construct never sets it, so deployed webhooks must be https.
  if (env.EDGEPUSH_ALLOW_LOCAL_HTTP_WEBHOOKS === 'true') overrides.allowLocalHttpWebhooks = true;
  // On AWS the default and the ceiling are lower (aws-limits.ts): the Lambda payload bounds a
  // push, and without a body bucket the push's DynamoDB item does.
  const ceiling = bodyBucket ? AWS_MAX_BODY_BYTES : AWS_INLINE_BODY_BYTES;
  overrides.maxBodyBytes ??= ceiling;
  if (overrides.maxBodyBytes > ceiling) {
    throw new Error(
      bodyBucket
        ? `EDGEPUSH_MAX_BODY_BYTES must be at most ${ceiling} on AWS (a synchronous Lambda payload is at most 6 MB)`
        : `EDGEPUSH_MAX_BODY_BYTES must be at most ${ceiling} on AWS without EDGEPUSH_BODY_BUCKET (a push is one DynamoDB item)`,
    );
  }
  return Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
}

function toLog(logger: Logger): Log {
  return {
    info: (msg, fields) => logger.info(msg, { ...fields }),
    warn: (msg, fields) => logger.warn(msg, { ...fields }),
    error: (msg, fields) => logger.error(msg, { ...fields }),
  };
}
