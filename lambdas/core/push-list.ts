/** Listing pushes: the query's rules and the opaque cursor, the same on every adapter set. */
import { DomainError } from './domain-errors';
import type { Ports, PushListPage, PushListPosition, PushListQuery } from './ports';
import { getPush } from './push-service';
import { PUSH_STATUSES, toSummary, type PushStatus, type PushSummary } from './records';

export const DEFAULT_LIST_LIMIT = 50;
export const MAX_LIST_LIMIT = 500;

/** The newest-first order every store keeps: createdAt, then pushId, both descending. */
export function newestFirst(a: PushListPosition, b: PushListPosition): number {
  if (a.createdAt !== b.createdAt) return b.createdAt - a.createdAt;
  return a.pushId < b.pushId ? 1 : a.pushId > b.pushId ? -1 : 0;
}

/** true when `p` comes strictly after `after` in the newest-first order. */
export function isAfter(p: PushListPosition, after: PushListPosition | undefined): boolean {
  return after === undefined || newestFirst(after, p) < 0;
}

export function matchesQuery(p: PushSummary, q: PushListQuery): boolean {
  return (
    (q.agentId === undefined || p.agentId === q.agentId) &&
    (q.destination === undefined || p.destination === q.destination) &&
    (q.status === undefined || p.status === q.status)
  );
}

/**
 * The cursor is opaque to callers (base64url JSON); it only ever names a position, never a
 * filter, so a caller that changes filters between pages gets a consistent, if odd, answer.
 */
export function encodeCursor(p: PushListPosition): string {
  return Buffer.from(JSON.stringify([p.createdAt, p.pushId])).toString('base64url');
}

export function decodeCursor(cursor: string): PushListPosition {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && Number.isSafeInteger(value[0]) && typeof value[1] === 'string') {
      return { createdAt: value[0] as number, pushId: value[1] };
    }
  } catch {
    // fall through
  }
  throw new DomainError('INVALID_QUERY', 'cursor is not one this API returned');
}

/** Parses GET /pushes query parameters into a store query. */
export function parseListQuery(params: Record<string, string | undefined>): PushListQuery {
  const query: PushListQuery = { limit: DEFAULT_LIST_LIMIT };
  if (params.agentId) query.agentId = params.agentId;
  if (params.destination) query.destination = params.destination.replace(/^Device\//, '');
  if (params.status) {
    if (!PUSH_STATUSES.includes(params.status as PushStatus)) {
      throw new DomainError('INVALID_QUERY', `status must be one of ${PUSH_STATUSES.join(', ')}`);
    }
    query.status = params.status as PushStatus;
  }
  if (params.limit !== undefined && params.limit !== '') {
    const limit = Number(params.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
      throw new DomainError('INVALID_QUERY', `limit must be an integer from 1 to ${MAX_LIST_LIMIT}`);
    }
    query.limit = limit;
  }
  if (params.cursor) query.after = decodeCursor(params.cursor);
  return query;
}

/**
 * A page of pushes (only of `agents`, when a token is restricted to them), with the expire-on-read rule GET /pushes/{id} applies: a push still `queued`
 * past its expiresAt (behind a stuck head, on AWS where nothing looks behind a group's head) is
 * expired before it is shown, and dropped when it no longer matches the filter (a page may come
 * back short; `next` still says where to go on).
 */
export async function listPushes(ports: Ports, query: PushListQuery, agents?: readonly string[]): Promise<PushListPage> {
  // A token restricted to one agent reads that agent's pushes; to several, pages are filtered.
  const scoped = agents?.length === 1 && query.agentId === undefined ? { ...query, agentId: agents[0] } : query;
  const page = await ports.pushes.list(scoped);
  const allowed = agents === undefined ? page.pushes : page.pushes.filter((p) => agents.includes(p.agentId));
  const now = ports.clock.now();
  if (!allowed.some((p) => p.status === 'queued' && p.expiresAt <= now)) return { ...page, pushes: allowed };
  const pushes: PushSummary[] = [];
  for (const p of allowed) {
    if (p.status !== 'queued' || p.expiresAt > now) {
      pushes.push(p);
      continue;
    }
    const current = await getPush(ports, p.pushId).catch(() => undefined);
    // Gone since the page was read (retention): nothing to show.
    if (current && matchesQuery(current, query)) pushes.push(toSummary(current));
  }
  return { ...page, pushes };
}

/**
 * For stores that hold every push in one ordered sequence (memory, lmdb): takes up to `limit`
 * matches from `candidates` (already newest first, already after the cursor).
 */
export function takePage(candidates: Iterable<PushSummary>, query: PushListQuery): PushListPage {
  const pushes: PushSummary[] = [];
  for (const p of candidates) {
    if (!matchesQuery(p, query)) continue;
    if (pushes.length === query.limit) {
      const last = pushes[pushes.length - 1];
      return { pushes, next: { createdAt: last.createdAt, pushId: last.pushId } };
    }
    pushes.push(p);
  }
  return { pushes };
}
