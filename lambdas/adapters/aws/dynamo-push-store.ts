/**
 * PushStore on DynamoDB. Every state change is a conditional write, so two Lambdas racing on
 * one push (a late result and a redelivered dispatch, say) cannot both win.
 *
 * Retention (PHI): every push item gets its TTL when it is created (expiresAt + retention, so a
 * push that never finishes is still deleted) and again when it finishes (completedAt +
 * retention). Idempotency items carry the same TTL, and one whose TTL has passed counts as
 * absent: DynamoDB deletes expired items up to ~48 h late, and the key and its push can go at
 * different times.
 *
 * Idempotent create: the push and its idempotency item (agentId+key -> pushId, bodyHash) are
 * written in one TransactWriteItems on real DynamoDB, so neither exists without the other.
 * dynalite has no transactions; tests select `idempotentCreate: 'two-step-for-dynalite'`
 * explicitly: a conditional put of the key, then the push. A crash between the two leaves a
 * key with no push; the next create with that key finds it and writes the push under the
 * recorded pushId, so a retry recovers it. Production never takes that path silently.
 *
 * Two items per push: the status item `push#<id>` (everything but the body and its hash;
 * every state change writes it, the waiting caller polls it) and the body item
 * `pushbody#<id>`, written once, before the status item, so a status item never exists
 * without its body (push-body-items.ts, which also says why bodies are always apart and how
 * large ones go to S3). A body in S3 whose push was not written (key taken, write failed) is
 * deleted again, best effort; the bucket's lifecycle rule removes any left over. get and
 * update read the body back (each Lambda keeps recent bodies: they never change). Push items
 * written before the split hold their body (or its S3 key) themselves; they are read as they are.
 */
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { CreatePushResult, PushListPage, PushListQuery, PushStore, QueueLimits } from '../../core/ports';
import { isTerminal, toSummary, type PushRecord, type PushStatus, type PushSummary } from '../../core/records';
import { KEY_FREE, createPushTransaction, idempotencyItem, keyWasTaken, statusAttributes } from './dynamo-create-transaction';
import { PK, TTL, idempotencyKey, isConditionFailure, pushKey, stripKeys } from './dynamo-keys';
import { ALL_INDEX, BY_AGENT_INDEX, LIST_ALL, LIST_ALL_VALUE, LIST_KEY, listAttributes, listKey, parseListKey } from './dynamo-list-index';
import { PushBodyItems, type PushBody } from './push-body-items';
import { QueueCounters } from './queue-counters';
import type { S3BodyStore } from './s3-body-store';

interface IdempotencyItem {
  pushId: string;
  bodyHash: string;
  /** The push's expiresAt (absent on items written before it was recorded). */
  expiresAt?: number;
}

export interface DynamoPushStoreOptions {
  /**
   * 'transaction' (the default, real DynamoDB): push and key in one TransactWriteItems.
   * 'two-step-for-dynalite': for the dynalite emulator only, which lacks TransactWriteItems.
   */
  idempotentCreate?: 'transaction' | 'two-step-for-dynalite';
  /** Where bodies over AWS_INLINE_BODY_BYTES go; without it such a push is refused. */
  bodies?: S3BodyStore;
}

const DAY_SECONDS = 86_400;
/**
 * A push can finish after its expiresAt (the dispatcher notices an overdue push on its next
 * receive, at most 12 h later; see retry-visibility.ts), and its status item's TTL then moves
 * past the create TTL. The body item, never rewritten, keeps this much more so it is there as
 * long as its status item is.
 */
const BODY_TTL_MARGIN_SECONDS = DAY_SECONDS;
/** Attributes that identify the item, or live in the body item; a patch never rewrites them. */
const IMMUTABLE = new Set(['pushId', PK, TTL, LIST_KEY, LIST_ALL, 'body', 'bodyHash', 'bodyKey']);
/** Query round trips per GET /pushes page before answering a short page with a cursor. */
const MAX_LIST_ROUNDS = 5;
/** Rounds of claim -> read -> retry before giving up on a key that keeps changing under us. */
const MAX_CREATE_ROUNDS = 3;

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

export class DynamoPushStore implements PushStore {
  private readonly transactions: boolean;
  private readonly counters: QueueCounters;
  private readonly bodies: PushBodyItems;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly retentionDays: number,
    options: DynamoPushStoreOptions = {},
  ) {
    this.transactions = (options.idempotentCreate ?? 'transaction') === 'transaction';
    this.counters = new QueueCounters(db, table);
    this.bodies = new PushBodyItems(db, table, options.bodies);
  }

  /** Writes the push's body item (first: see the header); returns how to undo its S3 part. */
  private writeBody(push: PushRecord): Promise<() => Promise<void>> {
    return this.bodies.put(push.pushId, { body: push.body, bodyHash: push.bodyHash }, this.createTtl(push) + BODY_TTL_MARGIN_SECONDS);
  }

  /** The domain's push from its status item and its body (`body` read in parallel, when asked). */
  private async fromStored(item: Record<string, unknown>, body?: Promise<PushBody | undefined>): Promise<PushRecord> {
    const push = fromItem(item) as PushRecord & { bodyKey?: string };
    // Written before bodies were apart: the item holds its body, or the S3 key of a large one.
    if (typeof push.body === 'string' || push.bodyKey !== undefined) {
      const { bodyKey, ...rest } = push;
      return { ...rest, ...(await this.bodies.resolve(push.pushId, { body: push.body, bodyKey, bodyHash: push.bodyHash })) };
    }
    const found = await (body ?? this.bodies.get(push.pushId));
    if (!found) throw new Error(`push ${push.pushId} has no body item`);
    return { ...push, ...found };
  }

  /** TTL of a push that has not finished: its expiry plus the retention. */
  private createTtl(push: PushRecord): number {
    return Math.ceil(push.expiresAt / 1000) + this.retentionDays * DAY_SECONDS;
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
    for (let round = 0; round < MAX_CREATE_ROUNDS; round++) {
      // Count the push before anything is written; every path below that writes no new push
      // takes the count back.
      const full = await this.reserve(push, limits);
      if (full) {
        // A replay of an accepted push gets that push back even while its destination is full.
        const earlier = await this.earlierFor(push.agentId, push.idempotencyKey);
        return earlier ? { push: earlier, created: false } : full;
      }
      let claimed: boolean;
      try {
        claimed = this.transactions ? await this.createAtomically(push) : await this.claimKey(push);
      } catch (err) {
        await this.unreserve(push);
        throw err;
      }
      if (claimed) return this.transactions ? { push, created: true } : this.putOrFind(push);
      await this.unreserve(push);

      const idem = await this.readKey(push.agentId, push.idempotencyKey);
      if (!idem) continue; // it expired or was deleted since the claim failed: claim again
      const earlier = await this.get(idem.pushId);
      if (earlier) return { push: earlier, created: false };
      if (this.transactions || (idem.expiresAt !== undefined && idem.expiresAt <= Date.now())) {
        // A live key without its push: written together, so TTL has deleted the push and not
        // yet the key (or, two-step, the push is past expiry, so no crashed create can still be
        // recovered). The key is spent: expire it (only if it still names that push), claim afresh.
        await this.expireKey(push.agentId, push.idempotencyKey, idem.pushId);
        continue;
      }
      // The key is claimed but its push is missing: the claimer crashed (two-step only) or is
      // a moment behind us. With a different body this is a conflict, reported through the hash.
      if (idem.bodyHash !== push.bodyHash) {
        return { push: { ...push, pushId: idem.pushId, bodyHash: idem.bodyHash }, created: false };
      }
      const recovering = { ...push, pushId: idem.pushId };
      const refused = await this.reserve(recovering, limits);
      if (refused) return refused;
      return this.putOrFind(recovering);
    }
    throw new Error('the idempotency key kept changing while the push was created; send the request again');
  }

  /**
   * true when push and key were written together; false when the key is taken. The body item
   * is written first, outside the transaction (a transactional write costs twice): a key taken
   * leaves it unread until its TTL.
   */
  private async createAtomically(push: PushRecord): Promise<boolean> {
    const discard = await this.writeBody(push);
    try {
      await this.db.send(new TransactWriteCommand(createPushTransaction(this.table, push, this.createTtl(push), nowSeconds())));
      return true;
    } catch (err) {
      await discard();
      if (keyWasTaken(err)) return false;
      throw err;
    }
  }

  /** The push an idempotency key already names, if the key is live and its push exists. */
  private async earlierFor(agentId: string, key: string): Promise<PushRecord | undefined> {
    const idem = await this.readKey(agentId, key);
    return idem ? this.get(idem.pushId) : undefined;
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

  async get(pushId: string): Promise<PushRecord | undefined> {
    // Both items at once: the body read (or this Lambda's copy) costs no extra round trip.
    const body = this.bodies.get(pushId);
    body.catch(() => undefined); // awaited below only if the status item exists
    const item = await this.readStatusItem(pushId);
    return item ? this.fromStored(item, body) : undefined;
  }

  /**
   * The push's status alone, from the small status item: what a waiting caller polls
   * (polling-watcher.ts) before it reads the whole push once.
   */
  async readStatus(pushId: string): Promise<PushStatus | undefined> {
    const item = await this.readStatusItem(pushId);
    return item ? (item.status as PushStatus) : undefined;
  }

  private async readStatusItem(pushId: string): Promise<Record<string, unknown> | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: { [PK]: pushKey(pushId) }, ConsistentRead: true }));
    return out.Item;
  }

  /**
   * One agent's pushes from `by-agent`, or all from `all`; the other filters are a
   * FilterExpression. DynamoDB applies Limit before the filter, so this reads on until the
   * page is full, and after MAX_LIST_ROUNDS answers a short page whose cursor is where it stopped.
   */
  queueDepths(agentId: string, destinations: readonly string[]): Promise<Record<string, number>> {
    return this.counters.depths(agentId, destinations);
  }

  async list(query: PushListQuery): Promise<PushListPage> {
    const names: Record<string, string> = { '#pk': query.agentId !== undefined ? 'agentId' : LIST_ALL };
    const values: Record<string, unknown> = { ':pk': query.agentId ?? LIST_ALL_VALUE };
    let keyCondition = '#pk = :pk';
    if (query.after) {
      keyCondition += ' AND #lk < :after';
      names['#lk'] = LIST_KEY;
      values[':after'] = listKey(query.after.createdAt, query.after.pushId);
    }
    const filters: string[] = [];
    if (query.destination !== undefined) {
      names['#dest'] = 'destination';
      values[':dest'] = query.destination;
      filters.push('#dest = :dest');
    }
    if (query.status !== undefined) {
      names['#status'] = 'status';
      values[':status'] = query.status;
      filters.push('#status = :status');
    }
    const found: PushSummary[] = [];
    let start: Record<string, unknown> | undefined;
    for (let round = 0; round < MAX_LIST_ROUNDS; round++) {
      const out = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: query.agentId !== undefined ? BY_AGENT_INDEX : ALL_INDEX,
          KeyConditionExpression: keyCondition,
          ...(filters.length ? { FilterExpression: filters.join(' AND ') } : {}),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ScanIndexForward: false,
          // One more than needed: a full page then knows whether another follows.
          Limit: query.limit + 1,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of out.Items ?? []) found.push(toSummary(fromItem(item)));
      if (found.length > query.limit) {
        const pushes = found.slice(0, query.limit);
        const last = pushes[pushes.length - 1];
        return { pushes, next: { createdAt: last.createdAt, pushId: last.pushId } };
      }
      start = out.LastEvaluatedKey;
      if (!start) return { pushes: found };
    }
    return { pushes: found, next: parseListKey(String(start?.[LIST_KEY])) };
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
      const updated = out.Attributes ? await this.fromStored(out.Attributes) : undefined;
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
          Item: idempotencyItem(push, this.createTtl(push)),
          ConditionExpression: KEY_FREE,
          ExpressionAttributeNames: { '#ttl': TTL },
          ExpressionAttributeValues: { ':now': nowSeconds() },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  /** The key's item, or undefined when it does not exist or its TTL has passed. */
  private async readKey(agentId: string, key: string): Promise<IdempotencyItem | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { [PK]: idempotencyKey(agentId, key) }, ConsistentRead: true }),
    );
    const item = out.Item;
    if (!item || (typeof item[TTL] === 'number' && item[TTL] < nowSeconds())) return undefined;
    return {
      pushId: String(item.pushId),
      bodyHash: String(item.bodyHash),
      expiresAt: typeof item.expiresAt === 'number' ? item.expiresAt : undefined,
    };
  }

  /** Marks a spent key expired, only while it still names `pushId` (a racer may have re-claimed it). */
  private async expireKey(agentId: string, key: string, pushId: string): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { [PK]: idempotencyKey(agentId, key) },
          UpdateExpression: 'SET #ttl = :gone',
          ConditionExpression: '#pushId = :pushId',
          ExpressionAttributeNames: { '#ttl': TTL, '#pushId': 'pushId' },
          ExpressionAttributeValues: { ':gone': 0, ':pushId': pushId },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  }

  /** Writes the push; if a racer recovering the same key wrote it first, returns theirs.
   * Called with the push counted: a push it did not write itself is uncounted again. */
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
    const discard = await this.writeBody(push);
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...statusAttributes(push), ...listAttributes(push), [PK]: pushKey(push.pushId), [TTL]: this.createTtl(push) },
          ConditionExpression: `attribute_not_exists(${PK})`,
        }),
      );
    } catch (err) {
      // Only a put that lost to a racer keeps the object: the racer's item names the same key.
      if (!isConditionFailure(err)) await discard();
      throw err;
    }
  }
}

/** The push as the domain wrote it: without the table's and the indexes' own attributes. */
function fromItem(item: Record<string, unknown>): PushRecord {
  const { [LIST_KEY]: _lk, [LIST_ALL]: _la, ...rest } = stripKeys<Record<string, unknown>>(item);
  return rest as unknown as PushRecord;
}
