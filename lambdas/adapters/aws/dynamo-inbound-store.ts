/**
 * InboundStore on the single table. Items per message (keys in dynamo-keys.ts):
 *  - `inmsg#<messageId>`: the record (get, updateDelivery); the body, or the count of its parts
 *    (dynamo-inbound-body.ts) when it is over 32 KB;
 *  - `inseq#[agent, seq]`: {messageId, channel}: which message holds the agent's sequence number;
 *  - `inctr#[agent]`: {seq}: the agent's last committed sequence number (never expires);
 *  - `indup#[agent, channel, dedupeKey]`: {messageId, until}: the dedupe claim, TTL = its window.
 * Message, sequence and part items carry TTL = the record's expiresAt (retention).
 *
 * Cursor: the agent's sequence number. Each put moves the counter from n to n + 1 under the
 * condition `seq = n`, in the same TransactWriteItems as the sequence item, the message and the
 * dedupe claim. Concurrent writers of one agent therefore take turns (the loser re-reads the
 * counter and tries n + 2), and sequence numbers are dense and become visible in order. A
 * reader takes the counter with a strongly consistent GetItem, which is serializable with
 * transactions (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-isolation):
 * every number up to it is fully written, so the reader walks them with consistent BatchGetItems
 * and a missing one can only have been deleted by TTL, never be still in flight. No gaps, no
 * repeats, no settle delay, no GSI (whose eventual consistency would allow both): the table
 * needs no new index. One sequence per agent, so one cursor serves both the agent's list and a
 * channel's; a channel filter skips other channels' sequence items (~100 bytes) without reading
 * their messages, and `next` is where the walk stopped, which may be past the last message
 * returned. Order per channel is the order of commits, which is the relay's send order for
 * one channel (it sends the next only after the previous is stored).
 *
 * Cost: writers of one agent serialise on the counter item: each attempt is one transaction of
 * ~10 ms, so one agent stores on the order of 100 messages/s; different agents never contend.
 *
 * dynalite has no transactions; tests select `transactions: 'two-step-for-dynalite'`: the dedupe
 * claim, the message, the sequence claim (a conditional put of its item), then the counter
 * (raised, never lowered). Readers still see only complete messages (the counter moves last);
 * a crash between steps can leave a stored message that is never listed: emulator only.
 */
import {
  BatchGetCommand,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { DomainError } from '../../core/domain-errors';
import type { InboundDelivery, InboundRecord } from '../../core/inbound-records';
import type { InboundListPage, InboundListQuery, InboundStore, PutInboundResult } from '../../core/ports';
import { InboundBodyParts } from './dynamo-inbound-body';
import {
  BODY_PARTS,
  COUNTER_ACTION,
  DEDUPE_ACTION,
  DEDUPE_FREE,
  FLOOR,
  MESSAGE_ACTION,
  SEQ,
  UNTIL,
  cancellationCodes,
  cursorOf,
  dedupeItem,
  messageItem,
  putInboundTransaction,
  seqItem,
  seqOf,
  ttlOf,
} from './dynamo-inbound-transaction';
import { PK, TTL, inboundCounterKey, inboundDedupeKey, inboundKey, inboundSeqKey, isConditionFailure } from './dynamo-keys';

export interface DynamoInboundStoreOptions {
  /** 'transaction' (the default, real DynamoDB); 'two-step-for-dynalite' for the emulator only. */
  transactions?: 'transaction' | 'two-step-for-dynalite';
  /** Override of the inline-body threshold and part size (tests). */
  bodyParts?: InboundBodyParts;
}

/** Attempts at the counter before giving up (each lost to a concurrent writer of the agent). */
const MAX_PUT_ATTEMPTS = 25;
/** BatchGetItem's key limit. */
const BATCH_KEYS = 100;
/** Batches of sequence items one list call walks before answering a short page. */
const MAX_LIST_ROUNDS = 5;
/** Reads of a dedupe claim whose message is not written yet (two-step only) before giving up. */
const MAX_CLAIM_WAITS = 40;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** Backoff after losing the counter to another writer: short and jittered, so turns spread. */
const backoff = (attempt: number) => sleep(Math.random() * Math.min(100, 5 * 2 ** Math.min(attempt, 5)));

export class DynamoInboundStore implements InboundStore {
  private readonly transactions: boolean;
  private readonly parts: InboundBodyParts;
  /** The counter as the last list in this container saw it, per agent (InboundWatcher's baseline). */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    options: DynamoInboundStoreOptions = {},
  ) {
    this.transactions = (options.transactions ?? 'transaction') === 'transaction';
    this.parts = options.bodyParts ?? new InboundBodyParts(db, table);
  }

  async put(message: Omit<InboundRecord, 'cursor'>, dedupeWindowMs: number): Promise<PutInboundResult> {
    const count = this.parts.partsFor(message.body);
    if (count > 0) {
      // Don't write megabytes of parts for a resend of a stored message.
      const earlier = await this.earlier(message);
      if (earlier) return { message: earlier, created: false };
      await this.parts.write(message.messageId, message.body, ttlOf(message.expiresAt));
    }
    const result = this.transactions
      ? await this.putAtomically(message, count, dedupeWindowMs)
      : await this.putInSteps(message, count, dedupeWindowMs);
    if (!result.created && count > 0 && result.message.messageId !== message.messageId) await this.parts.remove(message.messageId, count);
    return result;
  }

  private async putAtomically(message: Omit<InboundRecord, 'cursor'>, count: number, windowMs: number): Promise<PutInboundResult> {
    for (let attempt = 0; attempt < MAX_PUT_ATTEMPTS; attempt++) {
      const prev = await this.counter(message.agentId);
      const record: InboundRecord = { ...message, cursor: cursorOf(prev + 1) };
      try {
        await this.db.send(new TransactWriteCommand(putInboundTransaction(this.table, record, prev, count, windowMs)));
        return { message: record, created: true };
      } catch (err) {
        const codes = cancellationCodes(err);
        if (!codes) throw err;
        if (codes[DEDUPE_ACTION] === 'ConditionalCheckFailed' || codes[MESSAGE_ACTION] === 'ConditionalCheckFailed') {
          const earlier = (await this.earlier(message)) ?? (await this.get(message.messageId));
          // created when it is our own message: an earlier attempt of this put committed.
          if (earlier) return { message: earlier, created: earlier.messageId === message.messageId };
          continue; // the claim expired between the transaction and the read: try again
        }
        if (codes[COUNTER_ACTION] === 'ConditionalCheckFailed' || codes.includes('TransactionConflict')) {
          await backoff(attempt);
          continue;
        }
        throw err;
      }
    }
    throw new Error(`could not take a sequence number for agent ${message.agentId}: too many concurrent writers`);
  }

  private async putInSteps(message: Omit<InboundRecord, 'cursor'>, count: number, windowMs: number): Promise<PutInboundResult> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: dedupeItem(message, windowMs),
          ConditionExpression: DEDUPE_FREE,
          ExpressionAttributeNames: { '#until': UNTIL },
          ExpressionAttributeValues: { ':now': message.storedAt },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      for (let wait = 0; wait < MAX_CLAIM_WAITS; wait++) {
        const earlier = await this.earlier(message);
        if (earlier) return { message: earlier, created: false };
        await sleep(25); // the claimer has not written its message yet
      }
      throw new Error('a concurrent store of the same message did not finish; retry');
    }
    let seq = (await this.counter(message.agentId)) + 1;
    for (let attempt = 0; ; attempt++) {
      if (attempt === MAX_PUT_ATTEMPTS) throw new Error(`could not take a sequence number for agent ${message.agentId}`);
      const record: InboundRecord = { ...message, cursor: cursorOf(seq) };
      // The message before its sequence item: a reader that finds the one finds the other.
      await this.db.send(new PutCommand({ TableName: this.table, Item: messageItem(record, seq, count) }));
      try {
        await this.db.send(
          new PutCommand({ TableName: this.table, Item: seqItem(record, seq), ConditionExpression: `attribute_not_exists(${PK})` }),
        );
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
        seq = Math.max(seq + 1, (await this.counter(message.agentId)) + 1);
        continue;
      }
      await this.raiseCounter(message.agentId, seq);
      return { message: record, created: true };
    }
  }

  /** Two-step only: the counter goes up to `seq`, never down. */
  private async raiseCounter(agentId: string, seq: number): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { [PK]: inboundCounterKey(agentId) },
          UpdateExpression: 'SET #seq = :seq',
          ConditionExpression: 'attribute_not_exists(#seq) OR #seq < :seq',
          ExpressionAttributeNames: { '#seq': SEQ },
          ExpressionAttributeValues: { ':seq': seq },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err; // a later writer raised it past us already
    }
  }

  /** The message a live dedupe claim names, if the claim is live and its message exists. */
  private async earlier(message: Omit<InboundRecord, 'cursor'>): Promise<InboundRecord | undefined> {
    const out = await this.db.send(
      new GetCommand({
        TableName: this.table,
        Key: { [PK]: inboundDedupeKey(message.agentId, message.channel, message.dedupeKey) },
        ConsistentRead: true,
      }),
    );
    const claim = out.Item;
    if (!claim || typeof claim[UNTIL] !== 'number' || claim[UNTIL] <= message.storedAt) return undefined;
    return this.get(String(claim.messageId));
  }

  /** The agent's last committed sequence number (0: none yet), strongly consistent. */
  private async counter(agentId: string): Promise<number> {
    return (await this.counterItem(agentId)).seq;
  }

  private async counterItem(agentId: string, consistent = true): Promise<{ seq: number; floor: number }> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { [PK]: inboundCounterKey(agentId) }, ConsistentRead: consistent }),
    );
    return { seq: Number(out.Item?.[SEQ] ?? 0), floor: Number(out.Item?.[FLOOR] ?? 0) };
  }

  async get(messageId: string): Promise<InboundRecord | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: { [PK]: inboundKey(messageId) }, ConsistentRead: true }));
    return out.Item ? this.fromItem(out.Item) : undefined;
  }

  async list(query: InboundListQuery): Promise<InboundListPage> {
    let start: number;
    const { seq: high, floor } = await this.counterItem(query.agentId);
    this.seen.set(query.agentId, high);
    if (query.after !== undefined) {
      const after = seqOf(query.after);
      if (after === undefined) throw new DomainError('INVALID_QUERY', 'after must be a cursor from an earlier page or message');
      start = after;
    } else {
      start = floor;
    }
    const picked: { seq: number; messageId: string }[] = [];
    let pos = start;
    let firstFound: number | undefined;
    // Unfiltered, every sequence item is a message to return; filtered, most may be skipped.
    const batch = query.channel === undefined ? Math.min(BATCH_KEYS, Math.max(query.limit, 1)) : BATCH_KEYS;
    for (let round = 0; round < MAX_LIST_ROUNDS && pos < high && picked.length < query.limit; round++) {
      const seqs = Array.from({ length: Math.min(batch, high - pos) }, (_, i) => pos + 1 + i);
      const found = await this.seqItems(query.agentId, seqs);
      for (const seq of seqs) {
        pos = seq;
        const item = found.get(seq);
        if (!item) continue; // deleted by TTL: every number up to `high` was committed
        firstFound ??= seq;
        if (query.channel !== undefined && item.channel !== query.channel) continue;
        picked.push({ seq, messageId: item.messageId });
        if (picked.length === query.limit) break;
      }
    }
    if (query.after === undefined) await this.raiseFloor(query.agentId, floor, (firstFound ?? pos + 1) - 1);
    const messages = await this.messages(picked.map((p) => p.messageId));
    return { messages, ...(pos > start || query.after !== undefined ? { next: cursorOf(pos) } : {}) };
  }

  /** The counter this container's last list of the agent saw (the watcher's baseline). */
  lastSeen(agentId: string): number | undefined {
    return this.seen.get(agentId);
  }

  /** The counter, eventually consistent (half the read cost): the watcher's cheap check. */
  async highWater(agentId: string): Promise<number> {
    return (await this.counterItem(agentId, false)).seq;
  }

  /**
   * Reads that start from the oldest kept begin at the floor: sequence numbers below it were all
   * deleted by TTL, so the walk does not pass them again. Best effort.
   */
  private async raiseFloor(agentId: string, floor: number, to: number): Promise<void> {
    if (to <= floor) return;
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { [PK]: inboundCounterKey(agentId) },
          UpdateExpression: 'SET #floor = :to',
          ConditionExpression: 'attribute_exists(#seq) AND (attribute_not_exists(#floor) OR #floor < :to)',
          ExpressionAttributeNames: { '#floor': FLOOR, '#seq': SEQ },
          ExpressionAttributeValues: { ':to': to },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  }

  private async seqItems(agentId: string, seqs: number[]): Promise<Map<number, { messageId: string; channel: string }>> {
    const found = new Map<number, { messageId: string; channel: string }>();
    const items = await this.batchGet(
      seqs.map((seq) => inboundSeqKey(agentId, seq)),
      '#pk, messageId, channel',
    );
    const bySeqKey = new Map(seqs.map((seq) => [inboundSeqKey(agentId, seq), seq]));
    for (const item of items) {
      const seq = bySeqKey.get(String(item[PK]));
      if (seq !== undefined) found.set(seq, { messageId: String(item.messageId), channel: String(item.channel) });
    }
    return found;
  }

  /** The messages, in the order of `ids`; one TTL has deleted since its sequence item was read is left out. */
  private async messages(ids: string[]): Promise<InboundRecord[]> {
    if (ids.length === 0) return [];
    const items = await this.batchGet(ids.map(inboundKey));
    const byKey = new Map(items.map((item) => [String(item[PK]), item]));
    const records = await Promise.all(
      ids.map(async (id) => {
        const item = byKey.get(inboundKey(id));
        return item && this.fromItem(item);
      }),
    );
    return records.filter((r): r is InboundRecord => r !== undefined);
  }

  /** Consistent BatchGetItem of any number of keys, retrying unprocessed ones. */
  private async batchGet(keys: string[], projection?: string): Promise<Record<string, unknown>[]> {
    const found: Record<string, unknown>[] = [];
    let pending = keys.map((k) => ({ [PK]: k }));
    for (let round = 0; pending.length > 0; round++) {
      if (round > 0) await sleep(Math.min(1000, 20 * 2 ** round));
      if (round === 10) throw new Error('DynamoDB kept returning unprocessed keys');
      const chunk = pending.slice(0, BATCH_KEYS);
      const out = await this.db.send(
        new BatchGetCommand({
          RequestItems: {
            [this.table]: {
              Keys: chunk,
              ConsistentRead: true,
              ...(projection ? { ProjectionExpression: projection, ExpressionAttributeNames: { '#pk': PK } } : {}),
            },
          },
        }),
      );
      found.push(...(out.Responses?.[this.table] ?? []));
      const unprocessed = (out.UnprocessedKeys?.[this.table]?.Keys ?? []) as { [PK]: string }[];
      pending = [...unprocessed, ...pending.slice(BATCH_KEYS)];
      if (unprocessed.length === 0) round = -1; // progress: no backoff before the next chunk
    }
    return found;
  }

  async updateDelivery(messageId: string, patch: Partial<InboundDelivery>, expectAttempts: number): Promise<InboundRecord | undefined> {
    const names: Record<string, string> = { '#d': 'delivery', '#attempts': 'attempts' };
    const values: Record<string, unknown> = { ':expect': expectAttempts };
    const sets: string[] = [];
    const removes: string[] = [];
    Object.entries(patch).forEach(([field, value], i) => {
      names[`#f${i}`] = field;
      if (value === undefined) {
        removes.push(`#d.#f${i}`);
      } else {
        values[`:v${i}`] = value;
        sets.push(`#d.#f${i} = :v${i}`);
      }
    });
    const expression = [sets.length ? `SET ${sets.join(', ')}` : '', removes.length ? `REMOVE ${removes.join(', ')}` : '']
      .filter(Boolean)
      .join(' ');
    if (!expression) {
      const current = await this.get(messageId);
      return current?.delivery.attempts === expectAttempts ? current : undefined;
    }
    const condition = `attribute_exists(${PK}) AND #d.#attempts = :expect`;
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { [PK]: inboundKey(messageId) },
          UpdateExpression: expression,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return out.Attributes ? this.fromItem(out.Attributes) : undefined;
    } catch (err) {
      if (isConditionFailure(err)) return undefined;
      throw err;
    }
  }

  /** The record as the core wrote it; a body stored in parts is read back. */
  private async fromItem(item: Record<string, unknown>): Promise<InboundRecord | undefined> {
    const { [PK]: _pk, [TTL]: _ttl, [SEQ]: _seq, [BODY_PARTS]: parts, ...record } = item;
    if (typeof parts === 'number') {
      const body = await this.parts.read(String(record.messageId), parts);
      if (body === undefined) return undefined; // TTL is deleting it
      return { ...record, body } as unknown as InboundRecord;
    }
    return record as unknown as InboundRecord;
  }
}
