/**
 * An inbound message as the API returns it and the webhook receives it: the raw text, plus a
 * parsed form beside it (HL7 segments, or ASTM records) so an application need not parse ER7.
 * The raw `body` stays the reference: a message that does not parse is delivered all the same.
 */
import { messageToJson } from '../../astm/records';
import { ASTM_CONTENT_TYPE, HL7_V2_CONTENT_TYPE } from '../../protocol/content-types';
import { readMessage } from '../../hl7/reader';
import type { Hl7Segment } from '../../hl7/er7-model';
import type { InboundDeliveryStatus, InboundRecord } from './inbound-records';

export type ParsedInbound =
  | { format: 'hl7v2'; segments: Hl7Segment[] }
  | { format: 'astm'; records: ReturnType<typeof messageToJson> }
  | { format: 'unparsed'; error: string };

export interface InboundDeliveryView {
  status: InboundDeliveryStatus;
  attempts: number;
  lastAttemptAt?: string;
  lastError?: string;
  nextAttemptAt?: string;
  deliveredAt?: string;
  appAck?: string;
}

export interface InboundMessageView {
  messageId: string;
  agentId: string;
  channel: string;
  receivedAt: string;
  storedAt: string;
  contentType: string;
  body: string;
  controlId?: string;
  messageType?: string;
  ack: InboundRecord['ack'];
  parsed: ParsedInbound;
  delivery: InboundDeliveryView;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function parseInbound(contentType: string, body: string): ParsedInbound {
  try {
    if (contentType === ASTM_CONTENT_TYPE) return { format: 'astm', records: messageToJson(body) };
    if (contentType === HL7_V2_CONTENT_TYPE) return { format: 'hl7v2', segments: readMessage(body).segments };
    return { format: 'unparsed', error: `content type ${contentType} is not parsed` };
  } catch (err) {
    return { format: 'unparsed', error: (err as Error).message };
  }
}

export function deliveryView(d: InboundRecord['delivery']): InboundDeliveryView {
  const view: InboundDeliveryView = { status: d.status, attempts: d.attempts };
  if (d.lastAttemptAt !== undefined) view.lastAttemptAt = iso(d.lastAttemptAt);
  if (d.lastError !== undefined) view.lastError = d.lastError;
  if (d.nextAttemptAt !== undefined && d.status === 'pending') view.nextAttemptAt = iso(d.nextAttemptAt);
  if (d.deliveredAt !== undefined) view.deliveredAt = iso(d.deliveredAt);
  if (d.appAck !== undefined) view.appAck = d.appAck;
  return view;
}

export function inboundView(m: InboundRecord): InboundMessageView {
  const view: InboundMessageView = {
    messageId: m.messageId,
    agentId: m.agentId,
    channel: m.channel,
    receivedAt: iso(m.receivedAt),
    storedAt: iso(m.storedAt),
    contentType: m.contentType,
    body: m.body,
    ack: m.ack,
    parsed: parseInbound(m.contentType, m.body),
    delivery: deliveryView(m.delivery),
  };
  if (m.controlId !== undefined) view.controlId = m.controlId;
  if (m.messageType !== undefined) view.messageType = m.messageType;
  return view;
}
