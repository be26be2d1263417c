/**
 * What the API answers, as far as the console relies on it. Everything else a newer server
 * adds is shown as it comes (see fields.tsx), so the console needs no change to show it.
 */
export type Json = Record<string, unknown>;

export interface Agent extends Json {
  agentId: string;
  status: string;
  version?: string;
  connectedAt?: string;
  lastSeenAt?: string;
  devices?: { name: string; kind?: string }[];
  channels?: { name: string; kind?: string }[];
  conflict?: unknown;
}

export interface Push extends Json {
  pushId: string;
  agentId: string;
  destination: string;
  status: string;
  attempts: number;
  createdAt: string;
  expiresAt?: string;
  completedAt?: string;
  ackCode?: string;
  error?: string;
  resendOf?: string;
  contentType?: string;
  /** Only when the token may read it (the server decides). */
  body?: string;
  /** The device's ACK text, likewise. */
  response?: string;
}

export interface InboundMessage extends Json {
  messageId: string;
  agentId?: string;
  channel?: string;
  receivedAt?: string;
  contentType?: string;
  messageType?: string;
  controlId?: string;
  body?: string;
}

export const PUSH_STATUSES = ['queued', 'sent', 'acked', 'nacked', 'failed', 'expired', 'cancelled'] as const;
