/**
 * A relay's `inbound` message: check the channel is one the relay announced, store the message
 * (deduplicated), and only then acknowledge it; queue its webhook delivery, wake pull requests,
 * publish the optional event. Store before ACK is the whole guarantee of `ack=cloud` channels:
 * once the relay has `inboundAck`, the message survives anything the cloud does next.
 */
import { randomUUID } from 'node:crypto';
import {
  INBOUND_MESSAGE_VERSION,
  ProtocolError,
  type AppAckMessage,
  type CloudMessage,
  type InboundMessage,
} from '../../protocol/messages';
import type { CoreConfig } from './core-config';
import type { InboundRecord } from './inbound-records';
import type { Ports } from './ports';

/** The dedupe key: MSH-10 when the message has one, else the relay's own id (a resend keeps it). */
export function dedupeKeyOf(msg: Pick<InboundMessage, 'controlId' | 'inboundId'>): string {
  return msg.controlId ?? `relay:${msg.inboundId}`;
}

/** The replies to send the relay, in order: inboundAck, then an appAck when one is already known. */
export async function receiveInbound(ports: Ports, config: CoreConfig, agentId: string, msg: InboundMessage): Promise<CloudMessage[]> {
  const inbound = ports.inbound;
  const agent = await ports.agents.get(agentId);
  // A relay may send only for its own channels: the ones its last hello named.
  if (!agent?.channels?.some((c) => c.name === msg.channel)) {
    throw new ProtocolError('UNKNOWN_CHANNEL', `channel ${msg.channel} was not announced in this relay's hello`);
  }
  const webhook = await inbound.webhooks.get(agentId);
  const now = ports.clock.now();
  const candidate: Omit<InboundRecord, 'cursor'> = {
    messageId: randomUUID(),
    agentId,
    channel: msg.channel,
    inboundId: msg.inboundId,
    dedupeKey: dedupeKeyOf(msg),
    contentType: msg.contentType,
    body: msg.body,
    ack: msg.ack,
    receivedAt: msg.receivedAt,
    storedAt: now,
    expiresAt: now + config.inboundRetentionMs,
    delivery: { status: webhook ? 'pending' : 'none', attempts: 0 },
  };
  if (msg.controlId !== undefined) candidate.controlId = msg.controlId;
  if (msg.messageType !== undefined) candidate.messageType = msg.messageType;

  const { message, created } = await inbound.store.put(candidate, config.inboundDedupeWindowMs);
  // Queued again for a duplicate too: if queueing failed after the store the first time, the
  // relay's resend is what repairs it (the queue dedupes by messageId).
  if (message.delivery.status === 'pending') {
    await inbound.queue.enqueue({ messageId: message.messageId, agentId, channel: message.channel });
  }
  ports.log?.info(created ? 'inbound message stored' : 'inbound duplicate', {
    agentId,
    channel: msg.channel,
    messageId: message.messageId,
    inboundId: msg.inboundId,
    delivery: message.delivery.status,
  });
  if (created) {
    inbound.watcher.notify(agentId);
    if (inbound.events) {
      await inbound.events.publish(message).catch((err: unknown) => {
        ports.log?.warn('publishing the inbound event failed', { agentId, messageId: message.messageId, error: (err as Error).message });
      });
    }
  }
  const replies: CloudMessage[] = [
    { type: 'inboundAck', v: INBOUND_MESSAGE_VERSION, inboundId: msg.inboundId, messageId: message.messageId, duplicate: !created },
  ];
  if (msg.ack === 'app') {
    const known = knownAppAck(message, created);
    if (known)
      replies.push({ type: 'appAck', v: INBOUND_MESSAGE_VERSION, inboundId: msg.inboundId, messageId: message.messageId, ...known });
  }
  return replies;
}

/**
 * What an `app` channel's device can be told now: nothing while the delivery is pending (the
 * delivery sends the appAck); the webhook's ACK once it answered one; an error otherwise.
 */
function knownAppAck(message: InboundRecord, created: boolean): Pick<AppAckMessage, 'response' | 'error'> | undefined {
  const d = message.delivery;
  if (d.status === 'pending') return undefined;
  if (d.appAck !== undefined) return { response: d.appAck };
  if (d.status === 'none') return { error: 'no webhook is set for this agent, so no application ACK can come' };
  if (created) return undefined;
  return {
    error: d.status === 'failed' ? `the webhook delivery failed: ${d.lastError ?? 'no answer'}` : 'the webhook answered without an HL7 ACK',
  };
}
