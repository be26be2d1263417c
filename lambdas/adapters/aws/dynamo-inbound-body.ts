/**
 * Inbound bodies kept apart from the message item. A DynamoDB item is at most 400 KB, attribute
 * names and values together
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-items),
 * and an inbound body may be 10 MB (protocol/limits.ts MAX_BODY_BYTES). A body over
 * INLINE_BODY_BYTES is split into parts of PART_BYTES, each its own item
 * (`inbody#[messageId, n]`, binary), written before the message item and read back with
 * BatchGetItem (at most 100 keys and 16 MB per call:
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html); a
 * 10 MB body is 30 parts.
 *
 * The threshold is far below the item limit on purpose: every delivery attempt updates the
 * message item, and an update is billed by the larger of the item's sizes before and after, 1 WRU
 * per KB (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html),
 * and a transactional write costs twice a standard one. Parts are standard writes, once. So a
 * 200 KB ORU costs ~200 WRU once, not ~400 in the transaction plus ~200 per attempt; typical HL7
 * messages (a few KB) stay inline and cost one item.
 *
 * Why parts in the table and not S3: the message, its parts and the table share one encryption
 * key, one TTL (retention) and one IAM resource, and the emulator tests exercise the path. The
 * cost is DynamoDB's write price for large bodies (1 WRU per KB). Parts carry the message's TTL,
 * so parts orphaned by a duplicate or a failed store are deleted with it at the latest.
 */
import { BatchGetCommand, DeleteCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { PK, TTL, inboundBodyPartKey } from './dynamo-keys';

/** Bodies up to this many UTF-8 bytes stay in the message item (which holds ~2 KB of metadata besides). */
export const INLINE_BODY_BYTES = 32 * 1024;
/** Bytes per part item: under 400 KB with the key and the TTL. */
export const PART_BYTES = 350 * 1024;
/** BatchGetItem's key limit. */
const BATCH_KEYS = 100;
/** Rounds of UnprocessedKeys before giving up (DynamoDB throttled or over 16 MB per call). */
const MAX_ROUNDS = 8;

export class InboundBodyParts {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly inlineBytes = INLINE_BODY_BYTES,
    private readonly partBytes = PART_BYTES,
  ) {}

  /** How many parts `body` needs; 0 when it stays in the message item. */
  partsFor(body: string): number {
    const bytes = Buffer.byteLength(body, 'utf8');
    return bytes <= this.inlineBytes ? 0 : Math.ceil(bytes / this.partBytes);
  }

  async write(messageId: string, body: string, ttl: number): Promise<number> {
    const bytes = Buffer.from(body, 'utf8');
    const count = this.partsFor(body);
    const puts: Promise<unknown>[] = [];
    for (let n = 0; n < count; n++) {
      const data = bytes.subarray(n * this.partBytes, (n + 1) * this.partBytes);
      puts.push(
        this.db.send(new PutCommand({ TableName: this.table, Item: { [PK]: inboundBodyPartKey(messageId, n), data, [TTL]: ttl } })),
      );
    }
    await Promise.all(puts);
    return count;
  }

  /** The body, or undefined when a part is missing (TTL deleted it). */
  async read(messageId: string, count: number): Promise<string | undefined> {
    const parts = new Map<string, Uint8Array>();
    let keys = Array.from({ length: count }, (_, n) => ({ [PK]: inboundBodyPartKey(messageId, n) }));
    for (let round = 0; keys.length > 0; round++) {
      if (round === MAX_ROUNDS) throw new Error('DynamoDB kept returning unprocessed keys for a message body');
      const batch = keys.slice(0, BATCH_KEYS);
      const out = await this.db.send(
        new BatchGetCommand({
          RequestItems: {
            [this.table]: {
              Keys: batch,
              ConsistentRead: true,
              ProjectionExpression: '#pk, #data',
              ExpressionAttributeNames: { '#pk': PK, '#data': 'data' },
            },
          },
        }),
      );
      for (const item of out.Responses?.[this.table] ?? []) parts.set(String(item[PK]), item.data as Uint8Array);
      const unprocessed = (out.UnprocessedKeys?.[this.table]?.Keys ?? []) as { [PK]: string }[];
      keys = [...unprocessed, ...keys.slice(BATCH_KEYS)];
    }
    const buffers: Buffer[] = [];
    for (let n = 0; n < count; n++) {
      const part = parts.get(inboundBodyPartKey(messageId, n));
      if (!part) return undefined;
      buffers.push(Buffer.from(part));
    }
    return Buffer.concat(buffers).toString('utf8');
  }

  /** Best effort: parts of a message that was not stored (a duplicate); TTL is the fallback. */
  async remove(messageId: string, count: number): Promise<void> {
    await Promise.all(
      Array.from({ length: count }, (_, n) =>
        this.db.send(new DeleteCommand({ TableName: this.table, Key: { [PK]: inboundBodyPartKey(messageId, n) } })).catch(() => undefined),
      ),
    );
  }
}
