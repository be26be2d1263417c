/**
 * Chunked messages (protocol v2) on emulated AWS: the real ws-message handler behind the
 * API-Gateway-like gateway, dynalite, the Management API emulator (which refuses anything over
 * 128 KB, as postToConnection does). Parts of a relay's message wait in the table between
 * invocations (dynamo-chunk-store.ts); a push over 128 KB is posted as chunks. A body over
 * AWS_INLINE_BODY_BYTES is stored in S3 (s3rver), its body item holding only the key.
 */
import { createHash, randomUUID } from 'node:crypto';
import pino from 'pino';
import WebSocket from 'ws';
import { resolveConfig } from '../../edge-agent/relay/config-schema';
import { sendText } from '../../edge-agent/relay/frame-sender';
import { Relay } from '../../edge-agent/relay/relay';
import { DynamoChunkStore, chunkHeadKey } from '../../lambdas/adapters/aws/dynamo-chunk-store';
import { AWS_INLINE_BODY_BYTES, AWS_MAX_BODY_BYTES } from '../../lambdas/adapters/aws/aws-limits';
import { createClients, type AwsClients } from '../../lambdas/adapters/aws/clients';
import { PK, pushBodyKey, pushKey } from '../../lambdas/adapters/aws/dynamo-keys';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { relayWireMessages, splitMessage, type ChunkPart } from '../../protocol/chunks';
import { AGENT_ID_HEADER, AGENT_SECRET_HEADER, ProtocolError } from '../../protocol/messages';
import { startRawDevice, type RawDevice } from '../relay/raw-device';
import { waitFor } from '../support/wait';
import { startEmulatedAws, type EmulatedAws } from './emulated-aws';
import { TEST_CREDENTIALS, TEST_REGION, createTable, startDynalite, type Dynalite } from './emulators';

jest.setTimeout(60_000);

const sha = (text: string, encoding: BufferEncoding = 'utf8') => createHash('sha256').update(Buffer.from(text, encoding)).digest('hex');
/** An ORU whose OBX-5 carries a base64 "PDF" of about `bytes` bytes. */
const oru = (bytes: number, id = randomUUID().slice(0, 8)) =>
  `MSH|^~\\&|EP|CLOUD|LAB|HOSP|20240101120000||ORU^R01|${id}|P|2.5\rPID|1||123\rOBX|1|ED|PDF^Report||^AP^PDF^Base64^${Buffer.alloc(
    Math.floor((bytes * 3) / 4),
    7,
  ).toString('base64')}\r`;
const bigHeartbeat = () => JSON.stringify({ action: 'heartbeat', v: 1, padding: 'ö'.repeat(150_000) });

describe('chunked messages on emulated AWS', () => {
  let aws: EmulatedAws;
  let device: RawDevice;
  let relay: Relay;
  const sockets: WebSocket[] = [];

  async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
    const res = await fetch(aws.httpUrl + path, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: await res.json() };
  }
  const createAgent = async () =>
    (await api('POST', '/agents', { agentId: `site-${randomUUID().slice(0, 8)}` })).json as { agentId: string; secret: string };

  beforeAll(async () => {
    aws = await startEmulatedAws();
    device = await startRawDevice('bigAck');
  }, 60_000);
  afterAll(async () => {
    for (const s of sockets) s.terminate();
    await relay?.stop();
    await aws?.stop();
    await device?.close();
  });

  /** The push's item as dynalite holds it, and its S3 object's text if it has one. */
  /** The push's status item, its body item, and the S3 object the body item names, if any. */
  async function stored(
    pushId: string,
  ): Promise<{ item: Record<string, unknown> | undefined; bodyItem: Record<string, unknown> | undefined; object?: string }> {
    const { dynamoEndpoint, tableName, s3Endpoint, bodyBucket } = aws.storage;
    const db = DynamoDBDocumentClient.from(
      new DynamoDBClient({ region: TEST_REGION, endpoint: dynamoEndpoint, credentials: TEST_CREDENTIALS }),
    );
    const s3 = new S3Client({ region: TEST_REGION, endpoint: s3Endpoint, forcePathStyle: true, credentials: TEST_CREDENTIALS });
    try {
      const read = async (key: string) =>
        (await db.send(new GetCommand({ TableName: tableName, Key: { [PK]: key }, ConsistentRead: true }))).Item;
      const [item, bodyItem] = await Promise.all([read(pushKey(pushId)), read(pushBodyKey(pushId))]);
      if (typeof bodyItem?.bodyKey !== 'string') return { item, bodyItem };
      const out = await s3.send(new GetObjectCommand({ Bucket: bodyBucket, Key: bodyItem.bodyKey }));
      return { item, bodyItem, object: await out.Body!.transformToString('utf-8') };
    } finally {
      db.destroy();
      s3.destroy();
    }
  }

  it('a 3 MB push reaches the device intact through postToConnection chunks, its body in S3; a small one stays inline; over 5 MiB -> 413', async () => {
    const agent = await createAgent();
    relay = new Relay(
      resolveConfig({
        url: aws.wsUrl,
        agentId: agent.agentId,
        secret: agent.secret,
        devices: { lab: `mllp://127.0.0.1:${device.port}` },
        reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
        logLevel: 'silent',
      }),
      pino({ enabled: false }),
    );
    relay.start();
    await waitFor(async () => (await api('GET', `/agents/${agent.agentId}`)).json.status === 'connected', 15_000, 'relay connected');

    const body = oru(3 * 1024 * 1024);
    expect(Buffer.byteLength(body)).toBeGreaterThan(3 * 1024 * 1024);
    const res = await api('POST', `/agents/${agent.agentId}/push`, { destination: 'lab', body });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: 'acked', ackCode: 'AA' });
    expect(device.messages.map((m) => sha(m, 'latin1'))).toContain(sha(body));
    const big = await stored(res.json.pushId as string);
    expect(big.item).toMatchObject({ status: 'acked' });
    expect(big.item).not.toHaveProperty('body');
    expect(big.item).not.toHaveProperty('bodyKey');
    expect(big.bodyItem).toMatchObject({ bodyKey: `pushes/${res.json.pushId}` });
    expect(big.bodyItem).not.toHaveProperty('body');
    expect(sha(big.object ?? '')).toBe(sha(body));

    // Between 128 KB (chunked on the socket) and the inline limit: the body stays in its body item.
    const medium = oru(AWS_INLINE_BODY_BYTES - 4096);
    expect(Buffer.byteLength(medium)).toBeGreaterThan(128 * 1024);
    const inline = await api('POST', `/agents/${agent.agentId}/push`, { destination: 'lab', body: medium });
    expect(inline.json).toMatchObject({ status: 'acked', ackCode: 'AA' });
    const small = await stored(inline.json.pushId as string);
    expect(small.bodyItem).toMatchObject({ body: medium });
    expect(small.bodyItem).not.toHaveProperty('bodyKey');
    expect(small.item).not.toHaveProperty('body');

    const head = oru(0);
    const over = await api('POST', `/agents/${agent.agentId}/push`, {
      destination: 'lab',
      body: head + 'x'.repeat(AWS_MAX_BODY_BYTES + 1 - head.length),
    });
    expect(over.status).toBe(413);
    expect(over.json).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', error: expect.stringContaining(String(AWS_MAX_BODY_BYTES)) });
  });

  it("joins a relay's chunks across invocations; bad and duplicate parts get CHUNK_INVALID", async () => {
    const agent = await createAgent();
    const ws = new WebSocket(aws.wsUrl, { headers: { [AGENT_ID_HEADER]: agent.agentId, [AGENT_SECRET_HEADER]: agent.secret } });
    sockets.push(ws);
    const got: Record<string, any>[] = [];
    ws.on('message', (d) => got.push(JSON.parse(String(d)) as Record<string, any>));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));

    const good = relayWireMessages(bigHeartbeat(), 'aws-good');
    sendText(ws, good[0]);
    sendText(ws, JSON.stringify({ ...(JSON.parse(good[1]) as object), data: '*not base64*' }));
    sendText(ws, good[0]); // a duplicate
    for (const part of good.slice(1)) sendText(ws, part);
    // The whole of an inbound message with a bad channel reaches the validator.
    const inbound = JSON.stringify({
      action: 'inbound',
      v: 2,
      inboundId: 'i-1',
      channel: 'no such channel!',
      contentType: 'x-application/hl7-v2+er7',
      body: oru(400_000),
      receivedAt: 1,
      ack: 'fast',
    });
    for (const part of relayWireMessages(inbound)) sendText(ws, part);

    await waitFor(
      () => got.filter((m) => m.type === 'error').length === 3 && got.some((m) => m.type === 'heartbeatAck'),
      20_000,
      'answers',
    );
    const errors = got.filter((m) => m.type === 'error');
    expect(errors.map((e) => e.code).sort()).toStrictEqual(['CHUNK_INVALID', 'CHUNK_INVALID', 'INVALID_MESSAGE']);
    expect(errors.find((e) => e.code === 'INVALID_MESSAGE')?.error).toBe('channel must be a channel name');
    expect(errors.some((e) => /arrived twice/.test(e.error))).toBe(true);
    expect(got.filter((m) => m.type === 'heartbeatAck')).toHaveLength(1);
  });
});

describe('DynamoChunkStore on dynalite', () => {
  let dynalite: Dynalite;
  let clients: AwsClients;
  const table = `edgepush-${randomUUID()}`;
  let clock = 1_000_000;
  let store: DynamoChunkStore;

  beforeAll(async () => {
    dynalite = await startDynalite();
    await createTable(dynalite.endpoint, table);
    clients = createClients({
      region: TEST_REGION,
      credentials: TEST_CREDENTIALS,
      tableName: table,
      queueUrl: 'unused',
      inboundQueueUrl: 'unused',
      managementEndpoint: 'http://127.0.0.1:1',
      retentionDays: 30,
      dynamoEndpoint: dynalite.endpoint,
    });
    store = new DynamoChunkStore(clients.dynamo, table, { timeoutMs: 60_000, now: () => clock });
  });
  afterAll(async () => {
    clients.dynamo.destroy();
    clients.sqs.destroy();
    clients.management.destroy();
    clients.secrets.destroy();
    await dynalite.close();
  });

  const codeOf = async (p: Promise<unknown>) =>
    p.then(
      () => 'resolved',
      (e: unknown) => (e instanceof ProtocolError ? e.code : String(e)),
    );
  const head = async (conn: string, chunkId: string) =>
    (await clients.dynamo.send(new GetCommand({ TableName: table, Key: { [PK]: chunkHeadKey(conn, chunkId) }, ConsistentRead: true })))
      .Item;

  it('parts sent at once (separate invocations) complete exactly once, and leave nothing behind', async () => {
    const json = bigHeartbeat();
    const parts = splitMessage(json, { chunkId: 'together' });
    const results = await Promise.all(parts.map((p) => store.add('conn-1', p)));
    const complete = results.filter((r) => r.complete);
    expect(complete).toStrictEqual([{ complete: true, text: json }]);
    expect(await head('conn-1', 'together')).toBeUndefined();
  });

  it('keeps connections apart, refuses an inconsistent part, and times out a stale message', async () => {
    const parts = splitMessage(bigHeartbeat(), { chunkId: 'apart' });
    await store.add('conn-a', parts[0]);
    // The same chunkId on another connection is another message.
    expect(await store.add('conn-b', parts[0])).toStrictEqual({ complete: false });
    const wrong: ChunkPart = { ...parts[1], sha256: 'f'.repeat(64) };
    expect(await codeOf(store.add('conn-a', wrong))).toBe('CHUNK_INVALID');
    // The refused part was taken back: the right one with that index is still accepted.
    expect(await store.add('conn-a', parts[1])).toStrictEqual({ complete: false });
    clock += 60_001;
    expect(await codeOf(store.add('conn-a', parts[2]))).toBe('CHUNK_TIMEOUT');
    expect(await head('conn-a', 'apart')).toBeUndefined();
  });

  it('discards a message whose joined bytes do not match sha256', async () => {
    const parts = splitMessage(bigHeartbeat(), { chunkId: 'digest' });
    const tampered = Buffer.from(parts[0].data, 'base64');
    tampered[3] ^= 1;
    parts[0] = { ...parts[0], data: tampered.toString('base64') };
    const codes: string[] = [];
    for (const p of parts) codes.push(await codeOf(store.add('conn-d', p)));
    expect(codes[codes.length - 1]).toBe('CHUNK_INVALID');
    expect(await head('conn-d', 'digest')).toBeUndefined();
  });
});
