/**
 * Real-protocol AWS emulators on loopback for tests and the bench: dynalite (DynamoDB,
 * in-process), fauxqs (SQS; ESM-only, so it runs as a child process) and s3rver (S3,
 * in-process, objects in a temporary directory).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { AGENTS_INDEX_DEFINITION, LIST_INDEXES } from '../../lambdas/adapters/aws/dynamo-list-index';

export const TEST_REGION = 'us-east-1';
export const TEST_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

export interface Dynalite {
  endpoint: string;
  close(): Promise<void>;
}

export async function startDynalite(): Promise<Dynalite> {
  const dynalite = require('dynalite') as (opts: object) => import('node:net').Server;
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The table the CDK construct creates: one string partition key `pk`. */
export async function createTable(endpoint: string, tableName: string): Promise<void> {
  const client = new DynamoDBClient({ region: TEST_REGION, endpoint, credentials: TEST_CREDENTIALS });
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        ...[...new Set([...LIST_INDEXES, AGENTS_INDEX_DEFINITION].flatMap((i) => [i.partitionKey, i.sortKey]))].map((name) => ({
          AttributeName: name,
          AttributeType: 'S' as const,
        })),
      ],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      // The GSIs of lib/edgepush-construct.ts, from the same definition.
      GlobalSecondaryIndexes: LIST_INDEXES.map((i) => ({
        IndexName: i.indexName,
        KeySchema: [
          { AttributeName: i.partitionKey, KeyType: 'HASH' as const },
          { AttributeName: i.sortKey, KeyType: 'RANGE' as const },
        ],
        Projection: { ProjectionType: 'INCLUDE' as const, NonKeyAttributes: i.nonKeyAttributes },
      })).concat({
        IndexName: AGENTS_INDEX_DEFINITION.indexName,
        KeySchema: [
          { AttributeName: AGENTS_INDEX_DEFINITION.partitionKey, KeyType: 'HASH' as const },
          { AttributeName: AGENTS_INDEX_DEFINITION.sortKey, KeyType: 'RANGE' as const },
        ],
        Projection: { ProjectionType: 'ALL' } as never,
      }),
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  client.destroy();
}

export interface S3rver {
  endpoint: string;
  close(): Promise<void>;
}

/** s3rver on an ephemeral port; it checks S3's request format, bucket names and signatures. */
export async function startS3rver(): Promise<S3rver> {
  const S3rverServer = require('s3rver') as new (opts: object) => { run(): Promise<{ port: number }>; close(): Promise<void> };
  // s3rver verifies SigV4 signatures against its accounts; the tests sign with TEST_CREDENTIALS.
  const { DUMMY_ACCOUNT } = require('s3rver/lib/models/account') as { DUMMY_ACCOUNT: { createKeyPair(id: string, secret: string): void } };
  DUMMY_ACCOUNT.createKeyPair(TEST_CREDENTIALS.accessKeyId, TEST_CREDENTIALS.secretAccessKey);
  const directory = await mkdtemp(path.join(os.tmpdir(), 'edgepush-s3-'));
  const server = new S3rverServer({ port: 0, address: '127.0.0.1', silent: true, directory });
  const { port } = await server.run();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: async () => {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** The body bucket the CDK construct creates. */
export async function createBucket(endpoint: string, bucket: string): Promise<void> {
  const client = new S3Client({ region: TEST_REGION, endpoint, forcePathStyle: true, credentials: TEST_CREDENTIALS });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  client.destroy();
}

export interface Fauxqs {
  endpoint: string;
  close(): Promise<void>;
}

export async function startFauxqs(): Promise<Fauxqs> {
  // fauxqs behind a small patch for real SQS FIFO batches (several messages of one group per
  // receive, a group's order kept on put-back): see test/emulators/fauxqs-fifo.mjs.
  const dist = path.join(__dirname, '../../node_modules/fauxqs/dist');
  const child: ChildProcess = spawn(process.execPath, [path.join(__dirname, '../emulators/fauxqs-fifo.mjs'), dist], {
    env: { ...process.env, FAUXQS_PORT: '0', FAUXQS_HOST: '127.0.0.1', FAUXQS_LOGGER: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const endpoint = await new Promise<string>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`fauxqs did not start: ${seen}`)), 15000);
    child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const match = /listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(seen);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`fauxqs exited with ${code}: ${seen}`));
    });
  });
  // Keep draining its request log so the pipe never fills up.
  child.stdout!.resume();
  child.stderr!.resume();
  return {
    endpoint,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** The FIFO queue the CDK construct creates (content-based dedup off: we set dedup ids). */
export async function createFifoQueue(endpoint: string, name: string, visibilityTimeoutS = 30): Promise<string> {
  const client = new SQSClient({ region: TEST_REGION, endpoint, credentials: TEST_CREDENTIALS });
  const out = await client.send(
    new CreateQueueCommand({
      QueueName: `${name}.fifo`,
      Attributes: {
        FifoQueue: 'true',
        ContentBasedDeduplication: 'false',
        VisibilityTimeout: String(visibilityTimeoutS),
        MaximumMessageSize: String(1024 * 1024),
      },
    }),
  );
  client.destroy();
  return out.QueueUrl!;
}
