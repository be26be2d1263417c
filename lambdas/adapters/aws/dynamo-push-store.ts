/**
 * PushStore on DynamoDB. Every state change is a conditional write, so two Lambdas racing on
 * one push (a late result and a redelivered dispatch, say) cannot both win.
 *
 * Idempotency without transactions (dynalite has none): first a conditional put of an
 * idempotency item (agentId+key -> pushId, bodyHash), then the push itself. A crash between
 * the two leaves an idempotency item with no push; the next create with that key finds it
 * and writes the push under the recorded pushId, so a retry recovers it.
 */
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CreatePushResult, PushStore, QueueLimits } from '../../core/ports';
import { isTerminal, type PushRecord, type PushStatus } from '../../core/records';
import { PK, TTL, idempotencyKey, isConditionFailure, pushKey, stripKeys } from './dynamo-keys';
import { QueueCounters } from './queue-counters';

interface IdempotencyItem {
  pushId: string;
  bodyHash: string;
}

const DAY_SECONDS = 86_400;
/** Attributes that identify the item; a patch never rewrites them. */
const IMMUTABLE = new Set(['pushId', PK, TTL]);

export class DynamoPushStore implements PushStore {
  private readonly counters: QueueCounters;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly retentionDays: number,
  ) {
    this.counters = new QueueCounters(db, table);
  }

  async create(push: PushRecord, limits?: QueueLimits): Promise<CreatePushResult> {
    if (push.idempotencyKey === undefined) {
      const full = await this.reserve(push, limits);
      if (full) return full;
      try {
        await this.putPush(push);
      } catch (err) {
        await this.unreserve(push);
        throw err;
      }
      return { push, created: true };
    }
    const claimed = await this.claimKey(push);
    if (claimed) {
      const full = await this.reserve(push, limits);
      if (full) {
        // Free the key again: the caller was refused, and may retry with it later.
        await this.releaseKey(push);
        return full;
      }
      return this.putOrFind(push);
    }

    const idem = await this.readKey(push.agentId, push.idempotencyKey);
    const earlier = await this.get(idem.pushId);
    if (earlier) return { push: earlier, created: false };
    // The key is claimed but its push is missing: the claimer crashed (or is a moment
    // behind us). With a different body this is a conflict, reported through the hash.
    if (idem.bodyHash !== push.bodyHash) {
      return { push: { ...push, pushId: idem.pushId, bodyHash: idem.bodyHash }, created: false };
    }
    const full = await this.reserve(push, limits);
    if (full) return full;
    return this.putOrFind({ ...push, pushId: idem.pushId });
  }

  /** Counts a new open push (see queue-counters.ts); the refusal to return when a limit is reached. */
  private async reserve(push: PushRecord, limits: QueueLimits | undefined): Promise<CreatePushResult | undefined> {
    if (isTerminal(push.status)) return undefined;
    const full = await this.counters.reserve(push.agentId, push.destination, limits);
    return full ? { push, created: false, full } : undefined;
  }

  /** Takes back a reserve() for a push that was not written. */
  private async unreserve(push: PushRecord): Promise<void> {
    if (!isTerminal(push.status)) await this.uncount(push);
  }

  private async uncount(push: PushRecord): Promise<void> {
    try {
      await this.counters.release(push.agentId, push.destination);
    } catch {
      // Best effort: a counter left one too high only makes the limit bite a push early.
    }
  }

  private async releaseKey(push: PushRecord): Promise<void> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { [PK]: idempotencyKey(push.agentId, push.idempotencyKey!) },
          ConditionExpression: '#pushId = :pushId',
          ExpressionAttributeNames: { '#pushId': 'pushId' },
          ExpressionAttributeValues: { ':pushId': push.pushId },
        }),
      );
    } catch {
      // Left claimed: a retry with the key finds no push and writes it then (create's recovery path).
    }
  }

  async get(pushId: string): Promise<PushRecord | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: { [PK]: pushKey(pushId) }, ConsistentRead: true }));
    return out.Item ? stripKeys<PushRecord>(out.Item) : undefined;
  }

  async update(
    pushId: string,
    from: readonly PushStatus[],
    patch: Partial<PushRecord>,
    expectAttempts?: number,
  ): Promise<PushRecord | undefined> {
    if (from.length === 0) return undefined;
    const names: Record<string, string> = { '#status': 'status' };
    const values: Record<string, unknown> = {};
    const sets: string[] = [];
    const removes: string[] = [];
    let i = 0;
    for (const [field, value] of Object.entries(patch)) {
      if (IMMUTABLE.has(field)) continue;
      const name = `#f${i}`;
      names[name] = field;
      if (value === undefined) {
        removes.push(name);
      } else {
        values[`:v${i}`] = value;
        sets.push(`${name} = :v${i}`);
      }
      i++;
    }
    // Finished pushes are deleted by TTL after the retention period.
    let ttl: number | undefined;
    if (patch.status && isTerminal(patch.status)) {
      const completedAt = patch.completedAt ?? Date.now();
      ttl = Math.ceil(completedAt / 1000) + this.retentionDays * DAY_SECONDS;
      names['#ttl'] = TTL;
      values[':ttl'] = ttl;
      sets.push('#ttl = :ttl');
    }
    const statusValues = from.map((status, n) => {
      values[`:s${n}`] = status;
      return `:s${n}`;
    });
    let condition = `attribute_exists(${PK}) AND #status IN (${statusValues.join(', ')})`;
    if (expectAttempts !== undefined) {
      names['#attempts'] = 'attempts';
      values[':attempts'] = expectAttempts;
      condition += ' AND #attempts = :attempts';
    }
    const clauses = [sets.length ? `SET ${sets.join(', ')}` : '', removes.length ? `REMOVE ${removes.join(', ')}` : ''];
    const expression = clauses.filter(Boolean).join(' ');
    if (!expression) {
      // Nothing to change: still honour the condition, as a caller may use it as a check.
      const current = await this.get(pushId);
      const matches = current && from.includes(current.status) && (expectAttempts === undefined || current.attempts === expectAttempts);
      return matches ? current : undefined;
    }
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { [PK]: pushKey(pushId) },
          UpdateExpression: expression,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      const updated = out.Attributes ? stripKeys<PushRecord>(out.Attributes) : undefined;
      if (updated && ttl !== undefined) {
        await this.expireKeyWithPush(updated, ttl);
        // The conditional write above moved it from an open status exactly once: uncount it once.
        if (from.every((s) => !isTerminal(s))) await this.uncount(updated);
      }
      return updated;
    } catch (err) {
      if (isConditionFailure(err)) return undefined;
      throw err;
    }
  }

  /**
   * The idempotency item was claimed to live until the push's expiresAt plus the retention, so
   * it would outlive a push finished early. A key whose push TTL deleted looks like a crashed
   * create, and create() would write the push again under its old id: a second delivery. So
   * the key gets the push's TTL. Best effort: the push's own transition has already happened.
   */
  private async expireKeyWithPush(push: PushRecord, ttl: number): Promise<void> {
    if (push.idempotencyKey === undefined) return;
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { [PK]: idempotencyKey(push.agentId, push.idempotencyKey) },
          UpdateExpression: 'SET #ttl = :ttl',
          ConditionExpression: `attribute_exists(${PK}) AND #pushId = :pushId`,
          ExpressionAttributeNames: { '#ttl': TTL, '#pushId': 'pushId' },
          ExpressionAttributeValues: { ':ttl': ttl, ':pushId': push.pushId },
        }),
      );
    } catch {
      // The claim's own, later TTL still applies.
    }
  }

  private async claimKey(push: PushRecord): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            [PK]: idempotencyKey(push.agentId, push.idempotencyKey!),
            pushId: push.pushId,
            bodyHash: push.bodyHash,
            // The key lives as long as its push can: until it expires, plus the retention.
            [TTL]: Math.ceil(push.expiresAt / 1000) + this.retentionDays * DAY_SECONDS,
          },
          ConditionExpression: `attribute_not_exists(${PK})`,
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  private async readKey(agentId: string, key: string): Promise<IdempotencyItem> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { [PK]: idempotencyKey(agentId, key) }, ConsistentRead: true }),
    );
    if (!out.Item) throw new Error('idempotency item vanished after a failed claim');
    return { pushId: String(out.Item.pushId), bodyHash: String(out.Item.bodyHash) };
  }

  /** Writes the push; if a racer recovering the same key wrote it first, returns theirs. */
  /** Called with the push counted: a push it did not write itself is uncounted again. */
  private async putOrFind(push: PushRecord): Promise<CreatePushResult> {
    try {
      await this.putPush(push);
      return { push, created: true };
    } catch (err) {
      await this.unreserve(push);
      if (!isConditionFailure(err)) throw err;
      const existing = await this.get(push.pushId);
      if (!existing) throw err;
      return { push: existing, created: false };
    }
  }

  private async putPush(push: PushRecord): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: { ...push, [PK]: pushKey(push.pushId) },
        ConditionExpression: `attribute_not_exists(${PK})`,
      }),
    );
  }
}
