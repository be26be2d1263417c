/**
 * Chunked relay messages on AWS (protocol v2). API Gateway hands each `chunk` to the ws-message
 * function in its own invocation, possibly on different instances, so the parts wait in the
 * table, not in memory:
 *
 *   part#[connectionId, chunkId, index]  one item per part: its base64 data (~87 KB < 400 KB)
 *   parts#[connectionId, chunkId]        count/bytes/sha256 of the first part, startedAt, and
 *                                        `received`, an atomic counter (UpdateItem ADD)
 *
 * A part is written with a condition (a duplicate is refused), then the counter is bumped with
 * a condition that the part agrees with the first one. Only the invocation whose ADD returns
 * `received = count` joins the message: it reads every part (BatchGetItem, consistent), checks
 * bytes and sha256 (protocol/chunks.ts), and deletes the items. Abandoned parts (a relay that
 * went away) are deleted by the table's TTL; a late part of a message older than the timeout is
 * refused with CHUNK_TIMEOUT, since TTL deletion may lag by days. Keyed by connection: a relay
 * cannot touch another connection's parts.
 */
import { BatchGetCommand, BatchWriteCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_CHUNK_LIMITS, checkShape, decodePart, joinParts, type AddResult, type ChunkPart } from '../../../protocol/chunks';
import { ProtocolError } from '../../../protocol/messages';
import { PK, TTL, isConditionFailure } from './dynamo-keys';

export const chunkPartKey = (connectionId: string, chunkId: string, index: number): string =>
  `part#${JSON.stringify([connectionId, chunkId, index])}`;
export const chunkHeadKey = (connectionId: string, chunkId: string): string => `parts#${JSON.stringify([connectionId, chunkId])}`;

/** Parts live at most this long in the table (TTL); the join itself must finish within timeoutMs. */
const TTL_SECONDS = 3_600;
/** BatchGetItem takes at most 100 keys; BatchWriteItem 25 requests. */
const GET_BATCH = 100;
const WRITE_BATCH = 25;

export interface DynamoChunkStoreOptions {
  timeoutMs?: number;
  now?: () => number;
}

export class DynamoChunkStore {
  private readonly timeoutMs: number;
  private readonly now: () => number;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    options: DynamoChunkStoreOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_CHUNK_LIMITS.timeoutMs;
    this.now = options.now ?? Date.now;
  }

  /** Same contract as ChunkAssembler.add, across invocations. Throws ProtocolError. */
  async add(connectionId: string, chunk: ChunkPart): Promise<AddResult> {
    decodePart(chunk); // refuse junk before writing anything
    checkShape(chunk);
    const now = this.now();
    const ttl = Math.floor(now / 1000) + TTL_SECONDS;
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { [PK]: chunkPartKey(connectionId, chunk.chunkId, chunk.index), data: chunk.data, [TTL]: ttl },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PK },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      throw invalid(chunk.chunkId, `part ${chunk.index} arrived twice`);
    }
    let head: Record<string, unknown>;
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { [PK]: chunkHeadKey(connectionId, chunk.chunkId) },
          UpdateExpression:
            'SET #count = if_not_exists(#count, :count), #bytes = if_not_exists(#bytes, :bytes), #sha = if_not_exists(#sha, :sha), ' +
            '#started = if_not_exists(#started, :now), #ttl = if_not_exists(#ttl, :ttl) ADD #received :one',
          ConditionExpression: 'attribute_not_exists(#pk) OR (#count = :count AND #bytes = :bytes AND #sha = :sha)',
          ExpressionAttributeNames: {
            '#pk': PK,
            '#count': 'count',
            '#bytes': 'bytes',
            '#sha': 'sha256',
            '#started': 'startedAt',
            '#ttl': TTL,
            '#received': 'received',
          },
          ExpressionAttributeValues: {
            ':count': chunk.count,
            ':bytes': chunk.bytes,
            ':sha': chunk.sha256,
            ':now': now,
            ':ttl': ttl,
            ':one': 1,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      head = out.Attributes ?? {};
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      // Take back the part just written, so the right part with this index is not refused later.
      await this.deleteKeys([chunkPartKey(connectionId, chunk.chunkId, chunk.index)]);
      throw invalid(chunk.chunkId, `part ${chunk.index} disagrees with the first part on count, bytes or sha256`);
    }
    const startedAt = Number(head.startedAt);
    if (now - startedAt > this.timeoutMs) {
      await this.discard(connectionId, chunk);
      throw new ProtocolError(
        'CHUNK_TIMEOUT',
        `chunked message ${chunk.chunkId}: not complete within ${this.timeoutMs} ms of its first part; discarded`,
      );
    }
    if (Number(head.received) < chunk.count) return { complete: false };
    // This invocation saw the last ADD: it alone joins the message.
    const parts = await this.readParts(connectionId, chunk);
    await this.discard(connectionId, chunk);
    return {
      complete: true,
      text: joinParts(
        chunk,
        parts.map((data, index) => decodePart({ ...chunk, index, data })),
      ),
    };
  }

  private async readParts(connectionId: string, chunk: ChunkPart): Promise<string[]> {
    const data = new Map<string, string>();
    let pending = Array.from({ length: chunk.count }, (_, i) => chunkPartKey(connectionId, chunk.chunkId, i));
    for (let round = 0; pending.length > 0 && round < 10; round++) {
      const retry: string[] = [];
      for (let i = 0; i < pending.length; i += GET_BATCH) {
        const keys = pending.slice(i, i + GET_BATCH);
        const out = await this.db.send(
          new BatchGetCommand({ RequestItems: { [this.table]: { Keys: keys.map((k) => ({ [PK]: k })), ConsistentRead: true } } }),
        );
        for (const item of out.Responses?.[this.table] ?? []) data.set(item[PK] as string, item.data as string);
        for (const key of out.UnprocessedKeys?.[this.table]?.Keys ?? []) retry.push(key[PK] as string);
      }
      pending = retry;
    }
    return Array.from({ length: chunk.count }, (_, i) => {
      const part = data.get(chunkPartKey(connectionId, chunk.chunkId, i));
      if (part === undefined) throw invalid(chunk.chunkId, `part ${i} is missing`);
      return part;
    });
  }

  private discard(connectionId: string, chunk: ChunkPart): Promise<void> {
    const keys = Array.from({ length: chunk.count }, (_, i) => chunkPartKey(connectionId, chunk.chunkId, i));
    return this.deleteKeys([...keys, chunkHeadKey(connectionId, chunk.chunkId)]);
  }

  /** Best effort: what is left behind is deleted by TTL. */
  private async deleteKeys(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += WRITE_BATCH) {
      const batch = keys.slice(i, i + WRITE_BATCH).map((k) => ({ DeleteRequest: { Key: { [PK]: k } } }));
      await this.db.send(new BatchWriteCommand({ RequestItems: { [this.table]: batch } })).catch(() => undefined);
    }
  }
}

function invalid(chunkId: string, why: string): ProtocolError {
  return new ProtocolError('CHUNK_INVALID', `chunked message ${chunkId}: ${why}`);
}
