/**
 * The single-table key scheme. Almost every access is by exact key (the list routes read the
 * GSIs of dynamo-list-index.ts; inbound lists read by key too, see dynamo-inbound-store.ts), so one
 * table with a string partition key `pk` is enough: one PITR/encryption/TTL setting, one IAM
 * resource, one thing to back up. Prefixes keep the item kinds apart.
 */
export const PK = 'pk';
/** Epoch seconds; DynamoDB TTL deletes the item some time after it. */
export const TTL = 'ttl';

export const pushKey = (pushId: string): string => `push#${pushId}`;
/** A push's body, written once and kept apart from its status item (push-body-items.ts). */
export const pushBodyKey = (pushId: string): string => `pushbody#${pushId}`;
export const agentKey = (agentId: string): string => `agent#${agentId}`;
/** The agent's parked queue messages (parked-messages.ts); never read with the agent item. */
export const parkedKey = (agentId: string): string => `parked#${agentId}`;
/** Open-push counters: per (agent, destination), and per agent (see queue-counters.ts). */
export const queueCountKey = (agentId: string, destination?: string): string =>
  `queue#${JSON.stringify(destination === undefined ? [agentId] : [agentId, destination])}`;
/** A mapping template, and the one item listing the templates' names (no scan, no extra index). */
export const templateKey = (name: string): string => `template#${name}`;
export const TEMPLATE_NAMES_KEY = 'templates';
/** A FHIR hook's settings, per (agent, destination). */
export const fhirHookKey = (agentId: string, destination: string): string => `fhirhook#${JSON.stringify([agentId, destination])}`;
/** JSON-encoding the pair keeps (a#b, c) and (a, b#c) apart. */
export const idempotencyKey = (agentId: string, key: string): string => `idem#${JSON.stringify([agentId, key])}`;

/** An inbound message, by its id (dynamo-inbound-store.ts). */
export const inboundKey = (messageId: string): string => `inmsg#${messageId}`;
/** Part `n` of an inbound body too large to keep in the message item. */
export const inboundBodyPartKey = (messageId: string, n: number): string => `inbody#${JSON.stringify([messageId, n])}`;
/** The agent's inbound sequence counter: the last sequence number committed. */
export const inboundCounterKey = (agentId: string): string => `inctr#${JSON.stringify([agentId])}`;
/** Sequence number `seq` of an agent's inbound messages: which message holds it. */
export const inboundSeqKey = (agentId: string, seq: number): string => `inseq#${JSON.stringify([agentId, seq])}`;
/** Dedupe of inbound messages by (agent, channel, MSH-10 or relay id), for the dedupe window. */
export const inboundDedupeKey = (agentId: string, channel: string, key: string): string =>
  `indup#${JSON.stringify([agentId, channel, key])}`;
/** An agent's webhook. */
export const webhookKey = (agentId: string): string => `webhook#${JSON.stringify([agentId])}`;

/** Drops the storage-only attributes so callers see the domain record as it was written. */
export function stripKeys<T>(item: Record<string, unknown>): T {
  const { [PK]: _pk, [TTL]: _ttl, ...record } = item;
  return record as T;
}

export function isConditionFailure(err: unknown): boolean {
  return (err as { name?: string } | null)?.name === 'ConditionalCheckFailedException';
}
