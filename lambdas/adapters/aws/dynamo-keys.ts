/**
 * The single-table key scheme. Every access is by exact key (no queries, no indexes), so one
 * table with a string partition key `pk` is enough: one PITR/encryption/TTL setting, one IAM
 * resource, one thing to back up. Prefixes keep the item kinds apart.
 */
export const PK = 'pk';
/** Epoch seconds; DynamoDB TTL deletes the item some time after it. */
export const TTL = 'ttl';

export const pushKey = (pushId: string): string => `push#${pushId}`;
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

/** Drops the storage-only attributes so callers see the domain record as it was written. */
export function stripKeys<T>(item: Record<string, unknown>): T {
  const { [PK]: _pk, [TTL]: _ttl, ...record } = item;
  return record as T;
}

export function isConditionFailure(err: unknown): boolean {
  return (err as { name?: string } | null)?.name === 'ConditionalCheckFailedException';
}
