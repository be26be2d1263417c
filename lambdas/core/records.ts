import type { ChannelInfo, DeviceProtocol, DeviceProtocols } from '../../protocol/messages';
/** Records the domain core keeps. Plain data: both adapter sets store them as they are. */
import type { ReturnAck } from '../../protocol/messages';

export type PushStatus = 'queued' | 'sent' | 'acked' | 'nacked' | 'failed' | 'expired' | 'cancelled';
export const TERMINAL_STATUSES: readonly PushStatus[] = ['acked', 'nacked', 'failed', 'expired', 'cancelled'];
export const PUSH_STATUSES: readonly PushStatus[] = ['queued', 'sent', ...TERMINAL_STATUSES];
export const isTerminal = (s: PushStatus): boolean => TERMINAL_STATUSES.includes(s);

export interface PushRecord {
  pushId: string;
  agentId: string;
  /** Device name, without the `Device/` prefix. */
  destination: string;
  contentType: string;
  /** The message (PHI). Never logged. */
  body: string;
  /** sha256 hex of the normalised body: idempotency compares this, not the body. */
  bodyHash: string;
  returnAck: ReturnAck;
  idempotencyKey?: string;
  status: PushStatus;
  ackCode?: string;
  response?: string;
  error?: string;
  /** Times the push was handed to a relay connection. */
  attempts: number;
  /** Epoch ms. */
  createdAt: number;
  sentAt?: number;
  completedAt?: number;
  expiresAt: number;
  /** Epoch ms before which it is not sent again (after the device was unreachable). */
  retryAt?: number;
  /** The relay connection it was last dispatched to. */
  connectionId?: string;
  /** Set by the queue adapter when it needs one (the SQS receipt handle, for early release). */
  queueReceipt?: string;
  /**
   * The relay's result for a push that had already expired after it was dispatched (the
   * device got it; the result came back too late). The status stays `expired`: it is terminal
   * and the caller may already have been told; this records that the device did answer.
   */
  lateResult?: LateResult;
  /** The push this one re-sends (POST /pushes/{id}/resend). */
  resendOf?: string;
}

export interface LateResult {
  status: 'acked' | 'nacked' | 'failed';
  ackCode?: string;
  response?: string;
  error?: string;
  /** Epoch ms when the cloud received it. */
  receivedAt: number;
}

export interface AgentRecord {
  agentId: string;
  /** `hmac-sha256$...` (see secrets.ts), or an older `scrypt$...` hash until the agent's next connect. */
  secretHash: string;
  createdAt: number;
  /** The current relay connection, if one is open. */
  connectionId?: string;
  connectedAt?: number;
  /** The relay process behind the connection (RELAY_INSTANCE_HEADER), when it sent one. */
  relayInstance?: string;
  lastSeenAt?: number;
  /** The last time a second connection was refused because this one was live, and how often. */
  conflictAt?: number;
  conflictCount?: number;
  version?: string;
  devices: string[];
  /** What each device speaks, from the relay's last hello (absent from relays before it was added). */
  deviceProtocols?: DeviceProtocols;
  /** The channels the relay announced in its last hello (protocol v2); absent before. */
  channels?: ChannelInfo[];
  /** PATCH /agents/{id} {enabled:false}: its relay is refused and its pushes get 409. */
  disabled?: boolean;
}

/** The wire shape of a push (HTTP responses, GET /pushes/{id}). Dates as ISO strings. */
export interface PushView {
  pushId: string;
  agentId: string;
  destination: string;
  status: PushStatus;
  ackCode?: string;
  response?: string;
  error?: string;
  attempts: number;
  createdAt: string;
  expiresAt: string;
  completedAt?: string;
  /** Set on an `expired` push whose result arrived after it expired: delivered after expiry. */
  deliveredAfterExpiry?: { status: LateResult['status']; ackCode?: string; response?: string; error?: string; receivedAt: string };
  resendOf?: string;
  /** Only while queued: why it waits (its relay is not connected, the device refused…). */
  waitReason?: { code: string; message: string };
}

export interface AgentView {
  agentId: string;
  status: 'connected' | 'disconnected' | 'disabled';
  connectedAt?: string;
  lastSeenAt?: string;
  version?: string;
  /**
   * kind: what the device speaks (mllp or astm; absent when the relay did not say). queueDepth:
   * its open pushes (queued or sent), on GET /agents/{agentId} only.
   */
  devices: { name: string; kind?: DeviceProtocol; queueDepth?: number }[];
  /** A second relay tried to connect with this agent's credentials while it was live. */
  conflict?: { at: string; count: number };
}

/** What the queue carries: a pointer to the push, never the body. */
export interface QueueItem {
  pushId: string;
  agentId: string;
  destination: string;
  /**
   * Epoch ms, for a queue that expires the pushes waiting behind a group's head (the hub's).
   * Not sent to SQS: there the read path expires them (lifecycle.ts, expireIfOverdue).
   */
  expiresAt?: number;
}

/** A push as lists show it: no body and no ACK text (both may carry PHI). */
export type PushSummary = Pick<
  PushRecord,
  | 'pushId'
  | 'agentId'
  | 'destination'
  | 'contentType'
  | 'status'
  | 'ackCode'
  | 'error'
  | 'attempts'
  | 'createdAt'
  | 'completedAt'
  | 'expiresAt'
  | 'resendOf'
>;

export const PUSH_SUMMARY_FIELDS = [
  'pushId',
  'agentId',
  'destination',
  'contentType',
  'status',
  'ackCode',
  'error',
  'attempts',
  'createdAt',
  'completedAt',
  'expiresAt',
  'resendOf',
] as const satisfies readonly (keyof PushSummary)[];

export function toSummary(push: PushSummary): PushSummary {
  const out: Record<string, unknown> = {};
  for (const field of PUSH_SUMMARY_FIELDS) if (push[field] !== undefined) out[field] = push[field];
  return out as PushSummary;
}
