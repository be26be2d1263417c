/** Records the domain core keeps. Plain data: both adapter sets store them as they are. */
import type { ReturnAck } from '../../protocol/messages';

export type PushStatus = 'queued' | 'sent' | 'acked' | 'nacked' | 'failed' | 'expired';
export const TERMINAL_STATUSES: readonly PushStatus[] = ['acked', 'nacked', 'failed', 'expired'];
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
}

export interface AgentRecord {
  agentId: string;
  /** scrypt hash, `scrypt$N$r$p$salt$hash` (see secrets.ts). */
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
}

/** The wire shape of a push (HTTP responses, GET /pushes/{id}). Dates as ISO strings. */
export interface PushView {
  pushId: string;
  status: PushStatus;
  ackCode?: string;
  response?: string;
  error?: string;
  attempts: number;
  createdAt: string;
  completedAt?: string;
}

export interface AgentView {
  agentId: string;
  status: 'connected' | 'disconnected';
  connectedAt?: string;
  lastSeenAt?: string;
  version?: string;
  devices: { name: string }[];
  /** A second relay tried to connect with this agent's credentials while it was live. */
  conflict?: { at: string; count: number };
}

/** What the queue carries: a pointer to the push, never the body. */
export interface QueueItem {
  pushId: string;
  agentId: string;
  destination: string;
}
