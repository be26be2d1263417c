/**
 * The relay <-> cloud WebSocket protocol. One home, imported by both `edge-agent/` (the relay)
 * and `lambdas/` (the cloud handlers, on AWS and in the hub). Documented in docs/PROTOCOL.md.
 *
 * Every message is one JSON object. Relay -> cloud messages carry `action` because API Gateway
 * routes WebSocket messages on `$request.body.action`. Cloud -> relay messages carry `type`.
 */

import type { ProtocolErrorCode } from './error-codes';
import type { HEARTBEAT_ACTION, HELLO_ACTION, RESULT_ACTION } from './relay-routes';

export const PROTOCOL_VERSION = 1;

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
export type ResultStatus = 'acked' | 'nacked' | 'failed';

// ---- relay -> cloud ----

export interface HelloMessage {
  action: typeof HELLO_ACTION;
  v: number;
  /** Relay software version, shown on GET /agents/{id}. */
  version: string;
  /** Device names from the relay's own config. Never addresses. */
  devices: string[];
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

export type RelayMessage = HelloMessage | ResultMessage | HeartbeatMessage;

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
}

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
}

export type CloudMessage = PushMessage | HelloAckMessage | HeartbeatAckMessage | ResultAckMessage | ErrorMessage;

export class ProtocolError extends Error {
  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}
