/**
 * Inbound messages as the core stores them: what a device sent to a relay channel, and the
 * state of its delivery to the application's webhook.
 */
import type { AckMode } from '../../protocol/messages';

export type InboundDeliveryStatus =
  /** No webhook was set when it was stored: the application pulls it. */
  | 'none'
  | 'pending'
  | 'delivered'
  /** Retries ran out (the retry period passed); the channel's next message goes on. */
  | 'failed';

export interface InboundDelivery {
  status: InboundDeliveryStatus;
  attempts: number;
  lastAttemptAt?: number;
  /** Why the last attempt failed (HTTP status or network error; never the body). */
  lastError?: string;
  nextAttemptAt?: number;
  deliveredAt?: number;
  /** For an `app` channel: the HL7 ACK the webhook answered with. */
  appAck?: string;
}

export interface InboundRecord {
  messageId: string;
  agentId: string;
  channel: string;
  /** The relay's id (protocol `inboundId`). */
  inboundId: string;
  /** Unique per (agentId, channel) within the dedupe window: MSH-10 when present, else `relay:<inboundId>`. */
  dedupeKey: string;
  contentType: string;
  body: string;
  controlId?: string;
  messageType?: string;
  ack: AckMode;
  /** Epoch ms: when the relay received it, and when the cloud stored it. */
  receivedAt: number;
  storedAt: number;
  /** Epoch ms after which the store may drop it (retention). */
  expiresAt: number;
  /** The store's position for GET /agents/{id}/messages?after= (opaque). */
  cursor: string;
  delivery: InboundDelivery;
}

/** An agent's webhook. `secretSealed` is the signing secret encrypted by the core. */
export interface WebhookRecord {
  agentId: string;
  url: string;
  secretSealed: string;
  createdAt: number;
}
