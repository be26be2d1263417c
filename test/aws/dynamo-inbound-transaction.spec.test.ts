/**
 * Spec test, offline: the TransactWriteItems request DynamoInboundStore sends on real DynamoDB.
 * dynalite has no transactions, so this path cannot run on the emulator; the request is checked
 * against AWS's documented rules instead
 * (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html):
 *  - TransactItems: 1 to 100 actions, the aggregate size at most 4 MB;
 *  - "You can't target the same item with multiple operations within the same transaction";
 *  - each action is exactly one of ConditionCheck, Put, Delete, Update, naming its TableName;
 *  - every #name / :value an expression uses is defined, and none is defined unused;
 *  - ClientRequestToken: 1 to 36 characters, idempotent for 10 minutes;
 *  - an item is at most 400 KB, names and values together
 *    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-items);
 *  - BatchGetItem reads at most 100 keys and 16 MB per call
 *    (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html).
 * And the design's own rules: the counter moves by exactly one from the value read, the dedupe
 * claim is taken only where it is free.
 */
import { randomUUID } from 'node:crypto';
import { INLINE_BODY_BYTES, InboundBodyParts, PART_BYTES } from '../../lambdas/adapters/aws/dynamo-inbound-body';
import {
  COUNTER_ACTION,
  DEDUPE_ACTION,
  MESSAGE_ACTION,
  SEQ_ACTION,
  cancellationCodes,
  cursorOf,
  putInboundTransaction,
  seqOf,
} from '../../lambdas/adapters/aws/dynamo-inbound-transaction';
import { inboundBodyPartKey, inboundCounterKey, inboundDedupeKey, inboundKey, inboundSeqKey } from '../../lambdas/adapters/aws/dynamo-keys';
import type { InboundRecord } from '../../lambdas/core/inbound-records';
import { MAX_BODY_BYTES, MAX_CONTROL_ID_LENGTH, MAX_ERROR_TEXT_LENGTH, MAX_INBOUND_ID_LENGTH } from '../../protocol/limits';

const KB = 1024;
const long = (n: number) => 'x'.repeat(n);

/** The largest message kept inline: every field at its protocol maximum. */
const message: InboundRecord = {
  messageId: long(MAX_INBOUND_ID_LENGTH),
  agentId: long(128),
  channel: long(128),
  inboundId: long(MAX_INBOUND_ID_LENGTH),
  dedupeKey: long(MAX_CONTROL_ID_LENGTH),
  contentType: 'x-application/hl7-v2+er7',
  body: '€'.repeat(Math.floor(INLINE_BODY_BYTES / 3)),
  controlId: long(MAX_CONTROL_ID_LENGTH),
  messageType: 'ORU^R01^ORU_R01',
  ack: 'app',
  receivedAt: 1_800_000_000_000,
  storedAt: 1_800_000_000_100,
  expiresAt: 1_802_592_000_100,
  cursor: '42',
  delivery: { status: 'pending', attempts: 3, lastError: long(MAX_ERROR_TEXT_LENGTH), appAck: long(64 * KB) },
};

const input = putInboundTransaction('edgepush-table', message, 41, 0, 86_400_000);
const items = input.TransactItems!;

/** DynamoDB's item size, over-estimated: UTF-8 lengths of names and of the JSON of each value. */
const sizeOf = (item: Record<string, unknown>) =>
  Object.entries(item).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(JSON.stringify(v)), 0);

it('has 1 to 100 actions, each exactly one operation with a TableName', () => {
  expect(items).toHaveLength(4);
  for (const item of items) {
    const ops = (['ConditionCheck', 'Put', 'Delete', 'Update'] as const).filter((op) => item[op] !== undefined);
    expect(ops).toHaveLength(1);
    expect(item[ops[0]]!.TableName).toBe('edgepush-table');
  }
});

it('targets no item twice: counter, sequence, message and dedupe claim are distinct items', () => {
  const keys = items.map((i) => String(i.Put?.Item?.pk ?? i.Update?.Key?.pk));
  expect(keys).toStrictEqual([
    inboundCounterKey(message.agentId),
    inboundSeqKey(message.agentId, 42),
    inboundKey(message.messageId),
    inboundDedupeKey(message.agentId, message.channel, message.dedupeKey),
  ]);
  expect(new Set(keys).size).toBe(4);
  expect([COUNTER_ACTION, SEQ_ACTION, MESSAGE_ACTION, DEDUPE_ACTION]).toStrictEqual([0, 1, 2, 3]);
});

it('moves the counter by exactly one from the value read, and claims only free keys', () => {
  const counter = items[COUNTER_ACTION].Update!;
  expect(counter.UpdateExpression).toBe('SET #seq = :seq');
  expect(counter.ConditionExpression).toBe('#seq = :prev');
  expect(counter.ExpressionAttributeValues).toEqual({ ':seq': 42, ':prev': 41 });
  const first = putInboundTransaction('t', message, 0, 0, 1).TransactItems![COUNTER_ACTION].Update!;
  expect(first.ConditionExpression).toBe('attribute_not_exists(#seq)');
  expect(first.ExpressionAttributeValues).toEqual({ ':seq': 1 });
  expect(items[SEQ_ACTION].Put!.ConditionExpression).toBe('attribute_not_exists(pk)');
  expect(items[MESSAGE_ACTION].Put!.ConditionExpression).toBe('attribute_not_exists(pk)');
  const dedupe = items[DEDUPE_ACTION].Put!;
  expect(dedupe.ConditionExpression).toBe('attribute_not_exists(pk) OR #until <= :now');
  expect(dedupe.ExpressionAttributeValues).toEqual({ ':now': message.storedAt });
  expect(dedupe.Item).toMatchObject({ messageId: message.messageId, until: message.storedAt + 86_400_000, ttl: 1_800_086_401 });
});

it('defines exactly the expression names and values it uses', () => {
  for (const item of items) {
    const action = (item.Put ?? item.Update)!;
    const text = `${'UpdateExpression' in action ? action.UpdateExpression : ''} ${action.ConditionExpression ?? ''}`;
    expect(new Set(Object.keys(action.ExpressionAttributeNames ?? {}))).toEqual(new Set(text.match(/#\w+/g) ?? []));
    expect(new Set(Object.keys(action.ExpressionAttributeValues ?? {}))).toEqual(new Set(text.match(/:\w+/g) ?? []));
  }
});

it('keeps each item under 400 KB and the whole transaction under 4 MB with the largest inline body', () => {
  let total = 0;
  for (const item of items) {
    const size = sizeOf((item.Put?.Item ?? item.Update!.Key)!);
    expect(size).toBeLessThan(400 * KB);
    total += size;
  }
  expect(total).toBeLessThan(4 * KB * KB);
  // One byte more and the body moves to part items, leaving the message item small.
  const parts = new InboundBodyParts(undefined as never, 't');
  expect(parts.partsFor(message.body)).toBe(0);
  expect(parts.partsFor(message.body + 'x'.repeat(INLINE_BODY_BYTES))).toBeGreaterThan(0);
  const withParts = putInboundTransaction('t', { ...message, body: 'x'.repeat(MAX_BODY_BYTES) }, 1, 30, 1);
  expect(withParts.TransactItems![MESSAGE_ACTION].Put!.Item).not.toHaveProperty('body');
  expect(sizeOf(withParts.TransactItems![MESSAGE_ACTION].Put!.Item!)).toBeLessThan(100 * KB);
});

it('splits the largest body into parts that fit an item and one BatchGetItem', () => {
  const parts = new InboundBodyParts(undefined as never, 't').partsFor('x'.repeat(MAX_BODY_BYTES));
  expect(parts).toBeLessThanOrEqual(100);
  expect(parts * PART_BYTES).toBeLessThan(16 * KB * KB);
  const part = { pk: inboundBodyPartKey(long(MAX_INBOUND_ID_LENGTH), 99), data: 'x'.repeat(PART_BYTES), ttl: 1_802_592_001 };
  expect(sizeOf(part)).toBeLessThan(400 * KB);
});

it('names a request token of 1 to 36 characters, stable per attempt and new per sequence number', () => {
  const token = input.ClientRequestToken!;
  expect(token.length).toBeGreaterThanOrEqual(1);
  expect(token.length).toBeLessThanOrEqual(36);
  expect(putInboundTransaction('edgepush-table', message, 41, 0, 1).ClientRequestToken).toBe(token);
  expect(putInboundTransaction('edgepush-table', message, 42, 0, 1).ClientRequestToken).not.toBe(token);
  expect(putInboundTransaction('edgepush-table', { ...message, messageId: randomUUID() }, 41, 0, 1).ClientRequestToken).not.toBe(token);
});

it('reads cancellation reasons by action, and nothing else as a cancellation', () => {
  const cancelled = (codes: string[]) =>
    Object.assign(new Error('Transaction cancelled'), {
      name: 'TransactionCanceledException',
      CancellationReasons: codes.map((Code) => ({ Code })),
    });
  expect(cancellationCodes(cancelled(['None', 'None', 'None', 'ConditionalCheckFailed']))![DEDUPE_ACTION]).toBe('ConditionalCheckFailed');
  expect(cancellationCodes(cancelled(['ConditionalCheckFailed', 'None', 'None', 'None']))![COUNTER_ACTION]).toBe('ConditionalCheckFailed');
  expect(cancellationCodes(Object.assign(new Error('x'), { name: 'ConditionalCheckFailedException' }))).toBeUndefined();
});

it('round-trips cursors and refuses anything else', () => {
  expect(seqOf(cursorOf(42))).toBe(42);
  for (const bad of ['', '-1', '1.5', 'abc', '1e3', '9'.repeat(16)]) expect(seqOf(bad)).toBeUndefined();
});
