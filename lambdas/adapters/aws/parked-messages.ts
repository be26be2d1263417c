/**
 * Which of an agent's queue messages are parked (invisible for a long retry delay), with the
 * receipt handle that can make each visible again. SQS cannot find an invisible message by
 * anything but its receipt handle, so the dispatcher records one per (agent, destination) group
 * here, and the agent's hello makes them visible at once instead of after up to MAX_SECONDS.
 *
 * One item per agent (`parked#<agentId>`), one attribute per destination: read with a single
 * GetItem on hello, and kept off the agent item, which every dispatch and connect reads (item
 * size is what DynamoDB bills). Only a group's head can be parked, so an entry per destination
 * is enough. Receipt handles are up to 1,024 characters on real SQS (fauxqs's are 36): at ~1.2 KB
 * an entry, DynamoDB's 400 KB item limit holds ~300 parked destinations; a park beyond that fails
 * and that group falls back to its retry timer. Everything here is best effort: an entry whose
 * push has finished is not removed (that would cost a write on every push); the next park of its
 * group overwrites it, and a hello wakes it harmlessly (SQS refuses the stale receipt) and drops it.
 */
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { QueueItem } from '../../core/records';
import { PK, TTL, parkedKey } from './dynamo-keys';

export interface ParkedEntry {
  destination: string;
  pushId: string;
  receipt: string;
}

const PREFIX = 'd#';
/** SQS keeps a message at most 14 days; the item needs to live no longer. */
const TTL_SECONDS = 14 * 86_400;

export class ParkedMessages {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async park(item: QueueItem, receipt: string): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { [PK]: parkedKey(item.agentId) },
        UpdateExpression: 'SET #d = :entry, #ttl = :ttl',
        ExpressionAttributeNames: { '#d': PREFIX + item.destination, '#ttl': TTL },
        ExpressionAttributeValues: {
          ':entry': { pushId: item.pushId, receipt },
          ':ttl': Math.floor(Date.now() / 1000) + TTL_SECONDS,
        },
      }),
    );
  }

  async list(agentId: string): Promise<ParkedEntry[]> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: { [PK]: parkedKey(agentId) }, ConsistentRead: true }));
    const entries: ParkedEntry[] = [];
    for (const [name, value] of Object.entries(out.Item ?? {})) {
      if (!name.startsWith(PREFIX) || typeof value !== 'object' || value === null) continue;
      const { pushId, receipt } = value as { pushId?: unknown; receipt?: unknown };
      if (typeof pushId === 'string' && typeof receipt === 'string')
        entries.push({ destination: name.slice(PREFIX.length), pushId, receipt });
    }
    return entries;
  }

  /** Drops entries that were woken, unless a newer park replaced them meanwhile. */
  async forget(agentId: string, entries: ParkedEntry[]): Promise<void> {
    // One UpdateItem per 50 entries keeps the expression well inside DynamoDB's 4 KB limit.
    for (let i = 0; i < entries.length; i += 50) {
      await this.removeIf(
        agentId,
        entries.slice(i, i + 50).map((e) => ({ destination: e.destination, value: e.receipt })),
      );
    }
  }

  private async removeIf(agentId: string, checks: { destination: string; value: string }[]): Promise<void> {
    if (checks.length === 0) return;
    const names: Record<string, string> = { '#f': 'receipt' };
    const values: Record<string, string> = {};
    const conditions = checks.map((c, i) => {
      names[`#d${i}`] = PREFIX + c.destination;
      values[`:v${i}`] = c.value;
      return `#d${i}.#f = :v${i}`;
    });
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { [PK]: parkedKey(agentId) },
          UpdateExpression: `REMOVE ${checks.map((_, i) => `#d${i}`).join(', ')}`,
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (err) {
      // Changed or gone meanwhile: the newer entry stays; a stale one is harmless (see wake).
      if ((err as { name?: string }).name !== 'ConditionalCheckFailedException') throw err;
    }
  }
}
