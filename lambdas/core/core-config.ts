import { MAX_BODY_BYTES } from '../../protocol/limits';
import { DEFAULT_RESULT_TIMEOUT_MS } from '../../protocol/timeouts';

export interface CoreConfig {
  /**
   * Largest message body, in UTF-8 bytes. Over it: 413. At most MAX_BODY_BYTES (10 MB); a push
   * over 128 KB once serialised goes to the relay as chunks (protocol v2). On AWS the store
   * bounds it lower (lambdas/adapters/aws/aws-limits.ts).
   */
  maxBodyBytes: number;
  /** How long a dispatched push may wait for the relay's result before it is sent again. */
  resultTimeoutMs: number;
  /**
   * Retry delay while the relay is offline, and the first retry delay after the device was
   * unreachable; each further unreachable attempt doubles it, up to maxRetryMs (deviceRetryDelayMs).
   */
  offlineRetryMs: number;
  /** The longest wait between two attempts at an unreachable device. */
  maxRetryMs: number;
  /** Dispatches without a result before a push is failed. */
  maxAttempts: number;
  /**
   * Open (queued or sent) pushes per destination, and per agent; beyond them: 429
   * TOO_MANY_QUEUED. SQS FIFO finds available groups only among the first 120,000 messages, so
   * one stuck device with an unbounded backlog would stall every other destination.
   */
  maxQueuedPerDestination: number;
  maxQueuedPerAgent: number;
  /**
   * Destinations with open pushes per agent while its relay has not said hello (and so has
   * not named its devices): each name is a queue group. After hello, unknown names get 404.
   */
  maxDestinationsBeforeHello: number;
  /**
   * A relay connection is live while a message came within this window (the relay heartbeats
   * every 60 s and gives up 20 s after an unanswered one); a second connection is refused then.
   */
  liveWindowMs: number;
  /** lastSeenAt is written at most this often per agent: a heartbeat flood costs no writes. */
  lastSeenWriteMs: number;
  /**
   * Inbound messages with the same (agent, channel, MSH-10) within this window are one message
   * (the relay resends after a lost inboundAck; a device resends after a lost ACK).
   */
  inboundDedupeWindowMs: number;
  /** An inbound message is kept this long after it was stored, delivered or not. */
  inboundRetentionMs: number;
  /** A webhook delivery is retried for this long after the message was stored; then it is `failed`. */
  webhookRetryPeriodMs: number;
  /** The first retry waits this long; each next one twice as long, up to webhookMaxBackoffMs. */
  webhookInitialBackoffMs: number;
  webhookMaxBackoffMs: number;
  /** How long one webhook POST may take (connect to last byte of the answer we read). */
  webhookTimeoutMs: number;
  /**
   * Webhook URLs must be https; with this, also http://localhost, 127.0.0.1 and [::1] (the hub,
   * where the application often runs on the same machine). Never on AWS: a Lambda's localhost
   * is itself.
   */
  allowLocalHttpWebhooks: boolean;
}

export const DEFAULT_CONFIG: CoreConfig = {
  // A lab result with a base64 PDF in OBX-5 is often 200 KB to 5 MB.
  maxBodyBytes: MAX_BODY_BYTES,
  // The relay's worst case for one push (connect attempts, ACK timeout) plus a margin: see protocol/timeouts.ts.
  resultTimeoutMs: DEFAULT_RESULT_TIMEOUT_MS,
  offlineRetryMs: 2_000,
  // 2, 4, 8 … 64, 120 s: a dead device costs ~720 attempts a day instead of 43,200, and a device
  // that comes back gets its push within 2 minutes.
  maxRetryMs: 120_000,
  maxAttempts: 5,
  maxQueuedPerDestination: 1_000,
  // Ten agents at the cap stay under SQS FIFO's 120,000-message window.
  maxQueuedPerAgent: 10_000,
  maxDestinationsBeforeHello: 100,
  liveWindowMs: 90_000,
  lastSeenWriteMs: 15_000,
  // A day covers every resend we know of (relay after a reconnect, device after a lost ACK),
  // while a device whose MSH-10 counter restarts (many do, daily or at power-up) is not taken
  // for a duplicate of last week's message.
  inboundDedupeWindowMs: 24 * 3600_000,
  inboundRetentionMs: 30 * 24 * 3600_000,
  // A day of retries rides out an application's overnight outage; order holds the channel meanwhile.
  webhookRetryPeriodMs: 24 * 3600_000,
  webhookInitialBackoffMs: 1_000,
  webhookMaxBackoffMs: 5 * 60_000,
  webhookTimeoutMs: 10_000,
  allowLocalHttpWebhooks: false,
};

/** The protocol carries bodies up to MAX_BODY_BYTES; a larger setting could never be delivered. */
export function checkCoreConfig(config: CoreConfig): CoreConfig {
  if (!(config.maxBodyBytes > 0 && config.maxBodyBytes <= MAX_BODY_BYTES)) {
    throw new Error(`maxBodyBytes must be from 1 to ${MAX_BODY_BYTES} (the protocol's largest body)`);
  }
  return config;
}

/**
 * The wait before the next attempt at a device that was unreachable on `attempts` attempts in a
 * row (a push's attempts count each dispatch): offlineRetryMs doubled per attempt, up to maxRetryMs.
 */
export function deviceRetryDelayMs(config: Pick<CoreConfig, 'offlineRetryMs' | 'maxRetryMs'>, attempts: number): number {
  const doublings = Math.min(Math.max(0, attempts - 1), 30);
  return Math.min(config.maxRetryMs, config.offlineRetryMs * 2 ** doublings);
}

export const DEFAULT_WAIT_TIMEOUT_MS = 10_000;
/** API Gateway's HTTP integration timeout is 30 s; keep the wait well inside it. */
export const MAX_WAIT_TIMEOUT_MS = 25_000;
export const DEFAULT_EXPIRES_IN_S = 3600;
/** SQS FIFO keeps a message at most 14 days; a week leaves margin. */
export const MAX_EXPIRES_IN_S = 7 * 24 * 3600;

/** Long polls on GET /agents/{id}/messages wait at most this long (inside API Gateway's 30 s). */
export const MAX_PULL_WAIT_S = 20;
export const DEFAULT_PULL_LIMIT = 100;
export const MAX_PULL_LIMIT = 500;
