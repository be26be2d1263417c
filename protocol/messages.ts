/**
 * The relay <-> cloud WebSocket protocol. One home, imported by both `edge-agent/` (the relay)
 * and `lambdas/` (the cloud handlers, on AWS and in the hub). Documented in docs/PROTOCOL.md.
 *
 * Every message is one JSON object. Relay -> cloud messages carry `action` because API Gateway
 * routes WebSocket messages on `$request.body.action`. Cloud -> relay messages carry `type`.
 */

import type { ProtocolErrorCode } from './error-codes';
import type { CHUNK_ACTION, HEARTBEAT_ACTION, HELLO_ACTION, INBOUND_ACTION, RESULT_ACTION } from './relay-routes';

/**
 * The newest protocol version, sent in the upgrade's PROTOCOL_HEADER. Version 2 added inbound
 * messages (`inbound`, `inboundAck`, `appAck`), `chunk` for messages over 128 KB, and the
 * optional `hello.channels` and `error.inboundId`.
 */
export const PROTOCOL_VERSION = 2;
/**
 * Each message carries the version that introduced its kind: the version 1 kinds keep `"v": 1`,
 * so a version 1 relay still reads every message a version 2 cloud sends it (until it is sent a
 * version 2 kind), and a version 1 cloud still reads a version 2 relay's hello and results.
 */
export const BASE_MESSAGE_VERSION = 1;
/** The version of the kinds version 2 added. */
export const INBOUND_MESSAGE_VERSION = 2;

// The limits' home is limits.ts; re-exported here, where their importers have always found them.
export { MAX_FRAME_BYTES, MAX_MESSAGE_BYTES } from './limits';

/** Headers the relay sends on the WebSocket upgrade. The secret never goes in the URL. */
export const AGENT_ID_HEADER = 'x-edgepush-agent-id';
export const AGENT_SECRET_HEADER = 'x-edgepush-agent-secret';
export const PROTOCOL_HEADER = 'x-edgepush-protocol';
/**
 * Optional: a random id the relay picks once per process. A reconnect from the same relay
 * process replaces its own earlier connection at once; any other second connection is refused
 * while the agent's connection is live (see AGENT_CONNECTED_CLOSE).
 */
export const RELAY_INSTANCE_HEADER = 'x-edgepush-relay-instance';

/**
 * One relay per agent, and the live connection wins: a second connection with the same
 * credentials is closed with this code and reason (the hub), or refused at the upgrade with
 * HTTP 409 (API Gateway, where only $connect can refuse). The relay then backs off for minutes.
 */
export const AGENT_CONNECTED_CLOSE = { code: 4409, status: 409, reason: 'agent already connected' } as const;

export type ReturnAck = 'first' | 'application';
/**
 * How a relay channel acknowledges its devices. fast: once in the relay's on-disk spool;
 * cloud: once the cloud has stored it; app: with the ACK the application's webhook returned.
 */
export type AckMode = 'fast' | 'cloud' | 'app';
export const ACK_MODES: readonly AckMode[] = ['fast', 'cloud', 'app'];
export type ChannelProtocol = 'mllp' | 'astm';
/** What a device speaks: the same protocols as a channel. */
export type DeviceProtocol = ChannelProtocol;
export const DEVICE_PROTOCOLS: readonly DeviceProtocol[] = ['mllp', 'astm'];
/** Device name -> protocol, as `hello.deviceProtocols` carries it. */
export type DeviceProtocols = Record<string, DeviceProtocol>;

/** A channel a relay listens on, announced in `hello` (never its address). */
export interface ChannelInfo {
  name: string;
  protocol: ChannelProtocol;
  ack: AckMode;
}
export type ResultStatus = 'acked' | 'nacked' | 'failed';

// ---- relay -> cloud ----

export interface HelloMessage {
  action: typeof HELLO_ACTION;
  v: number;
  /** Relay software version, shown on GET /agents/{id}. */
  version: string;
  /** Device names from the relay's own config. Never addresses. */
  devices: string[];
  /**
   * (v2, optional) The channels it listens on. The cloud accepts `inbound` only for these. An
   * ASTM device also receives on a channel of its own name (protocol astm).
   */
  channels?: ChannelInfo[];
  /**
   * (optional) What each device speaks, by name, for GET /agents/{id}. A cloud that does not
   * know the field ignores it; a relay that does not send it leaves the kinds unknown.
   */
  deviceProtocols?: DeviceProtocols;
}

export interface ResultMessage {
  action: typeof RESULT_ACTION;
  v: number;
  pushId: string;
  status: ResultStatus;
  /** MSA-1 of the device's ACK, when there was one. */
  ackCode?: string;
  /** The ACK text (ER7), when there was one. */
  response?: string;
  /** Why it failed, for status `failed` (never contains the message body). */
  error?: string;
  /**
   * For `failed`: true when nothing reached the device (it refused the connection or was
   * unreachable), so the cloud may send the push again later, until it expires.
   */
  retryable?: boolean;
}

export interface HeartbeatMessage {
  action: typeof HEARTBEAT_ACTION;
  v: number;
}

/**
 * (v2) A message a device sent to one of the relay's channels. The relay sends the messages of
 * one channel one at a time, in the order received, each until the cloud answers `inboundAck`
 * (or an `error` with this inboundId); a resend after a reconnect carries the same inboundId.
 */
export interface InboundMessage {
  action: typeof INBOUND_ACTION;
  v: number;
  /** The relay's id for this message, unique per agent (a UUID). */
  inboundId: string;
  channel: string;
  contentType: string;
  /** ER7 (segments separated by `\r`) or ASTM records (separated by `\r`), as received. */
  body: string;
  /** Epoch ms when the relay received it from the device. */
  receivedAt: number;
  /** The channel's ACK mode; for `app` the relay waits for `appAck`. */
  ack: AckMode;
  /** MSH-10, when the message has one: the cloud deduplicates by (agent, channel, controlId). */
  controlId?: string;
  /** MSH-9 as `type^trigger` (e.g. `ORU^R01`), when present. */
  messageType?: string;
}

/**
 * (v2) One part of a message too large for one WebSocket message (API Gateway: 128 KB), in
 * either direction. The receiver joins `data` (base64 of a byte range of the whole message's
 * UTF-8 JSON) in `index` order, checks `bytes` and `sha256`, then handles the whole message as
 * if it had arrived in one piece. Relay -> cloud carries `action`, cloud -> relay `type`.
 */
export interface ChunkFields {
  v: number;
  /** Unique per sender and message (a UUID). */
  chunkId: string;
  /** 0-based; chunks may arrive in any order. */
  index: number;
  count: number;
  /** Byte length of the whole message. */
  bytes: number;
  /** Hex SHA-256 of the whole message's bytes. */
  sha256: string;
  /** Base64 of this part's bytes. */
  data: string;
}

export interface RelayChunkMessage extends ChunkFields {
  action: typeof CHUNK_ACTION;
}

export type RelayMessage = HelloMessage | ResultMessage | HeartbeatMessage | InboundMessage | RelayChunkMessage;

// ---- cloud -> relay ----

export interface PushMessage {
  type: 'push';
  v: number;
  pushId: string;
  /** A device name from the relay's config (without a `Device/` prefix). */
  destination: string;
  contentType: string;
  /** ER7 text, segments separated by `\r`. */
  body: string;
  returnAck: ReturnAck;
  /** Epoch ms after which the relay should not start sending it. */
  expiresAt: number;
  /**
   * Optional: the pushId of the push to the same destination the cloud sent just before this
   * one and has no result for yet (it sends several ahead). The relay delivers this one only
   * right after that one: if that one is unknown to it or failed retryably, this one fails
   * retryably too, unsent, and the cloud sends both again in order. Relays that predate it
   * ignore it.
   */
  after?: string;
  /**
   * Optional, with `after`: the ms the push had left when the cloud sent it. It may wait at the
   * relay behind the pushes before it; the relay measures this on its own clock from arrival
   * (free of clock skew) and does not start it once it is used up, as the cloud would have
   * expired it in its queue.
   */
  ttlMs?: number;
}

/** The relay's reason for a push it did not start because its time was up. */
export const EXPIRED_BEFORE_DELIVERY = 'expired before delivery';
/**
 * How a relay's retryable failure starts when the push never reached its device because the
 * push before it on the same destination was not delivered (pipelined pushes, in order). The
 * cloud does not count such a bounce as a delivery attempt.
 */
export const NOT_SENT_BEHIND = 'not sent: the push before it was not delivered';

export interface HelloAckMessage {
  type: 'helloAck';
  v: number;
}

export interface HeartbeatAckMessage {
  type: 'heartbeatAck';
  v: number;
}

/** Receipt for a result, so the relay knows the cloud has recorded it. */
export interface ResultAckMessage {
  type: 'resultAck';
  v: number;
  pushId: string;
}

export interface ErrorMessage {
  type: 'error';
  v: number;
  /** One of PROTOCOL_ERROR_CODES; a string, so a relay reads codes a later cloud adds. */
  code: string;
  error: string;
  /** The push the error is about, when there is one. */
  pushId?: string;
  /**
   * (v2) The inbound message the error is about: the cloud did not store it. The relay keeps it
   * (fast: in the spool, retried later; cloud/app: the device gets AE).
   */
  inboundId?: string;
}

/** (v2) The cloud stored an inbound message (or had already: `duplicate`). */
export interface InboundAckMessage {
  type: 'inboundAck';
  v: number;
  inboundId: string;
  /** The cloud's id for the message (for a duplicate, the earlier message's). */
  messageId: string;
  duplicate: boolean;
}

/**
 * (v2) For an `app` channel: what the application answered. `response` is its HL7 ACK (ER7);
 * without one, `error` says why (webhook failed or answered no HL7) and the relay answers AE.
 */
export interface AppAckMessage {
  type: 'appAck';
  v: number;
  inboundId: string;
  messageId: string;
  response?: string;
  error?: string;
}

export interface CloudChunkMessage extends ChunkFields {
  type: 'chunk';
}

export type CloudMessage =
  | PushMessage
  | HelloAckMessage
  | HeartbeatAckMessage
  | ResultAckMessage
  | ErrorMessage
  | InboundAckMessage
  | AppAckMessage
  | CloudChunkMessage;

export class ProtocolError extends Error {
  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}
