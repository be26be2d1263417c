/**
 * The items of one stored inbound message, and the TransactWriteItems request that stores them
 * in one atomic step on real DynamoDB (see dynamo-inbound-store.ts). Pure functions, so an
 * offline spec test can check the request against AWS's documented rules
 * (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html):
 * at most 100 actions and 4 MB in all, no two actions on one item, every expression name and
 * value used and none unused.
 */
import { createHash } from 'node:crypto';
import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import type { InboundRecord } from '../../core/inbound-records';
import { PK, TTL, inboundCounterKey, inboundDedupeKey, inboundKey, inboundSeqKey } from './dynamo-keys';

/** The actions, in order: read CancellationReasons by these indexes. */
export const COUNTER_ACTION = 0;
export const SEQ_ACTION = 1;
export const MESSAGE_ACTION = 2;
export const DEDUPE_ACTION = 3;

/** Attributes of the counter item. */
export const SEQ = 'seq';
export const FLOOR = 'floor';
/** Attributes of the message item the record does not have. */
export const BODY_PARTS = 'bodyParts';
/** The dedupe item's end of window, epoch ms (TTL is in seconds and deletes late). */
export const UNTIL = 'until';

export const ttlOf = (epochMs: number): number => Math.ceil(epochMs / 1000);

/** The cursor of sequence number `seq`: opaque to callers, a decimal number here. */
export const cursorOf = (seq: number): string => String(seq);

/** The sequence number of a cursor, or undefined when it is not one this store made. */
export function seqOf(cursor: string): number | undefined {
  if (!/^\d{1,15}$/.test(cursor)) return undefined;
  return Number(cursor);
}

/**
 * The message item. A body over the inline threshold is stored apart (dynamo-inbound-body.ts);
 * the item then records how many parts it has instead of the body.
 */
export function messageItem(message: InboundRecord, seq: number, bodyParts: number): Record<string, unknown> {
  const { body, ...rest } = message;
  return {
    ...rest,
    ...(bodyParts > 0 ? { [BODY_PARTS]: bodyParts } : { body }),
    [SEQ]: seq,
    [PK]: inboundKey(message.messageId),
    [TTL]: ttlOf(message.expiresAt),
  };
}

/** Which message holds sequence number `seq` of its agent; the channel lets a filtered list skip it unread. */
export function seqItem(message: InboundRecord, seq: number): Record<string, unknown> {
  return {
    [PK]: inboundSeqKey(message.agentId, seq),
    messageId: message.messageId,
    channel: message.channel,
    [TTL]: ttlOf(message.expiresAt),
  };
}

/** The dedupe item: which message holds (agent, channel, dedupeKey) until the window ends. */
export function dedupeItem(message: Omit<InboundRecord, 'cursor'>, windowMs: number): Record<string, unknown> {
  const until = message.storedAt + windowMs;
  return {
    [PK]: inboundDedupeKey(message.agentId, message.channel, message.dedupeKey),
    messageId: message.messageId,
    [UNTIL]: until,
    [TTL]: ttlOf(until),
  };
}

/** A dedupe key whose window has passed counts as free (TTL deletes it up to ~48 h late). */
export const DEDUPE_FREE = `attribute_not_exists(${PK}) OR #until <= :now`;

/**
 * The transaction: move the agent's counter from `prev` to `prev + 1` (the condition makes
 * concurrent writers take turns, so sequence numbers are dense and commit in order), claim that
 * sequence number, store the message, and claim the dedupe key, all or nothing.
 */
export function putInboundTransaction(
  table: string,
  message: InboundRecord,
  prev: number,
  bodyParts: number,
  dedupeWindowMs: number,
): TransactWriteCommandInput {
  const seq = prev + 1;
  return {
    // A retry of the same attempt by the SDK (a timeout after the commit) is then a no-op
    // instead of a failed condition that would look like a duplicate. At most 36 characters.
    ClientRequestToken: createHash('sha256')
      .update(JSON.stringify([message.messageId, seq]))
      .digest('hex')
      .slice(0, 36),
    TransactItems: [
      {
        Update: {
          TableName: table,
          Key: { [PK]: inboundCounterKey(message.agentId) },
          UpdateExpression: 'SET #seq = :seq',
          ConditionExpression: prev === 0 ? 'attribute_not_exists(#seq)' : '#seq = :prev',
          ExpressionAttributeNames: { '#seq': SEQ },
          ExpressionAttributeValues: prev === 0 ? { ':seq': seq } : { ':seq': seq, ':prev': prev },
        },
      },
      { Put: { TableName: table, Item: seqItem(message, seq), ConditionExpression: `attribute_not_exists(${PK})` } },
      { Put: { TableName: table, Item: messageItem(message, seq, bodyParts), ConditionExpression: `attribute_not_exists(${PK})` } },
      {
        Put: {
          TableName: table,
          Item: dedupeItem(message, dedupeWindowMs),
          ConditionExpression: DEDUPE_FREE,
          ExpressionAttributeNames: { '#until': UNTIL },
          ExpressionAttributeValues: { ':now': message.storedAt },
        },
      },
    ],
  };
}

/** Why a transaction was cancelled, by action. */
export function cancellationCodes(err: unknown): string[] | undefined {
  const e = err as { name?: string; CancellationReasons?: { Code?: string }[] } | null;
  if (e?.name !== 'TransactionCanceledException') return undefined;
  return (e.CancellationReasons ?? []).map((r) => r.Code ?? 'None');
}
