/**
 * Spec test, offline: the TransactWriteItems request DynamoPushStore sends on real DynamoDB.
 * dynalite has no transactions, so this path cannot run on the emulator; the request is
 * checked against AWS's documented rules instead:
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html
 *  - TransactItems: 1 to 100 items;
 *  - "You can't target the same item with multiple operations within the same transaction";
 *  - each action is exactly one of ConditionCheck, Put, Delete, Update, naming its TableName;
 *  - every #name / :value an expression uses is defined, and none is defined unused
 *    (DynamoDB rejects both with a ValidationException);
 *  - item size at most 400 KB (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html).
 * And the design's own rule: the idempotency item is written only where its key is free.
 */
import { randomUUID } from 'node:crypto';
import { createPushTransaction, keyWasTaken, KEY_ACTION } from '../../lambdas/adapters/aws/dynamo-create-transaction';
import { idempotencyKey, pushKey } from '../../lambdas/adapters/aws/dynamo-keys';
import type { PushRecord } from '../../lambdas/core/records';

const push: PushRecord = {
  pushId: randomUUID(),
  agentId: 'agent-1',
  destination: 'lab',
  contentType: 'x-application/hl7-v2+er7',
  body: 'MSH|^~\\&|A|B|C|D|20240101||ADT^A01|1|P|2.5\r'.padEnd(100 * 1024, 'X'),
  bodyHash: 'a'.repeat(64),
  returnAck: 'first',
  status: 'queued',
  attempts: 0,
  createdAt: 1_800_000_000_000,
  expiresAt: 1_800_003_600_000,
  idempotencyKey: 'order-42',
};

const input = createPushTransaction('edgepush-table', push, 1_800_003_600 + 30 * 86_400, 1_800_000_000);
const items = input.TransactItems!;

it('has 1 to 100 actions, each exactly one operation with a TableName', () => {
  expect(items.length).toBeGreaterThanOrEqual(1);
  expect(items.length).toBeLessThanOrEqual(100);
  for (const item of items) {
    const ops = (['ConditionCheck', 'Put', 'Delete', 'Update'] as const).filter((op) => item[op] !== undefined);
    expect(ops).toHaveLength(1);
    expect(item[ops[0]]!.TableName).toBe('edgepush-table');
  }
});

it('targets no item twice: the push and its idempotency key are distinct items', () => {
  const keys = items.map((i) => (i.Put ? String(i.Put.Item!.pk) : JSON.stringify(i.Update?.Key ?? i.Delete?.Key ?? i.ConditionCheck?.Key)));
  expect(new Set(keys).size).toBe(keys.length);
  expect(keys).toEqual([pushKey(push.pushId), idempotencyKey('agent-1', 'order-42')]);
});

it('writes the push only if new, and the idempotency item only where the key is free (absent, or TTL passed)', () => {
  expect(items[0].Put!.ConditionExpression).toBe('attribute_not_exists(pk)');
  const key = items[KEY_ACTION].Put!;
  expect(key.ConditionExpression).toMatch(/attribute_not_exists\(pk\)/);
  expect(key.ConditionExpression).toMatch(/#ttl < :now/);
  expect(key.Item).toMatchObject({ pushId: push.pushId, bodyHash: push.bodyHash, expiresAt: push.expiresAt });
  // Both carry the TTL from the start (PHI retention), and the key never outlives its push.
  expect(items[0].Put!.Item!.ttl).toBe(key.Item!.ttl);
});

it('defines exactly the expression names and values it uses', () => {
  for (const item of items) {
    const put = item.Put!;
    const text = put.ConditionExpression ?? '';
    const usedNames = new Set(text.match(/#\w+/g) ?? []);
    const usedValues = new Set(text.match(/:\w+/g) ?? []);
    expect(new Set(Object.keys(put.ExpressionAttributeNames ?? {}))).toEqual(usedNames);
    expect(new Set(Object.keys(put.ExpressionAttributeValues ?? {}))).toEqual(usedValues);
  }
});

it('keeps each item under DynamoDB’s 400 KB item limit with the largest body', () => {
  for (const item of items) {
    const size = Object.entries(item.Put!.Item!).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(JSON.stringify(v)), 0);
    expect(size).toBeLessThan(400 * 1024);
  }
});

it('reads a cancellation on the key’s condition as "key taken", and nothing else', () => {
  const cancelled = (codes: string[]) =>
    Object.assign(new Error('Transaction cancelled'), {
      name: 'TransactionCanceledException',
      CancellationReasons: codes.map((Code) => ({ Code })),
    });
  expect(keyWasTaken(cancelled(['None', 'ConditionalCheckFailed']))).toBe(true);
  expect(keyWasTaken(cancelled(['ConditionalCheckFailed', 'None']))).toBe(false);
  expect(keyWasTaken(cancelled(['None', 'TransactionConflict']))).toBe(false);
  expect(keyWasTaken(Object.assign(new Error('x'), { name: 'ConditionalCheckFailedException' }))).toBe(false);
});
