/**
 * Open-push counters on DynamoDB, for the queue limits (429 TOO_MANY_QUEUED).
 *
 * Why the limits exist: SQS FIFO looks for messages of available groups only among the first
 * 120,000 messages of the queue (in flight or waiting). One offline device with a backlog of
 * that size hides every other group behind it, and every other site stalls. Bounding open
 * pushes per destination and per agent keeps one stuck device (or a flood of bogus destination
 * names before a relay's hello, each a new group) from filling that window.
 *
 * Two items per push: `queue#[agent, destination]` {queued} and `queue#[agent]` {queued,
 * groups}, moved with atomic ADDs under a condition (`queued < max`), so concurrent Lambdas can
 * never both take the last slot. A push is counted before it is written and uncounted when it
 * turns terminal (or when its write fails): four writes per push, two each way.
 *
 * Not in one transaction with the push itself: dynalite has no TransactWriteItems, and the
 * agent item's condition depends on the destination counter's new value. The cost is a crash
 * window: a Lambda that dies between the counter and the push write (or between a terminal
 * write and the decrement) leaves a counter one too high. Counters never go below zero, and a
 * too-high one only makes a limit bite early by that much (an operator can delete the
 * `queue#…` item of an agent with nothing open to reset it). On real AWS a TransactWriteItems
 * of push + counters would close the window, at twice the write cost per push.
 */
import { BatchGetCommand, GetCommand, type BatchGetCommandOutput, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { QueueFull, QueueLimits } from '../../core/ports';
import { PK, isConditionFailure, queueCountKey } from './dynamo-keys';

export class QueueCounters {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /** Counts a new open push, or says which limit refuses it (then nothing changed). */
  async reserve(agentId: string, destination: string, limits: QueueLimits | undefined): Promise<QueueFull | undefined> {
    let here: number;
    try {
      here = await this.add(queueCountKey(agentId, destination), 1, limits?.perDestination);
    } catch (err) {
      if (isConditionFailure(err)) return 'destination';
      throw err;
    }
    const newGroup = here === 1;
    try {
      await this.add(queueCountKey(agentId), 1, limits?.perAgent, newGroup ? { by: 1, max: limits?.destinations } : undefined);
      return undefined;
    } catch (err) {
      await this.add(queueCountKey(agentId, destination), -1).catch(() => undefined);
      if (!isConditionFailure(err)) throw err;
      const agent = await this.db.send(
        new GetCommand({ TableName: this.table, Key: { [PK]: queueCountKey(agentId) }, ConsistentRead: true }),
      );
      const queued = Number(agent.Item?.queued ?? 0);
      return limits && queued >= limits.perAgent ? 'agent' : 'destinations';
    }
  }

  /**
   * The push turned terminal (or was never written): it no longer counts. Two writes: the
   * destination's counter, then the agent's, which also drops the group when the destination
   * emptied (the common case when pushes go one at a time).
   */
  async release(agentId: string, destination: string): Promise<void> {
    const here = await this.add(queueCountKey(agentId, destination), -1);
    if (here > 0) {
      await this.add(queueCountKey(agentId), -1);
      return;
    }
    try {
      await this.add(queueCountKey(agentId), -1, undefined, { by: -1 }, { strict: true });
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      // One of the two had drifted to zero: each comes down on its own, floored at zero, so
      // the one at zero cannot keep the other up.
      await this.add(queueCountKey(agentId), -1);
      await this.add(queueCountKey(agentId), 0, undefined, { by: -1 });
    }
  }

  /** Open pushes per destination of one agent (GET /agents/{id}): BatchGet, 100 keys a call. */
  async depths(agentId: string, destinations: readonly string[]): Promise<Record<string, number>> {
    const out: Record<string, number> = Object.fromEntries(destinations.map((d) => [d, 0]));
    const byKey = new Map(destinations.map((d) => [queueCountKey(agentId, d), d]));
    const keys = [...byKey.keys()];
    for (let i = 0; i < keys.length; i += 100) {
      let pending: Record<string, unknown>[] | undefined = keys.slice(i, i + 100).map((k) => ({ [PK]: k }));
      // UnprocessedKeys come back under throttling: ask again for those (a few rounds at most).
      for (let round = 0; pending && pending.length > 0 && round < 5; round++) {
        const res: BatchGetCommandOutput = await this.db.send(new BatchGetCommand({ RequestItems: { [this.table]: { Keys: pending } } }));
        for (const item of res.Responses?.[this.table] ?? []) {
          const destination = byKey.get(String(item[PK]));
          if (destination !== undefined) out[destination] = Math.max(0, Number(item.queued ?? 0));
        }
        pending = res.UnprocessedKeys?.[this.table]?.Keys;
      }
    }
    return out;
  }

  /**
   * ADD `by` to `queued` (0: leave it) and `groups.by` to `groups`, under `queued < max` (and
   * `groups < max`) when adding. Returns the new `queued`. A decrement is floored at zero by its
   * condition (`strict`: the failed condition is thrown instead, for the caller to split the write).
   */
  private async add(
    key: string,
    by: 1 | 0 | -1,
    max?: number,
    groups?: { by: 1 | -1; max?: number },
    { strict = false } = {},
  ): Promise<number> {
    // DynamoDB rejects unused names and values: only what the expression uses goes in.
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const adds: string[] = [];
    const conditions: string[] = [];
    if (by !== 0) {
      names['#q'] = 'queued';
      values[':by'] = by;
      adds.push('#q :by');
    }
    if (by > 0 && max !== undefined) {
      conditions.push('(attribute_not_exists(#q) OR #q < :max)');
      values[':max'] = max;
    }
    if (by < 0) conditions.push('#q > :zero');
    if (groups) {
      names['#g'] = 'groups';
      values[':gby'] = groups.by;
      adds.push('#g :gby');
      if (groups.by > 0 && groups.max !== undefined) {
        conditions.push('(attribute_not_exists(#g) OR #g < :gmax)');
        values[':gmax'] = groups.max;
      }
      if (groups.by < 0) conditions.push('#g > :zero');
    }
    if (by < 0 || groups?.by === -1) values[':zero'] = 0;
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { [PK]: key },
          UpdateExpression: `ADD ${adds.join(', ')}`,
          ConditionExpression: conditions.length ? conditions.join(' AND ') : undefined,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return Number(out.Attributes?.queued ?? 0);
    } catch (err) {
      // Already at zero: nothing to take back (a push counted before the counters existed).
      if (!strict && (by < 0 || groups?.by === -1) && isConditionFailure(err)) return 0;
      throw err;
    }
  }
}
