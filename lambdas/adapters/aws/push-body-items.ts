/**
 * A push's body, kept apart from its status item (see DynamoPushStore): the item
 * `pushbody#<pushId>` is written once at accept and never updated, so the writes and reads
 * that follow a push through its states (sent, acked, the caller's polls) are billed on a
 * small item instead of one carrying the body. DynamoDB bills a write per started KB of the
 * larger of the item before and after, and a read per 4 KB.
 *
 * Always apart, whatever the size: the status item alone, with a real SQS receipt handle
 * (~400 bytes), is just under 1 KB; any body inline (an HL7 message is rarely under 200
 * bytes) makes each of its two updates 2 WRU instead of 1, which costs more than the body
 * item's single write (bench/aws-model.ts counts it). Bodies over AWS_INLINE_BODY_BYTES go to
 * S3 as before, and the body item holds their key.
 *
 * Written before the status item: a crash between the two leaves a body with no push (never
 * read; its TTL deletes it), never a push without its body. The body item keeps the TTL it is
 * created with (expiresAt + retention): moving it when the push finishes would cost a write as
 * large as the body, so a body can outlive its status item by the push's remaining expiresIn.
 *
 * Bodies never change, so each Lambda keeps the ones it wrote or read lately (BodyCache): the
 * dispatcher's read, then its update's return, read the body item once; the http Lambda that
 * accepted a push answers its caller without reading it back.
 */
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { PK, TTL, pushBodyKey } from './dynamo-keys';
import { storesApart, type S3BodyStore } from './s3-body-store';

export interface PushBody {
  body: string;
  bodyHash: string;
}

/** What a body item holds: the body, or the S3 key of a large one. */
interface StoredBody {
  body?: string;
  bodyKey?: string;
  bodyHash: string;
}

/** Bytes of bodies a Lambda keeps in memory, and the largest one it keeps. */
const CACHE_BYTES = 8 * 1024 * 1024;
const CACHE_MAX_ENTRY_BYTES = 512 * 1024;

/** Least recently used first (a Map keeps insertion order); bounded by CACHE_BYTES. */
class BodyCache {
  private readonly entries = new Map<string, PushBody>();
  private bytes = 0;

  get(pushId: string): PushBody | undefined {
    const hit = this.entries.get(pushId);
    if (hit) {
      this.entries.delete(pushId);
      this.entries.set(pushId, hit);
    }
    return hit;
  }

  set(pushId: string, value: PushBody): void {
    const size = Buffer.byteLength(value.body);
    if (size > CACHE_MAX_ENTRY_BYTES || this.entries.has(pushId)) return;
    this.entries.set(pushId, value);
    this.bytes += size;
    for (const [id, old] of this.entries) {
      if (this.bytes <= CACHE_BYTES) break;
      this.entries.delete(id);
      this.bytes -= Buffer.byteLength(old.body);
    }
  }
}

export class PushBodyItems {
  private readonly cache = new BodyCache();

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly s3?: S3BodyStore,
  ) {}

  /**
   * Writes the body item (and a large body to S3 first). Writing the same push again (a retried
   * create, a recovery) writes the same body: the pushId names it, and the bodyHash was checked.
   * Returns a function that deletes what was written, for a create that then wrote no push.
   */
  async put(pushId: string, value: PushBody, ttl: number): Promise<() => Promise<void>> {
    let stored: StoredBody = value;
    if (storesApart(value.body)) {
      if (!this.s3) throw new Error('push body is over the inline limit and no body bucket is configured (EDGEPUSH_BODY_BUCKET)');
      stored = { bodyKey: await this.s3.put(pushId, value.body), bodyHash: value.bodyHash };
    }
    try {
      await this.db.send(new PutCommand({ TableName: this.table, Item: { ...stored, [PK]: pushBodyKey(pushId), [TTL]: ttl } }));
    } catch (err) {
      await this.discardObject(stored);
      throw err;
    }
    this.cache.set(pushId, value);
    // The body item itself is left for its TTL: deleting it would cost a write as large as it.
    return () => this.discardObject(stored);
  }

  async get(pushId: string): Promise<PushBody | undefined> {
    const cached = this.cache.get(pushId);
    if (cached) return cached;
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: { [PK]: pushBodyKey(pushId) }, ConsistentRead: true }));
    if (!out.Item) return undefined;
    const value = await this.resolve(pushId, out.Item as StoredBody);
    this.cache.set(pushId, value);
    return value;
  }

  /** A body as an item stores it (a body item, or an older push item that held its own). */
  async resolve(pushId: string, stored: StoredBody): Promise<PushBody> {
    if (stored.bodyKey === undefined) return { body: String(stored.body), bodyHash: stored.bodyHash };
    if (!this.s3) throw new Error(`push ${pushId} has its body in S3 and no body bucket is configured (EDGEPUSH_BODY_BUCKET)`);
    return { body: await this.s3.get(stored.bodyKey), bodyHash: stored.bodyHash };
  }

  private async discardObject(stored: StoredBody): Promise<void> {
    if (stored.bodyKey !== undefined && this.s3) await this.s3.discard(stored.bodyKey);
  }
}
