/**
 * The AWS cloud side, emulated on loopback with the REAL Lambda handler functions:
 * - an HTTP server that turns requests into API Gateway HTTP API (payload v2) events for
 *   handlers/http.ts (IAM mode: API Gateway authorised the route, so no scopes);
 * - the WebSocket gateway (hub/gateway) with a backend that calls ws-authorizer,
 *   ws-connect, ws-message and ws-disconnect with WebSocket-API-shaped events, and its
 *   Management API for postToConnection;
 * - an SQS event-source poller on fauxqs that invokes handlers/sqs-dispatcher.ts and, like
 *   Lambda's event source mapping, deletes the records not reported in batchItemFailures. Like
 *   Lambda's FIFO mapping, a batch holds up to 10 records, a group's in its order, and a group
 *   with a message in flight is not delivered (fauxqs, patched in test/emulators/fauxqs-fifo.mjs);
 * - optionally, per-hop delays (hop-delays.ts) so a benchmark sees a deployed stack's waits;
 * - dynalite for the table, s3rver for the bucket of large push bodies.
 * Used by the full-path test and by bench/lambda.bench.ts (which counts the AWS calls).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { startGatewayServer, type GatewayServer } from '../emulators/gateway-server';
import { startSecretsManager, type SecretsManagerEmulator } from '../emulators/secrets-manager';
import type { ConnectionContext } from '../../hub/gateway/ws-gateway';
import { RELAY_ACTIONS } from '../../protocol/relay-routes';
import { delayCalls, sleep, type HopDelays } from './hop-delays';
import {
  TEST_CREDENTIALS,
  TEST_REGION,
  createBucket,
  createFifoQueue,
  createTable,
  startDynalite,
  startFauxqs,
  startS3rver,
} from './emulators';

type Handlers = {
  http: typeof import('../../lambdas/handlers/http');
  authorizer: typeof import('../../lambdas/handlers/ws-authorizer');
  connect: typeof import('../../lambdas/handlers/ws-connect');
  disconnect: typeof import('../../lambdas/handlers/ws-disconnect');
  message: typeof import('../../lambdas/handlers/ws-message');
  dispatcher: typeof import('../../lambdas/handlers/sqs-dispatcher');
  webhook: typeof import('../../lambdas/handlers/webhook-delivery');
  runtime: typeof import('../../lambdas/handlers/runtime');
};

export interface InvocationCounts {
  http: number;
  authorizer: number;
  connect: number;
  disconnect: number;
  message: number;
  dispatcher: number;
  webhook: number;
}

export interface EmulatedAws {
  httpUrl: string;
  wsUrl: string;
  queueUrl: string;
  /** Where the emulated stack keeps pushes and large bodies, for tests that look at storage. */
  storage: { dynamoEndpoint: string; tableName: string; s3Endpoint: string; bodyBucket: string };
  invocations: InvocationCounts;
  /** SQS calls the event source mapping itself makes (receive, delete). */
  pollerCalls: { receive: number; delete: number };
  handlers: Handlers;
  secretsManager: SecretsManagerEmulator;
  stop(): Promise<void>;
}

export interface EmulatedAwsOptions {
  /** Core settings passed through env, e.g. EDGEPUSH_OFFLINE_RETRY_MS. */
  env?: Record<string, string>;
  /** Poll interval of the event source mapping when the queue is empty. */
  pollIntervalMs?: number;
  /**
   * The HTTP function's timeout (the construct sets 29 s). Like Lambda, the handler gets it as
   * context.getRemainingTimeInMillis(), and a handler still running past it is cut off: API
   * Gateway then answers 500, as it does for a timed-out Lambda.
   */
  httpTimeoutMs?: number;
  /** Per-hop latencies to add (see hop-delays.ts); none by default. */
  delays?: HopDelays;
  /** The mappings' ReceiveMessage long-poll wait, in seconds (Lambda's pollers long-poll). @default 0 */
  pollWaitSeconds?: number;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startEmulatedAws(options: EmulatedAwsOptions = {}): Promise<EmulatedAws> {
  const [dynalite, fauxqs, s3] = await Promise.all([startDynalite(), startFauxqs(), startS3rver()]);
  const bodyBucket = `edgepush-bodies-${randomUUID().slice(0, 8)}`;
  await createBucket(s3.endpoint, bodyBucket);
  // The key the stack generates: 64 random characters.
  const secretsManager = await startSecretsManager({ 'edgepush-agent-key': randomUUID() + randomUUID() });
  const table = `edgepush-${randomUUID()}`;
  await createTable(dynalite.endpoint, table);
  const queueUrl = await createFifoQueue(fauxqs.endpoint, `edgepush-${randomUUID().slice(0, 8)}`, 60);
  const inboundQueueUrl = await createFifoQueue(fauxqs.endpoint, `inbound-${randomUUID().slice(0, 8)}`, 60);
  const invocations: InvocationCounts = { http: 0, authorizer: 0, connect: 0, disconnect: 0, message: 0, dispatcher: 0, webhook: 0 };

  // The handlers are loaded only after env is set; they build their clients on first use.
  let handlers: Handlers | undefined;
  const h = (): Handlers => {
    if (!handlers) throw new Error('handlers not loaded yet');
    return handlers;
  };

  const wsEvent = (connectionId: string, ctx: ConnectionContext, routeKey: string, body?: string) => ({
    requestContext: {
      routeKey,
      eventType: routeKey === '$connect' ? 'CONNECT' : routeKey === '$disconnect' ? 'DISCONNECT' : 'MESSAGE',
      connectionId,
      connectedAt: ctx.connectedAt,
      authorizer: { agentId: ctx.agentId, principalId: ctx.agentId, ...(ctx.relayInstance ? { relayInstance: ctx.relayInstance } : {}) },
      identity: { sourceIp: ctx.sourceIp },
      requestId: randomUUID(),
    },
    body,
    isBase64Encoded: false,
  });

  const gateway: GatewayServer = await startGatewayServer({
    routes: RELAY_ACTIONS,
    backend: {
      async authorize(headers, request) {
        invocations.authorizer++;
        const flat: Record<string, string> = {};
        for (const [k, v] of Object.entries(headers)) if (typeof v === 'string') flat[k] = v;
        try {
          const result = await h().authorizer.handler({
            type: 'REQUEST',
            methodArn: 'arn:aws:execute-api:us-east-1:000000000000:emulated/relay/$connect',
            headers: flat,
            requestContext: { identity: { sourceIp: request.sourceIp } },
          } as never);
          const allowed = result.policyDocument.Statement.some((s) => s.Effect === 'Allow');
          if (!allowed) return undefined;
          const relayInstance = result.context?.relayInstance;
          return typeof relayInstance === 'string'
            ? { agentId: String(result.context?.agentId), relayInstance }
            : { agentId: String(result.context?.agentId) };
        } catch {
          return undefined; // 'Unauthorized' -> 401, as API Gateway does
        }
      },
      async connect(connectionId, ctx) {
        invocations.connect++;
        const answer = await h().connect.handler(wsEvent(connectionId, ctx, '$connect'));
        // API Gateway refuses the upgrade with the $connect status; this gateway has already
        // completed the handshake, so it closes with 4000 + status (4409 for 409) instead.
        if (answer.statusCode >= 300) return { refuse: { code: 4000 + answer.statusCode, reason: answer.body || 'refused by $connect' } };
      },
      async message(connectionId, ctx, raw, routeKey) {
        await sleep(options.delays?.wsRouteMs ?? 0);
        invocations.message++;
        await h().message.handler(wsEvent(connectionId, ctx, routeKey, raw));
      },
      async disconnect(connectionId, ctx) {
        invocations.disconnect++;
        await h().disconnect.handler(wsEvent(connectionId, ctx, '$disconnect'));
      },
    },
  });

  Object.assign(process.env, {
    AWS_REGION: TEST_REGION,
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    EDGEPUSH_TABLE: table,
    EDGEPUSH_QUEUE_URL: queueUrl,
    EDGEPUSH_INBOUND_QUEUE_URL: inboundQueueUrl,
    EDGEPUSH_WS_MANAGEMENT_ENDPOINT: gateway.endpoint,
    EDGEPUSH_DYNAMODB_ENDPOINT: dynalite.endpoint,
    EDGEPUSH_SQS_ENDPOINT: fauxqs.endpoint,
    EDGEPUSH_BODY_BUCKET: bodyBucket,
    EDGEPUSH_S3_ENDPOINT: s3.endpoint,
    EDGEPUSH_AGENT_KEY_SECRET: 'edgepush-agent-key',
    EDGEPUSH_IDEMPOTENT_CREATE: 'two-step-for-dynalite', // dynalite has no TransactWriteItems
    EDGEPUSH_SECRETSMANAGER_ENDPOINT: secretsManager.endpoint,
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    ...options.env,
  });

  handlers = {
    http: require('../../lambdas/handlers/http'),
    authorizer: require('../../lambdas/handlers/ws-authorizer'),
    connect: require('../../lambdas/handlers/ws-connect'),
    disconnect: require('../../lambdas/handlers/ws-disconnect'),
    message: require('../../lambdas/handlers/ws-message'),
    dispatcher: require('../../lambdas/handlers/sqs-dispatcher'),
    webhook: require('../../lambdas/handlers/webhook-delivery'),
    runtime: require('../../lambdas/handlers/runtime'),
  };

  handlers.runtime.resetRuntime();
  if (options.delays) {
    const { clients } = handlers.runtime.getRuntime();
    delayCalls(clients.dynamo, options.delays.dynamoMs);
    delayCalls(clients.sqs, options.delays.sqsMs);
    delayCalls(clients.management, options.delays.postToConnectionMs);
  }

  // ---- HTTP API ----
  // eslint-disable-next-line @typescript-eslint/no-misused-promises -- the handler catches its own errors
  const httpServer: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const headers: Record<string, string> = { 'x-forwarded-proto': 'http' };
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
    const body = await readBody(req);
    const event: APIGatewayProxyEventV2 = {
      version: '2.0',
      routeKey: '$default',
      rawPath: url.pathname,
      rawQueryString: url.search.slice(1),
      headers,
      body: body || undefined,
      isBase64Encoded: false,
      requestContext: {
        accountId: '000000000000',
        apiId: 'emulated',
        domainName: headers.host ?? 'localhost',
        domainPrefix: 'emulated',
        http: {
          method: req.method ?? 'GET',
          path: url.pathname,
          protocol: 'HTTP/1.1',
          sourceIp: '127.0.0.1',
          userAgent: headers['user-agent'] ?? '',
        },
        requestId: randomUUID(),
        routeKey: '$default',
        stage: '$default',
        time: new Date().toISOString(),
        timeEpoch: Date.now(),
      },
    };
    invocations.http++;
    const deadline = Date.now() + (options.httpTimeoutMs ?? 29_000);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('Task timed out')), deadline - Date.now());
    });
    try {
      const out = await Promise.race([
        h().http.handler(event, { getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()) }),
        timedOut,
      ]);
      res.writeHead(out.statusCode ?? 200, (out.headers ?? {}) as Record<string, string>).end(out.body ?? '');
    } catch {
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"message":"Internal Server Error"}');
    } finally {
      clearTimeout(timer);
    }
  });
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const httpUrl = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;

  // ---- SQS event source mappings: the push queue -> dispatcher, the inbound queue -> webhook ----
  const sqs = new SQSClient({ region: TEST_REGION, endpoint: fauxqs.endpoint, credentials: TEST_CREDENTIALS });
  const pollerCalls = { receive: 0, delete: 0 };
  let polling = true;
  const pollInterval = options.pollIntervalMs ?? 25;
  const mapping = async (
    url: string,
    invoke: (event: SQSEvent) => Promise<SQSBatchResponse>,
    count: () => void,
    calls?: typeof pollerCalls,
  ) => {
    while (polling) {
      let records: SQSRecord[] = [];
      try {
        if (calls) calls.receive++;
        const out = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: url,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: options.pollWaitSeconds ?? 0,
            MessageSystemAttributeNames: ['All'],
          }),
        );
        records = (out.Messages ?? []).map((m) => ({
          messageId: m.MessageId!,
          receiptHandle: m.ReceiptHandle!,
          body: m.Body!,
          attributes: m.Attributes as unknown as SQSRecord['attributes'],
          messageAttributes: {},
          md5OfBody: m.MD5OfBody ?? '',
          eventSource: 'aws:sqs',
          eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:emulated.fifo',
          awsRegion: TEST_REGION,
        }));
      } catch {
        if (!polling) break;
      }
      if (records.length === 0) {
        await new Promise((r) => setTimeout(r, pollInterval));
        continue;
      }
      count();
      await sleep(options.delays?.esmMs ?? 0);
      const result = await invoke({ Records: records }).catch(() => ({
        batchItemFailures: records.map((r) => ({ itemIdentifier: r.messageId })),
      }));
      const failed = new Set(result.batchItemFailures.map((f) => f.itemIdentifier));
      for (const record of records.filter((r) => !failed.has(r.messageId))) {
        if (calls) calls.delete++;
        await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: record.receiptHandle })).catch(() => undefined);
      }
    }
  };
  const pollers = [
    mapping(
      queueUrl,
      (e) => h().dispatcher.handler(e),
      () => invocations.dispatcher++,
      pollerCalls,
    ),
    mapping(
      inboundQueueUrl,
      (e) => h().webhook.handler(e),
      () => invocations.webhook++,
    ),
  ];

  return {
    httpUrl,
    wsUrl: gateway.wsUrl,
    queueUrl,
    storage: { dynamoEndpoint: dynalite.endpoint, tableName: table, s3Endpoint: s3.endpoint, bodyBucket },
    invocations,
    pollerCalls,
    handlers,
    secretsManager,
    async stop() {
      polling = false;
      await Promise.all(pollers);
      await new Promise<void>((resolve) => {
        httpServer.close(() => resolve());
        httpServer.closeAllConnections();
      });
      await gateway.close();
      const rt = handlers?.runtime.getRuntime();
      rt?.clients.dynamo.destroy();
      rt?.clients.sqs.destroy();
      rt?.clients.management.destroy();
      rt?.clients.secrets.destroy();
      rt?.clients.s3?.destroy();
      handlers?.runtime.resetRuntime();
      sqs.destroy();
      await Promise.all([dynalite.close(), fauxqs.close(), s3.close(), secretsManager.close()]);
    },
  };
}
