/**
 * The two global secondary indexes GET /pushes reads, declared once for the CDK construct and
 * the emulator tests. Only push items carry `listKey`, so agent and idempotency items stay out
 * of both indexes (sparse indexes).
 *
 * - `by-agent`: partition `agentId`, sort `listKey`: one agent's pushes, newest first.
 * - `all`: partition `listAll` (one constant value), sort `listKey`: every push, newest first.
 *   One partition takes about 1,000 writes/s
 *   (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.ThroughputConsiderations);
 *   a push changes its projected attributes about three times (created, sent, finished), so this
 *   index carries a few hundred pushes a second before it throttles. If a deployment outgrows
 *   that, shard `listAll` by day and walk the days.
 *
 * Both project only the summary fields (PUSH_SUMMARY_FIELDS): no body, no ACK text (PHI), and
 * writes of dispatch bookkeeping (receipt, connection, retry time) never touch the indexes.
 * GSI reads are eventually consistent: a push appears in lists a moment after it is created.
 */
import { PUSH_SUMMARY_FIELDS, type PushRecord } from '../../core/records';

export const LIST_KEY = 'listKey';
export const LIST_ALL = 'listAll';
export const LIST_ALL_VALUE = 'push';
export const BY_AGENT_INDEX = 'by-agent';
export const ALL_INDEX = 'all';

export interface ListIndexDefinition {
  indexName: string;
  partitionKey: string;
  sortKey: string;
  /** Non-key attributes the index projects. */
  nonKeyAttributes: string[];
}

const projected = (partitionKey: string) => PUSH_SUMMARY_FIELDS.filter((f) => f !== partitionKey) as string[];

export const LIST_INDEXES: ListIndexDefinition[] = [
  { indexName: BY_AGENT_INDEX, partitionKey: 'agentId', sortKey: LIST_KEY, nonKeyAttributes: projected('agentId') },
  { indexName: ALL_INDEX, partitionKey: LIST_ALL, sortKey: LIST_KEY, nonKeyAttributes: [...PUSH_SUMMARY_FIELDS] },
];

/**
 * GET /agents: a sparse index of the agent items only (`agentList` is set on them alone), so
 * listing agents never reads the pushes. Agents are few and small: projects everything.
 */
export const AGENTS_INDEX = 'agents';
export const AGENT_LIST = 'agentList';
export const AGENT_LIST_VALUE = 'agent';
export const AGENTS_INDEX_DEFINITION = { indexName: AGENTS_INDEX, partitionKey: AGENT_LIST, sortKey: 'agentId' };

/** Sorts as the newest-first order does: fixed-width createdAt, then the push id. */
export function listKey(createdAt: number, pushId: string): string {
  return `${String(createdAt).padStart(15, '0')}#${pushId}`;
}

export function parseListKey(key: string): { createdAt: number; pushId: string } {
  const at = key.indexOf('#');
  return { createdAt: Number(key.slice(0, at)), pushId: key.slice(at + 1) };
}

/** The attributes a push item carries for the indexes. */
export function listAttributes(push: Pick<PushRecord, 'createdAt' | 'pushId'>): Record<string, string> {
  return { [LIST_KEY]: listKey(push.createdAt, push.pushId), [LIST_ALL]: LIST_ALL_VALUE };
}
