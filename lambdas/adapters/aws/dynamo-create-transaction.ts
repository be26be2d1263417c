/**
 * The TransactWriteItems request that stores a new push and claims its idempotency key in one
 * atomic step (on real DynamoDB; see DynamoPushStore). Built by a pure function so an offline
 * spec test can check it against AWS's documented rules
 * (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html):
 * at most 100 actions, no two on the same item, and a ConditionExpression on the key.
 */
import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import type { PushRecord } from '../../core/records';
import { PK, TTL, idempotencyKey, pushKey } from './dynamo-keys';
import { listAttributes } from './dynamo-list-index';

/** What the push's status item holds: all but the body and its hash, kept in the body item (push-body-items.ts). */
export function statusAttributes(push: PushRecord): Omit<PushRecord, 'body' | 'bodyHash'> {
  const { body: _body, bodyHash: _hash, ...status } = push;
  return status;
}

/** Index of the idempotency item's action, for reading CancellationReasons. */
export const KEY_ACTION = 1;

/** The idempotency item: which push a key belongs to, and until when it counts. */
export function idempotencyItem(
  push: Pick<PushRecord, 'agentId' | 'idempotencyKey' | 'pushId' | 'bodyHash' | 'expiresAt'>,
  ttl: number,
): Record<string, unknown> {
  return {
    [PK]: idempotencyKey(push.agentId, push.idempotencyKey!),
    pushId: push.pushId,
    bodyHash: push.bodyHash,
    expiresAt: push.expiresAt,
    [TTL]: ttl,
  };
}

/** A key whose TTL has passed counts as absent (DynamoDB deletes it up to ~48 h late). */
export const KEY_FREE = `attribute_not_exists(${PK}) OR #ttl < :now`;

/** The push's status item and its key; its body item is written before (see DynamoPushStore). */
export function createPushTransaction(table: string, push: PushRecord, ttl: number, nowSeconds: number): TransactWriteCommandInput {
  if (push.idempotencyKey === undefined) throw new Error('a transaction is only needed with an idempotency key');
  return {
    TransactItems: [
      {
        Put: {
          TableName: table,
          Item: { ...statusAttributes(push), ...listAttributes(push), [PK]: pushKey(push.pushId), [TTL]: ttl },
          ConditionExpression: `attribute_not_exists(${PK})`,
        },
      },
      {
        Put: {
          TableName: table,
          Item: idempotencyItem(push, ttl),
          ConditionExpression: KEY_FREE,
          ExpressionAttributeNames: { '#ttl': TTL },
          ExpressionAttributeValues: { ':now': nowSeconds },
        },
      },
    ],
  };
}

/** true when the transaction failed only because the idempotency key is taken. */
export function keyWasTaken(err: unknown): boolean {
  const e = err as { name?: string; CancellationReasons?: { Code?: string }[] } | null;
  if (e?.name !== 'TransactionCanceledException') return false;
  return e.CancellationReasons?.[KEY_ACTION]?.Code === 'ConditionalCheckFailed';
}
