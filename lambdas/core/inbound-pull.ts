/**
 * Reading inbound messages: GET /messages/{id}, and GET /agents/{id}/messages, a long poll with
 * a cursor. The store orders messages and guarantees no gaps (see InboundStore.list); this
 * waits for new ones when there are none yet, subscribing before it reads so a message stored
 * in between wakes it.
 */
import { isChannelName } from '../../protocol/names';
import { getAgent } from './agent-service';
import { DEFAULT_PULL_LIMIT, MAX_PULL_LIMIT, MAX_PULL_WAIT_S } from './core-config';
import { DomainError } from './domain-errors';
import { inboundView, type InboundMessageView } from './inbound-view';
import type { Ports } from './ports';

export interface PullQuery {
  channel?: string;
  after?: string;
  limit: number;
  waitMs: number;
}

export interface PullPage {
  messages: InboundMessageView[];
  /** Where to continue from; absent only while nothing was ever read (keep reading without `after`). */
  next?: string;
}

const MAX_CURSOR_LENGTH = 512;

function integer(params: Record<string, string | undefined>, name: string, min: number, max: number, fallback: number): number {
  const raw = params[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new DomainError('INVALID_QUERY', `${name} must be a whole number from ${min} to ${max}`);
  }
  return Number(raw);
}

export function parsePullQuery(params: Record<string, string | undefined>): PullQuery {
  const query: PullQuery = {
    limit: integer(params, 'limit', 1, MAX_PULL_LIMIT, DEFAULT_PULL_LIMIT),
    waitMs: integer(params, 'wait', 0, MAX_PULL_WAIT_S, 0) * 1000,
  };
  const { channel, after } = params;
  if (channel !== undefined && channel !== '') {
    if (!isChannelName(channel)) throw new DomainError('INVALID_QUERY', `channel ${JSON.stringify(channel)} is not a channel name`);
    query.channel = channel;
  }
  if (after !== undefined && after !== '') {
    if (after.length > MAX_CURSOR_LENGTH) throw new DomainError('INVALID_QUERY', 'after is not a cursor this API returned');
    query.after = after;
  }
  return query;
}

/** `deadline` (epoch ms): the platform's own limit on the request, which the wait never passes. */
export async function pullMessages(ports: Ports, agentId: string, query: PullQuery, deadline?: number): Promise<PullPage> {
  await getAgent(ports, agentId);
  const inbound = ports.inbound;
  const until = Math.min(ports.clock.now() + query.waitMs, deadline ?? Infinity);
  const read = async (): Promise<PullPage> => {
    const page = await inbound.store.list({ agentId, channel: query.channel, after: query.after, limit: query.limit });
    const now = ports.clock.now();
    // Past retention but not yet dropped by the store (DynamoDB's TTL runs up to days late).
    const messages = page.messages.filter((m) => m.expiresAt > now).map(inboundView);
    const next = page.next ?? query.after;
    return next === undefined ? { messages } : { messages, next };
  };
  const remaining = until - ports.clock.now();
  if (remaining <= 0) return read();
  // Listen first, then read: a message stored in between still wakes the wait.
  const stop = new AbortController();
  const woken = inbound.watcher.waitForMessage(agentId, remaining, stop.signal);
  try {
    const first = await read();
    if (first.messages.length > 0 || first.next !== query.after) return first;
    await woken;
  } finally {
    stop.abort();
  }
  // Woken (a message of this agent, perhaps of another channel) or timed out: one more read.
  return read();
}

export async function readInbound(ports: Ports, messageId: string): Promise<InboundMessageView> {
  const message = messageId.length <= 128 ? await ports.inbound.store.get(messageId) : undefined;
  if (!message || message.expiresAt <= ports.clock.now()) throw new DomainError('MESSAGE_NOT_FOUND', `message ${messageId} does not exist`);
  return inboundView(message);
}
