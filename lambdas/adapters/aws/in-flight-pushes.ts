/**
 * An agent's pushes that are out at a relay (`sent`), with the SQS receipt handle of each, so
 * the relay's hello can make them visible at once (SqsPushQueue.wake). A sent push's message
 * is invisible for resultTimeout; a relay that reconnected has lost the old connection's
 * pushes, and without this would get them only when that timer runs out.
 *
 * Found on hello, not recorded on every push: the dispatcher already stores the receipt on the
 * push (`queueReceipt`, for the early release), so a hello queries the `by-agent` index for the
 * agent's recent `sent` pushes and reads their receipts. Recording them elsewhere on each send
 * would cost a write per push; hellos are rare (a reconnect: API Gateway ends a connection
 * after 2 h at most, so ~12 a day per relay, plus outages).
 *
 * Only pushes created within MAX_EXPIRES_IN_S can still be open, so the query reads no further
 * back. It reads the index items of that window (~250 bytes each, eventually consistent: ~32
 * per RRU), at most MAX_PAGES pages (1 MB each); a busier agent's older sent pushes come back
 * by their own timer, as before, and the log says so.
 */
import { BatchGetCommand, QueryCommand, type BatchGetCommandOutput, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { MAX_EXPIRES_IN_S } from '../../core/core-config';
import type { Log } from '../../core/ports';
import { PK, pushKey } from './dynamo-keys';
import { BY_AGENT_INDEX, LIST_KEY, listKey } from './dynamo-list-index';

export interface InFlightPush {
  pushId: string;
  receipt: string;
}

/** Query pages (1 MB each, ~4,000 pushes) read per hello before giving up on the rest. */
export const MAX_PAGES = 10;
/** BatchGetItem takes at most 100 keys. */
const BATCH = 100;

export class InFlightPushes {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly log?: Log,
  ) {}

  async list(agentId: string, now = Date.now()): Promise<InFlightPush[]> {
    const pushIds = await this.sentPushIds(agentId, now);
    const found: InFlightPush[] = [];
    for (let i = 0; i < pushIds.length; i += BATCH) {
      let pending: Record<string, unknown>[] | undefined = pushIds.slice(i, i + BATCH).map((id) => ({ [PK]: pushKey(id) }));
      // UnprocessedKeys come back under throttling: ask again for those (a few rounds at most).
      for (let round = 0; pending && pending.length > 0 && round < 5; round++) {
        const out: BatchGetCommandOutput = await this.db.send(
          new BatchGetCommand({
            RequestItems: {
              [this.table]: {
                Keys: pending,
                ConsistentRead: true,
                ProjectionExpression: 'pushId, #s, queueReceipt',
                ExpressionAttributeNames: { '#s': 'status' },
              },
            },
          }),
        );
        for (const item of out.Responses?.[this.table] ?? []) {
          // The index lags the table: only what is still sent, with a receipt, is woken.
          if (item.status === 'sent' && typeof item.queueReceipt === 'string') {
            found.push({ pushId: String(item.pushId), receipt: item.queueReceipt });
          }
        }
        pending = out.UnprocessedKeys?.[this.table]?.Keys;
      }
    }
    return found;
  }

  private async sentPushIds(agentId: string, now: number): Promise<string[]> {
    const ids: string[] = [];
    let start: Record<string, unknown> | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const out = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: BY_AGENT_INDEX,
          KeyConditionExpression: 'agentId = :a AND #lk >= :from',
          FilterExpression: '#s = :sent',
          ProjectionExpression: 'pushId',
          ExpressionAttributeNames: { '#lk': LIST_KEY, '#s': 'status' },
          ExpressionAttributeValues: { ':a': agentId, ':from': listKey(now - MAX_EXPIRES_IN_S * 1000, ''), ':sent': 'sent' },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of out.Items ?? []) ids.push(String(item.pushId));
      start = out.LastEvaluatedKey;
      if (!start) return ids;
    }
    this.log?.warn('too many recent pushes to find every sent one on hello; the rest wait for their result timeout', {
      agentId,
      pages: MAX_PAGES,
    });
    return ids;
  }
}
