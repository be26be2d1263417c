/**
 * Settings the aws adapters read. Lambdas get them from env (see fromEnv); tests pass
 * emulator endpoints directly. Endpoints are optional: without them the SDK uses AWS.
 */
export interface AwsAdapterConfig {
  region: string;
  tableName: string;
  queueUrl: string;
  /** The inbound FIFO queue (webhook deliveries); absent in deployments without the inbound direction. */
  inboundQueueUrl: string;
  /** An EventBridge bus that gets an event per stored inbound message; optional. */
  eventBusName?: string;
  /** The WebSocket API's Management API endpoint, `https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`. */
  managementEndpoint: string;
  /** Days a finished push stays before DynamoDB's TTL deletes it. */
  retentionDays: number;
  /** See DynamoPushStoreOptions: 'two-step-for-dynalite' only against the dynalite emulator. */
  idempotentCreate?: 'transaction' | 'two-step-for-dynalite';
  /** S3 bucket for push bodies over AWS_INLINE_BODY_BYTES; without it the AWS maximum body is the inline one. */
  bodyBucket?: string;
  /** Secrets Manager secret (ARN or name) holding the HMAC key for agent secrets. */
  agentKeySecret?: string;
  dynamoEndpoint?: string;
  sqsEndpoint?: string;
  /** An S3 emulator; requests then use path-style addressing (http://host/bucket/key). */
  s3Endpoint?: string;
  secretsManagerEndpoint?: string;
  eventBridgeEndpoint?: string;
  /** Static credentials, for emulators only. On Lambda the SDK uses the execution role. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

export const DEFAULT_RETENTION_DAYS = 30;

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`environment variable ${name} is required`);
  return value;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): AwsAdapterConfig {
  const retention = Number(env.EDGEPUSH_RETENTION_DAYS ?? DEFAULT_RETENTION_DAYS);
  if (!Number.isFinite(retention) || retention <= 0) {
    throw new Error('EDGEPUSH_RETENTION_DAYS must be a positive number');
  }
  const create = env.EDGEPUSH_IDEMPOTENT_CREATE || 'transaction';
  if (create !== 'transaction' && create !== 'two-step-for-dynalite') {
    throw new Error('EDGEPUSH_IDEMPOTENT_CREATE must be transaction or two-step-for-dynalite');
  }
  return {
    region: env.AWS_REGION ?? 'us-east-1',
    idempotentCreate: create,
    tableName: required(env, 'EDGEPUSH_TABLE'),
    queueUrl: required(env, 'EDGEPUSH_QUEUE_URL'),
    inboundQueueUrl: required(env, 'EDGEPUSH_INBOUND_QUEUE_URL'),
    eventBusName: env.EDGEPUSH_EVENT_BUS || undefined,
    managementEndpoint: required(env, 'EDGEPUSH_WS_MANAGEMENT_ENDPOINT'),
    retentionDays: retention,
    agentKeySecret: env.EDGEPUSH_AGENT_KEY_SECRET || undefined,
    bodyBucket: env.EDGEPUSH_BODY_BUCKET || undefined,
    dynamoEndpoint: env.EDGEPUSH_DYNAMODB_ENDPOINT || undefined,
    sqsEndpoint: env.EDGEPUSH_SQS_ENDPOINT || undefined,
    s3Endpoint: env.EDGEPUSH_S3_ENDPOINT || undefined,
    secretsManagerEndpoint: env.EDGEPUSH_SECRETSMANAGER_ENDPOINT || undefined,
    eventBridgeEndpoint: env.EDGEPUSH_EVENTBRIDGE_ENDPOINT || undefined,
  };
}
