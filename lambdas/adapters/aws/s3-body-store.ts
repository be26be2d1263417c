/**
 * Push bodies too large for the push's DynamoDB item, kept as S3 objects `pushes/<pushId>`.
 * The item then holds `bodyKey` instead of the body (see DynamoPushStore). Objects expire by
 * the bucket's lifecycle rule, set to the push retention (lib/body-bucket.ts), so a body is
 * deleted no later than its push's retention allows.
 */
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { AWS_INLINE_BODY_BYTES } from './aws-limits';

export const BODY_KEY_PREFIX = 'pushes/';

/** true when a body goes to S3 rather than into the item. */
export const storesApart = (body: string): boolean => Buffer.byteLength(body) > AWS_INLINE_BODY_BYTES;

export class S3BodyStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  /** Writes the body; the key it is under. Writing the same push again overwrites the same object. */
  async put(pushId: string, body: string): Promise<string> {
    const key = BODY_KEY_PREFIX + pushId;
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: 'text/plain; charset=utf-8' }));
    return key;
  }

  async get(key: string): Promise<string> {
    const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    if (!out.Body) throw new Error(`push body ${key} has no content`);
    return out.Body.transformToString('utf-8');
  }

  /** Best effort: removes a body whose push was not written; the lifecycle rule catches any left. */
  async discard(key: string): Promise<void> {
    try {
      await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch {
      // Left for the lifecycle rule.
    }
  }
}
