/**
 * One webhook delivery attempt of an inbound message, called by the queue with the head of a
 * channel's group (hub: in-process; AWS: the SQS FIFO Lambda). The queue holds the channel's
 * next message until this answers `done`, which keeps delivery in order per channel.
 *
 * 2xx: delivered. Anything else (status, timeout, network): retried with exponential backoff
 * until webhookRetryPeriodMs after the message was stored; then `failed`, and the channel moves
 * on. For an `app` channel the webhook's answer is the device's ACK: it goes to the relay as
 * `appAck` (with an error when the webhook failed or answered no HL7 ACK).
 */
import { HL7_V2_CONTENT_TYPE } from '../../protocol/content-types';
import { INBOUND_MESSAGE_VERSION, type AppAckMessage } from '../../protocol/messages';
import { VERSION } from '../../protocol/version';
import type { CoreConfig } from './core-config';
import type { InboundDelivery, InboundRecord } from './inbound-records';
import { inboundView } from './inbound-view';
import type { InboundDeliveryOutcome, InboundQueueItem, Ports, WebhookResponse } from './ports';
import { openSecret } from './webhook-secret';
import { MESSAGE_ID_HEADER, SIGNATURE_HEADER, signatureHeader } from './webhook-signature';

const DONE: InboundDeliveryOutcome = { outcome: 'done' };
/** lastError is shown on GET /messages/{id}: keep it short. */
const MAX_ERROR_LENGTH = 300;

export function backoffMs(attempts: number, config: Pick<CoreConfig, 'webhookInitialBackoffMs' | 'webhookMaxBackoffMs'>): number {
  const exp = config.webhookInitialBackoffMs * 2 ** Math.min(Math.max(attempts - 1, 0), 30);
  return Math.min(exp, config.webhookMaxBackoffMs);
}

/** Never throws: a store or gateway failure is a retry, like a webhook failure. */
export async function deliverInbound(ports: Ports, config: CoreConfig, item: InboundQueueItem): Promise<InboundDeliveryOutcome> {
  try {
    return await attempt(ports, config, item);
  } catch (err) {
    ports.log?.error('inbound delivery failed', { messageId: item.messageId, agentId: item.agentId, error: (err as Error).message });
    return { outcome: 'retry', delayMs: config.webhookInitialBackoffMs };
  }
}

async function attempt(ports: Ports, config: CoreConfig, item: InboundQueueItem): Promise<InboundDeliveryOutcome> {
  const inbound = ports.inbound;
  const message = await inbound.store.get(item.messageId);
  if (!message || message.delivery.status !== 'pending') return DONE; // delivered, failed, or a repeat of the queue item
  const hook = await inbound.webhooks.get(message.agentId);
  if (!hook) {
    // The webhook was deleted meanwhile: the message stays available to pull.
    const updated = await settle(ports, message, { status: 'none', lastError: 'the webhook was deleted before delivery' });
    if (updated) await sendAppAck(ports, updated, { error: 'no webhook is set for this agent' });
    return DONE;
  }
  const secret = openSecret(hook.secretSealed, message.agentId, await ports.secretKey.get());
  const body = JSON.stringify(inboundView(message));
  const startedAt = ports.clock.now();
  const headers = {
    'content-type': 'application/json',
    'user-agent': `edgepush/${VERSION}`,
    [MESSAGE_ID_HEADER]: message.messageId,
    [SIGNATURE_HEADER]: signatureHeader(secret, body, Math.floor(startedAt / 1000)),
  };
  let answer: WebhookResponse | undefined;
  let failure: string | undefined;
  try {
    answer = await inbound.sender.post(hook.url, headers, body, config.webhookTimeoutMs);
    if (answer.status < 200 || answer.status > 299) failure = `HTTP ${answer.status}`;
  } catch (err) {
    failure = (err as Error).message || 'request failed';
  }
  const now = ports.clock.now();
  const attempts = message.delivery.attempts + 1;

  if (failure === undefined && answer) {
    const ack = appAckOf(answer);
    const patch: Partial<InboundDelivery> = { status: 'delivered', attempts, lastAttemptAt: now, deliveredAt: now, lastError: undefined };
    if (message.ack === 'app' && 'response' in ack) patch.appAck = ack.response;
    const updated = await settle(ports, message, patch);
    if (!updated) return DONE; // another attempt of the same item settled it first
    ports.log?.info('inbound delivered', { messageId: message.messageId, agentId: message.agentId, channel: message.channel, attempts });
    await sendAppAck(ports, updated, ack);
    return DONE;
  }

  const error = (failure ?? 'no answer').slice(0, MAX_ERROR_LENGTH);
  const delayMs = backoffMs(attempts, config);
  const giveUp = now + delayMs > message.storedAt + config.webhookRetryPeriodMs;
  const updated = await settle(ports, message, {
    status: giveUp ? 'failed' : 'pending',
    attempts,
    lastAttemptAt: now,
    lastError: error,
    nextAttemptAt: giveUp ? undefined : now + delayMs,
  });
  if (!updated) return DONE;
  const fields = { messageId: message.messageId, agentId: message.agentId, channel: message.channel, attempts, error };
  if (giveUp) ports.log?.warn('inbound delivery failed for good; the channel moves on', fields);
  else ports.log?.info('inbound delivery will be retried', { ...fields, delayMs });
  // An `app` device waits for its ACK now: tell it at the first failure, not at its timeout.
  if (attempts === 1) await sendAppAck(ports, updated, { error: `the webhook did not accept the message: ${error}` });
  return giveUp ? DONE : { outcome: 'retry', delayMs };
}

function settle(ports: Ports, message: InboundRecord, patch: Partial<InboundDelivery>): Promise<InboundRecord | undefined> {
  return ports.inbound.store.updateDelivery(message.messageId, patch, message.delivery.attempts);
}

/** A 2xx answer with an HL7 content type and an MSH segment is the application's ACK. */
function appAckOf(answer: WebhookResponse): Pick<AppAckMessage, 'response' | 'error'> {
  const type = (answer.contentType ?? '').split(';')[0].trim().toLowerCase();
  if (type !== HL7_V2_CONTENT_TYPE) return { error: `the webhook answered ${type || 'without a content type'}, not an HL7 ACK` };
  const text = answer.body.replace(/\r\n|\n/g, '\r').trim();
  if (!text.startsWith('MSH')) return { error: 'the webhook answered an HL7 content type without an MSH segment' };
  return { response: text };
}

/** For `app` channels only: the relay is waiting for it on its current connection, if it still has one. */
async function sendAppAck(ports: Ports, message: InboundRecord, ack: Pick<AppAckMessage, 'response' | 'error'>): Promise<void> {
  if (message.ack !== 'app') return;
  const agent = await ports.agents.get(message.agentId);
  if (!agent?.connectionId) return; // the relay answered its device with AE at its timeout
  const appAck: AppAckMessage = {
    type: 'appAck',
    v: INBOUND_MESSAGE_VERSION,
    inboundId: message.inboundId,
    messageId: message.messageId,
    ...ack,
  };
  try {
    await ports.gateway.post(agent.connectionId, appAck);
  } catch (err) {
    ports.log?.warn('sending appAck failed', { agentId: message.agentId, messageId: message.messageId, error: (err as Error).message });
  }
}
