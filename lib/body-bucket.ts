/**
 * The S3 bucket for push bodies too large for their DynamoDB item
 * (lambdas/adapters/aws/s3-body-store.ts). PHI: private, TLS only, encrypted with the stack's
 * key when there is one, unversioned (a deleted body is gone), and every object expires.
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { BODY_KEY_PREFIX } from '../lambdas/adapters/aws/s3-body-store';

/**
 * Days a body outlives the push retention. A push item's TTL is at most its expiresAt (at most
 * 7 days after creation) plus the retention, and DynamoDB deletes expired items up to 2 days
 * late; S3 counts lifecycle days from creation and rounds to the next midnight UTC (1 day).
 * So a body never disappears while its push can still be read.
 */
export const BODY_EXPIRY_MARGIN_DAYS = 7 + 2 + 1;

export interface BodyBucketProps {
  retentionDays: number;
  removalPolicy: RemovalPolicy;
  encryptionKey?: IKey;
}

export function createBodyBucket(scope: Construct, id: string, props: BodyBucketProps): Bucket {
  const bucket = new Bucket(scope, id, {
    blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
    objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
    enforceSSL: true,
    ...(props.encryptionKey
      ? { encryption: BucketEncryption.KMS, encryptionKey: props.encryptionKey, bucketKeyEnabled: true }
      : { encryption: BucketEncryption.S3_MANAGED }),
    versioned: false,
    removalPolicy: props.removalPolicy,
    // Emptying on delete needs a custom resource Lambda; a destroyed bucket's objects expire anyway.
    autoDeleteObjects: false,
    lifecycleRules: [
      {
        id: 'push-retention',
        prefix: BODY_KEY_PREFIX,
        expiration: Duration.days(Math.ceil(props.retentionDays) + BODY_EXPIRY_MARGIN_DAYS),
        abortIncompleteMultipartUploadAfter: Duration.days(1),
      },
    ],
  });
  Validations.of(bucket).acknowledge({
    id: 'AwsSolutions::AwsSolutions-S1',
    reason:
      'Objects are written and read only by EdgePush functions, whose S3 calls CloudTrail data events can record; a server access log bucket would be a second store of push ids to retain and protect.',
  });
  return bucket;
}
