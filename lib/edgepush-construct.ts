/**
 * EdgePush's cloud side as one reusable construct: the HTTP push API and the relays'
 * WebSocket API on API Gateway, eight small Lambdas, one DynamoDB table, two SQS FIFO queues
 * (pushes, inbound webhook deliveries) each with a DLQ, alarms and a dashboard. Embed it in any CDK app; EdgePushStack is the
 * stand-alone wrapper. Every prop has a default that deploys on a fresh account.
 */
import path from 'node:path';
import { CfnElement, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  DomainName,
  HttpApi,
  HttpMethod,
  HttpNoneAuthorizer,
  HttpStage,
  LogGroupLogDestination,
  WebSocketApi,
  WebSocketStage,
  type CfnStage,
  type IHttpRouteAuthorizer,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer, HttpJwtAuthorizer, WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration, WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { ICertificate } from 'aws-cdk-lib/aws-certificatemanager';
import { AttributeType, Billing, ProjectionType, TableEncryptionV2, TableV2, type ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { Grant, PolicyStatement, Role, ServicePrincipal, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Architecture, LoggingFormat, Runtime } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { DeduplicationScope, FifoThroughputLimit, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { AGENT_ID_HEADER, AGENT_SECRET_HEADER } from '../protocol/messages';
import { RELAY_ROUTE_KEYS } from '../protocol/relay-routes';
import { AWS_MAX_BODY_BYTES } from '../lambdas/adapters/aws/aws-limits';
import { BODY_KEY_PREFIX } from '../lambdas/adapters/aws/s3-body-store';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import { createBodyBucket } from './body-bucket';
import { AGENT_ID_RULE, isAgentId } from '../protocol/names';
import { agentKey } from '../lambdas/adapters/aws/dynamo-keys';
import { AGENTS_INDEX_DEFINITION, BY_AGENT_INDEX, LIST_INDEXES } from '../lambdas/adapters/aws/dynamo-list-index';
import { WEBHOOK_TIMEOUT_SECONDS } from '../lambdas/handlers/webhook-visibility';
import { DISPATCH_WINDOW_ENV, MAX_DISPATCH_WINDOW } from '../lambdas/handlers/dispatch-window';
import { API_GATEWAY_ROUTES, type Scope } from '../lambdas/http/routes';
import { HTTP_ACCESS_LOG_FORMAT, WEBSOCKET_ACCESS_LOG_FORMAT } from './access-log-formats';
import { createApiGatewayCloudWatchRole } from './api-gateway-account';
import { addConsoleSite } from './console-site';
import { ConfigError } from './config-error';
import { LAMBDA_DEFINE, LAMBDA_ENTRIES, LAMBDA_EXTERNALS, LAMBDA_NODE_TARGET, type LambdaName } from './lambda-bundling';
import { EdgePushMonitoring } from './monitoring';

/** The newest Node.js Lambda runtime (cdk-nag L1); LAMBDA_NODE_TARGET matches it. */
const LAMBDA_RUNTIME = Runtime.NODEJS_24_X;

export type EdgePushAuth = { type: 'iam' } | { type: 'jwt'; issuer: string; audience: string[] };

export interface Throttle {
  rateLimit: number;
  burstLimit: number;
}

/** A custom domain: relays and callers must not hard-code an execute-api URL. */
export interface EdgePushDomain {
  /** e.g. `relay.example.com`. Point a CNAME (or Route 53 alias) at the stack output's target. */
  domainName: string;
  /** An ACM certificate for domainName, in the stack's Region. */
  certificate: ICertificate;
}

/**
 * WebSocket access logs need the account's API Gateway CloudWatch role in the Region; a stage
 * with access logs fails on an account without it ("CloudWatch Logs role ARN must be set in
 * account settings"). The setting is account-wide, so creating it is opt-in.
 * - `off`: no WebSocket access logs (the Lambdas still log every connect, disconnect and result);
 * - `create-account-role`: this stack creates the role and sets it (AWS::ApiGateway::Account);
 * - `account-role-exists`: the deployer states the account already has it (README, deploy steps).
 */
export type WebSocketAccessLogs = 'off' | 'create-account-role' | 'account-role-exists';

/** The core's tunables (lambdas/core/core-config.ts), passed to the Lambdas as env. */
export interface CoreTunables {
  /**
   * Largest push body in UTF-8 bytes; at most AWS_MAX_BODY_BYTES (a push request is one Lambda
   * invocation of at most 6 MB, see lambdas/adapters/aws/aws-limits.ts). @default 5242880
   */
  maxBodyBytes?: number;
  /** How long a dispatched push may wait for the relay's result before it is sent again. @default 35000 */
  resultTimeoutMs?: number;
  /** Retry delay while the relay is offline or the device unreachable. @default 2000 */
  offlineRetryMs?: number;
  /** The longest wait between two attempts at an unreachable device (the wait doubles from offlineRetryMs). @default 120000 */
  maxRetryMs?: number;
  /** Dispatches without a result before a push is failed. @default 5 */
  maxAttempts?: number;
}

const CORE_ENV: Record<keyof CoreTunables, string> = {
  maxBodyBytes: 'EDGEPUSH_MAX_BODY_BYTES',
  resultTimeoutMs: 'EDGEPUSH_RESULT_TIMEOUT_MS',
  offlineRetryMs: 'EDGEPUSH_OFFLINE_RETRY_MS',
  maxRetryMs: 'EDGEPUSH_MAX_RETRY_MS',
  maxAttempts: 'EDGEPUSH_MAX_ATTEMPTS',
};

/**
 * Reserved concurrency. The HTTP function waits for ACKs (up to 25 s each), so without a cap
 * waiting pushes can take the account's whole concurrency, and then the functions that record
 * results are throttled and nothing can finish. Its reservation is also its cap; the result
 * path (authorizer, connect, disconnect, ws-message, dispatcher) gets its own reservations.
 */
export const DEFAULT_RESERVED_CONCURRENCY: Readonly<Partial<Record<LambdaName, number>>> = {
  http: 100,
  wsAuthorizer: 20,
  wsConnect: 10,
  wsDisconnect: 10,
  wsMessage: 50,
  dispatcher: 20,
  webhook: 20,
};
/** Lambda keeps at least this much of the account's concurrency unreserved. */
export const MIN_UNRESERVED_CONCURRENCY = 100;
/** Lambda's default account concurrency limit (new accounts may have less). */
export const DEFAULT_ACCOUNT_CONCURRENCY = 1000;

export interface EdgePushProps {
  /** How push API callers authenticate. @default { type: 'iam' } (SigV4) */
  auth?: EdgePushAuth;
  /** Days a push is kept before DynamoDB TTL deletes it. @default 30 */
  retentionDays?: number;
  /** Push API stage throttle. @default { rateLimit: 100, burstLimit: 200 } */
  throttle?: Throttle;
  /** Relay WebSocket stage throttle (connects and messages together). @default { rateLimit: 500, burstLimit: 1000 } */
  webSocketThrottle?: Throttle;
  /** CloudWatch retention for the Lambda and access log groups. @default RetentionDays.ONE_YEAR */
  logRetention?: RetentionDays;
  /** What happens to the table (PHI until TTL) on stack deletion. @default RemovalPolicy.RETAIN */
  tableRemovalPolicy?: RemovalPolicy;
  /** What happens to the log groups (the audit trail) on stack deletion. @default RemovalPolicy.RETAIN */
  logRemovalPolicy?: RemovalPolicy;
  /** DynamoDB deletion protection on the table. @default true */
  deletionProtection?: boolean;
  /**
   * Bring your own table: string partition key `pk`, TTL on `ttl`, encrypted, with PITR.
   * @default a new table
   */
  table?: ITable;
  /**
   * A customer-managed KMS key for the table, the queues, the log groups and the alarm topic.
   * Its key policy must let CloudWatch Logs (`logs.<region>.amazonaws.com`) and CloudWatch
   * (`cloudwatch.amazonaws.com`) use it; a key created in the same stack gets those statements.
   * @default AWS-managed keys
   */
  encryptionKey?: IKey;
  /** Memory per function, in MB (128-10240). @default 256 for every function */
  memorySize?: Partial<Record<LambdaName, number>>;
  /**
   * Reserved concurrency per function; `false` reserves none (accounts whose limit is too low).
   * @default DEFAULT_RESERVED_CONCURRENCY (http 100, wsMessage 50, dispatcher 20, wsAuthorizer 20, wsConnect 10, wsDisconnect 10)
   */
  reservedConcurrency?: Partial<Record<LambdaName, number>> | false;
  /**
   * The account's Lambda concurrency limit (`aws lambda get-account-settings`): synth fails
   * clearly, instead of deploy failing late, when the reservations do not leave 100 unreserved.
   * @default 1000
   */
  accountConcurrencyLimit?: number;
  /** The core's tunables. @default the core's defaults */
  core?: CoreTunables;
  /**
   * Pushes of one device the dispatcher sends ahead to the relay before the first one's result
   * (lambdas/handlers/dispatch-window.ts); the relay still delivers them one at a time, in order.
   * 1 sends one push per SQS receive cycle. At most the event source's batch size (10), which
   * bounds it anyway. @default 10
   */
  dispatchWindow?: number;
  /** Custom domain for the push API. @default none: the execute-api URL */
  pushApiDomain?: EdgePushDomain;
  /** Custom domain for the relays' WebSocket API. @default none: the execute-api URL */
  relayDomain?: EdgePushDomain;
  /** Where alarms notify. @default a new SNS topic */
  alarmTopic?: ITopic;
  /** An email address subscribed to the alarm topic. @default none */
  alarmEmail?: string;
  /** Alarm when the oldest queued push is older than this many seconds. @default 3600 */
  queueAgeAlarmSeconds?: number;
  /** WebSocket access logging and the account's API Gateway CloudWatch role. @default 'off' */
  webSocketAccessLogs?: WebSocketAccessLogs;
  /** An EventBridge bus that gets an event per stored inbound message (metadata, no body). @default none */
  eventBus?: IEventBus;
  /** Alarm when the oldest waiting webhook delivery is older than this many seconds. @default 3600 */
  inboundQueueAgeAlarmSeconds?: number;
}

/** Records per dispatcher invocation: FIFO batches are at most 10, and they bound the dispatch window. */
const DISPATCHER_BATCH_SIZE = MAX_DISPATCH_WINDOW;

/** Visibility timeout must be at least the dispatcher's timeout (SQS event source rule). */
const DISPATCHER_TIMEOUT = Duration.seconds(30);
/** Receives before a message is dead-lettered; see lambdas/handlers/retry-visibility.ts. */
export const MAX_RECEIVE_COUNT = 1000;
/** SQS's largest message; our messages are tiny pointers, but the limit is set explicitly. */
const MAX_MESSAGE_BYTES = 1024 * 1024;
const PROJECT_ROOT = path.join(__dirname, '..');
const WS_STAGE_NAME = 'relay';
const HTTP_STAGE_NAME = '$default';

/** Retention, removal and key shared by every log group the construct creates. */
interface LogSettings {
  retention: RetentionDays;
  removalPolicy: RemovalPolicy;
  encryptionKey?: IKey;
}

export class EdgePush extends Construct {
  readonly table: ITable;
  /** Push bodies over the inline limit (lib/body-bucket.ts). */
  readonly bodyBucket: Bucket;
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  /** Inbound messages waiting for their webhook delivery (FIFO, a group per agent+channel). */
  readonly inboundQueue: Queue;
  readonly inboundDeadLetterQueue: Queue;
  readonly httpApi: HttpApi;
  readonly httpStage: HttpStage;
  readonly webSocketApi: WebSocketApi;
  readonly webSocketStage: WebSocketStage;
  readonly functions: Record<LambdaName, NodejsFunction>;
  /** Serves the web console's static files at GET /console/ (lib/console-site.ts). */
  readonly consoleFunction: NodejsFunction;
  readonly logGroups: Record<LambdaName | 'pushApiAccess' | 'console', LogGroup> & { relayApiAccess?: LogGroup };
  readonly monitoring: EdgePushMonitoring;
  /** Base URL of the push API (the custom domain's when there is one). */
  readonly pushApiUrl: string;
  /** The URL relays connect to (the custom domain's when there is one). */
  readonly webSocketUrl: string;
  readonly pushApiDomain?: DomainName;
  readonly relayDomain?: DomainName;
  private readonly auth: EdgePushAuth;

  constructor(scope: Construct, id: string, props: EdgePushProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    this.auth = props.auth ?? { type: 'iam' };
    const key = props.encryptionKey;
    const reserved = reservations(props);
    if (key && !props.table && Token.isUnresolved(stack.region)) {
      // A TableV2 names its key per Region; CloudFormation cannot resolve it Region-agnostically.
      throw new ConfigError('a customer-managed key needs a Region-specific stack: deploy with an AWS profile or AWS_REGION set');
    }
    for (const [name, mb] of Object.entries(props.memorySize ?? {})) checkMemory(name, mb);
    const logs = {
      retention: props.logRetention ?? RetentionDays.ONE_YEAR,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
      encryptionKey: key,
    };

    this.table = props.table ?? this.createTable(props, key);
    this.bodyBucket = createBodyBucket(this, 'BodyBucket', {
      retentionDays: props.retentionDays ?? 30,
      removalPolicy: props.tableRemovalPolicy ?? RemovalPolicy.RETAIN,
      encryptionKey: key,
    });
    [this.queue, this.deadLetterQueue] = this.createQueues(key);
    [this.inboundQueue, this.inboundDeadLetterQueue] = this.createInboundQueues(key);
    this.webSocketApi = new WebSocketApi(this, 'RelayApi', {
      description: 'EdgePush relays connect here',
      routeSelectionExpression: '$request.body.action',
    });
    const agentKey = this.createAgentKey(key);
    const env = this.functionEnvironment(
      props,
      agentKey,
      `https://${this.webSocketApi.apiId}.execute-api.${stack.region}.${stack.urlSuffix}/${WS_STAGE_NAME}`,
    );
    const { functions, logGroups } = this.createFunctions(props, env, reserved, logs);
    this.functions = functions;
    this.grantLeastPrivilege(key, reserved.dispatcher);
    this.grantBodies();
    this.grantInbound(agentKey, reserved.webhook, props.eventBus);
    // Creating an agent hashes its secret; the authorizer verifies (and migrates old hashes).
    const readAgentKey = new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [agentKey.secretArn] });
    this.functions.http.addToRolePolicy(readAgentKey);
    this.functions.wsAuthorizer.addToRolePolicy(readAgentKey);

    const relay = this.createRelayApi(props, logs);
    this.relayDomain = relay.domain;
    this.webSocketStage = relay.stage;
    this.grantManageConnections();
    const pushApi = this.createPushApi(props, logs);
    this.httpApi = pushApi.api;
    this.httpStage = pushApi.stage;
    this.pushApiDomain = pushApi.domain;
    const site = addConsoleSite(this, { api: this.httpApi, runtime: LAMBDA_RUNTIME, logs });
    this.consoleFunction = site.fn;
    this.logGroups = { ...logGroups, console: site.logGroup, pushApiAccess: pushApi.accessLogs, relayApiAccess: relay.accessLogs };

    this.pushApiUrl = this.pushApiDomain
      ? `https://${props.pushApiDomain!.domainName}/`
      : `https://${this.httpApi.apiId}.execute-api.${stack.region}.${stack.urlSuffix}/`;
    this.webSocketUrl = this.relayDomain
      ? `wss://${props.relayDomain!.domainName}`
      : `wss://${this.webSocketApi.apiId}.execute-api.${stack.region}.${stack.urlSuffix}/${WS_STAGE_NAME}`;

    this.monitoring = new EdgePushMonitoring(this, 'Monitoring', {
      edgePush: this,
      topic: props.alarmTopic,
      email: props.alarmEmail,
      encryptionKey: key,
      queueAgeAlarmSeconds: props.queueAgeAlarmSeconds ?? 3600,
      inboundQueueAgeAlarmSeconds: props.inboundQueueAgeAlarmSeconds ?? 3600,
    });
  }

  /**
   * The inbound queue: webhook deliveries, FIFO per (agent, channel) (lambdas/adapters/aws/sqs-inbound-queue.ts).
   * Its own queue, so neither direction's backlog sits in the other's group-scan window. A message
   * is dead-lettered after MAX_RECEIVE_COUNT receives (the core's retry period ends far sooner)
   * or when its delivery keeps crashing; the DLQ keeps it 14 days for a redrive, with an alarm.
   */
  private createInboundQueues(key: IKey | undefined): [Queue, Queue] {
    const deadLetterQueue = new Queue(this, 'InboundDeadLetterQueue', {
      fifo: true,
      ...queueEncryption(key),
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const queue = new Queue(this, 'InboundQueue', {
      fifo: true,
      contentBasedDeduplication: false,
      deduplicationScope: DeduplicationScope.MESSAGE_GROUP,
      fifoThroughputLimit: FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
      ...queueEncryption(key),
      enforceSSL: true,
      // Twice the webhook Lambda's timeout: a crashed delivery comes back within minutes.
      visibilityTimeout: Duration.seconds(2 * WEBHOOK_TIMEOUT_SECONDS),
      // SQS's longest: the core's webhook retry period must end well before it.
      retentionPeriod: Duration.days(14),
      deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });
    return [queue, deadLetterQueue];
  }

  /**
   * The inbound direction's grants. ws-message stores what relays send (TransactWriteItems needs
   * the Put/Update of its actions; body parts are put, read back for a duplicate, and deleted
   * when the message was one) and enqueues it; the HTTP function lists and reads messages and
   * sets webhooks; the webhook Lambda reads the message and the webhook, records attempts, and
   * unseals the webhook secret with the server key.
   */
  private grantInbound(agentKey: Secret, concurrency: number | undefined, eventBus: IEventBus | undefined): void {
    const f = this.functions;
    const table = (actions: string[]) =>
      new PolicyStatement({ actions: actions.map((a) => `dynamodb:${a}`), resources: [this.table.tableArn] });
    f.wsMessage.addToRolePolicy(table(['PutItem', 'DeleteItem', 'BatchGetItem']));
    f.wsMessage.addToRolePolicy(new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.inboundQueue.queueArn] }));
    f.http.addToRolePolicy(table(['BatchGetItem']));
    f.webhook.addToRolePolicy(table(['GetItem', 'UpdateItem', 'BatchGetItem']));
    f.webhook.addToRolePolicy(new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [agentKey.secretArn] }));
    f.webhook.addEventSource(
      new SqsEventSource(this.inboundQueue, {
        batchSize: 10,
        reportBatchItemFailures: true,
        maxConcurrency: concurrency !== undefined && concurrency >= 2 ? concurrency : undefined,
      }),
    );
    if (eventBus) eventBus.grantPutEventsTo(f.wsMessage);
  }

  /** The push queue (FIFO, a group per device) and its dead-letter queue. */
  private createQueues(key: IKey | undefined): [Queue, Queue] {
    const deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      fifo: true,
      ...queueEncryption(key),
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      // At least the dead-letter consumer's timeout (SQS event source rule).
      visibilityTimeout: Duration.seconds(60),
    });
    const queue = new Queue(this, 'PushQueue', {
      fifo: true,
      contentBasedDeduplication: false,
      // High-throughput FIFO: dedup and throughput per message group (per device).
      deduplicationScope: DeduplicationScope.MESSAGE_GROUP,
      fifoThroughputLimit: FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
      ...queueEncryption(key),
      enforceSSL: true,
      maxMessageSizeBytes: MAX_MESSAGE_BYTES,
      visibilityTimeout: Duration.seconds(60),
      // Longer than the largest expiresIn (7 days): the core expires pushes, not SQS.
      retentionPeriod: Duration.days(14),
      deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });
    return [queue, deadLetterQueue];
  }

  /** The HMAC key agent secrets are hashed with (lambdas/core/secrets.ts). */
  private createAgentKey(key: IKey | undefined): Secret {
    // Retained: losing it would invalidate every agent's secret.
    const agentKey = new Secret(this, 'AgentSecretKey', {
      description: 'EdgePush: HMAC-SHA-256 key for agent secrets',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      removalPolicy: RemovalPolicy.RETAIN,
      encryptionKey: key,
    });
    Validations.of(agentKey).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SMG4',
      reason: 'Rotating the HMAC key would invalidate every stored agent secret hash; agents are re-keyed by creating new secrets.',
    });
    return agentKey;
  }

  /** What every function reads from its environment: resources, retention and core tunables. */
  private functionEnvironment(props: EdgePushProps, agentKey: Secret, managementEndpoint: string): Record<string, string> {
    const env: Record<string, string> = {
      EDGEPUSH_AGENT_KEY_SECRET: agentKey.secretArn,
      EDGEPUSH_TABLE: this.table.tableName,
      EDGEPUSH_BODY_BUCKET: this.bodyBucket.bucketName,
      EDGEPUSH_QUEUE_URL: this.queue.queueUrl,
      EDGEPUSH_INBOUND_QUEUE_URL: this.inboundQueue.queueUrl,
      EDGEPUSH_WS_MANAGEMENT_ENDPOINT: managementEndpoint,
      EDGEPUSH_RETENTION_DAYS: String(props.retentionDays ?? 30),
      POWERTOOLS_SERVICE_NAME: 'edgepush',
      POWERTOOLS_METRICS_NAMESPACE: 'EdgePush',
      NODE_OPTIONS: '--enable-source-maps',
    };
    if (props.eventBus) env.EDGEPUSH_EVENT_BUS = props.eventBus.eventBusName;
    if (props.dispatchWindow !== undefined) {
      const w = props.dispatchWindow;
      if (!(Number.isInteger(w) && w >= 1 && w <= DISPATCHER_BATCH_SIZE)) {
        throw new ConfigError(
          `dispatchWindow must be a whole number from 1 to ${DISPATCHER_BATCH_SIZE} (the dispatcher's batch size), not ${w}`,
        );
      }
      env[DISPATCH_WINDOW_ENV] = String(w);
    }
    for (const [name, value] of Object.entries(props.core ?? {}) as [keyof CoreTunables, number | undefined][]) {
      if (value === undefined) continue;
      if (!(Number.isFinite(value) && value > 0)) throw new ConfigError(`core.${name} must be a positive number`);
      if (name === 'maxBodyBytes' && value > AWS_MAX_BODY_BYTES)
        throw new ConfigError(
          `core.maxBodyBytes must be at most ${AWS_MAX_BODY_BYTES} on AWS (a push request is one Lambda invocation of at most 6 MB)`,
        );
      env[CORE_ENV[name]] = String(value);
    }
    return env;
  }

  /** The eight Lambdas, each with its own role and log group. */
  private createFunctions(
    props: EdgePushProps,
    env: Record<string, string>,
    reserved: Partial<Record<LambdaName, number>>,
    logs: LogSettings,
  ): { functions: Record<LambdaName, NodejsFunction>; logGroups: Record<LambdaName, LogGroup> } {
    const logGroups = {} as Record<LambdaName, LogGroup>;
    const fn = (name: LambdaName, timeout: Duration) => {
      const id = `${name[0].toUpperCase()}${name.slice(1)}`;
      const logGroup = new LogGroup(this, `${name}Logs`, logs);
      logGroups[name] = logGroup;
      // Own role instead of AWSLambdaBasicExecutionRole: logs only to this function's group.
      const role = new Role(this, `${id}Role`, { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
      role.addToPolicy(new PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }));
      return new NodejsFunction(this, `${id}Function`, {
        role,
        entry: path.join(PROJECT_ROOT, LAMBDA_ENTRIES[name]),
        handler: 'handler',
        projectRoot: PROJECT_ROOT,
        depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
        runtime: LAMBDA_RUNTIME,
        architecture: Architecture.ARM_64,
        memorySize: props.memorySize?.[name] ?? 256,
        timeout,
        reservedConcurrentExecutions: reserved[name],
        environment: env,
        loggingFormat: LoggingFormat.JSON,
        logGroup,
        bundling: {
          forceDockerBundling: false,
          minify: true,
          sourceMap: false,
          target: LAMBDA_NODE_TARGET,
          format: OutputFormat.CJS,
          externalModules: LAMBDA_EXTERNALS,
          define: LAMBDA_DEFINE,
        },
      });
    };
    const functions = {
      // Waits up to waitTimeout (25 s max) for the ACK, inside API Gateway's 30 s.
      http: fn('http', Duration.seconds(29)),
      wsAuthorizer: fn('wsAuthorizer', Duration.seconds(10)),
      wsConnect: fn('wsConnect', Duration.seconds(10)),
      wsDisconnect: fn('wsDisconnect', Duration.seconds(10)),
      wsMessage: fn('wsMessage', Duration.seconds(10)),
      dispatcher: fn('dispatcher', DISPATCHER_TIMEOUT),
      deadLetter: fn('deadLetter', Duration.seconds(30)),
      webhook: fn('webhook', Duration.seconds(WEBHOOK_TIMEOUT_SECONDS)),
    };
    return { functions, logGroups };
  }

  /** The relays' WebSocket API: the $connect authorizer, the message routes, the stage and its logs. */
  private createRelayApi(props: EdgePushProps, logs: LogSettings): { stage: WebSocketStage; domain?: DomainName; accessLogs?: LogGroup } {
    const wsAuthorizer = new WebSocketLambdaAuthorizer('AgentAuthorizer', this.functions.wsAuthorizer, {
      identitySource: [`route.request.header.${AGENT_ID_HEADER}`, `route.request.header.${AGENT_SECRET_HEADER}`],
    });
    this.webSocketApi.addRoute('$connect', {
      integration: new WebSocketLambdaIntegration('Connect', this.functions.wsConnect),
      authorizer: wsAuthorizer,
    });
    const unauthorisedRoutes = [
      this.webSocketApi.addRoute('$disconnect', { integration: new WebSocketLambdaIntegration('Disconnect', this.functions.wsDisconnect) }),
    ];
    const messages = new WebSocketLambdaIntegration('Message', this.functions.wsMessage);
    for (const route of RELAY_ROUTE_KEYS) {
      unauthorisedRoutes.push(this.webSocketApi.addRoute(route, { integration: messages }));
    }
    for (const route of unauthorisedRoutes) {
      Validations.of(route).acknowledge({
        id: 'AwsSolutions::AwsSolutions-APIG4',
        reason:
          'API Gateway WebSocket APIs authorise only $connect; this route runs on a connection the $connect REQUEST authorizer already authenticated (agent id + secret), and the handler takes the agent id from that authorizer context.',
      });
    }
    const domain = props.relayDomain
      ? new DomainName(this, 'RelayDomain', {
          domainName: props.relayDomain.domainName,
          certificate: props.relayDomain.certificate,
        })
      : undefined;
    const wsLogsMode = props.webSocketAccessLogs ?? 'off';
    let relayApiAccess: LogGroup | undefined;
    if (wsLogsMode !== 'off') {
      relayApiAccess = new LogGroup(this, 'RelayApiAccessLogs', logs);
    }
    const stage = new WebSocketStage(this, 'RelayStage', {
      webSocketApi: this.webSocketApi,
      stageName: WS_STAGE_NAME,
      autoDeploy: true,
      throttle: props.webSocketThrottle ?? { rateLimit: 500, burstLimit: 1000 },
      accessLogSettings: relayApiAccess
        ? { destination: new LogGroupLogDestination(relayApiAccess), format: AccessLogFormat.custom(WEBSOCKET_ACCESS_LOG_FORMAT) }
        : undefined,
      domainMapping: domain ? { domainName: domain } : undefined,
    });
    const wsCfnStage = stage.node.defaultChild as CfnStage;
    if (wsLogsMode === 'create-account-role') {
      wsCfnStage.addResourceDependency(createApiGatewayCloudWatchRole(this).account);
    } else if (wsLogsMode === 'account-role-exists') {
      // Read by test/cdk/aws-spec.test.ts: logging without the role is allowed only as a stated prerequisite.
      wsCfnStage.addMetadata(
        'EdgePush::CloudWatchRolePrerequisite',
        'The account has an API Gateway CloudWatch role in this Region (README, "Deploying to AWS").',
      );
    } else {
      Validations.of(stage).acknowledge({
        id: 'AwsSolutions::AwsSolutions-APIG1',
        reason:
          'WebSocket access logs need the account-wide API Gateway CloudWatch role, which a fresh account lacks; they are opt-in (webSocketAccessLogs). The Lambdas log every connect, disconnect and message with the agent and connection ids.',
      });
    }
    return { stage, domain, accessLogs: relayApiAccess };
  }

  /** The push API: one route per entry of the route table, its authorizer, stage and access logs. */
  private createPushApi(
    props: EdgePushProps,
    logs: LogSettings,
  ): { api: HttpApi; stage: HttpStage; domain?: DomainName; accessLogs: LogGroup } {
    const protectedAuthorizer: IHttpRouteAuthorizer =
      this.auth.type === 'jwt'
        ? new HttpJwtAuthorizer('JwtAuthorizer', this.auth.issuer, { jwtAudience: this.auth.audience })
        : new HttpIamAuthorizer();
    const api = new HttpApi(this, 'PushApi', { description: 'EdgePush push API', createDefaultStage: false });
    const httpIntegration = new HttpLambdaIntegration('Http', this.functions.http);
    for (const { routeKey, scope } of API_GATEWAY_ROUTES) {
      const [method, routePath] = routeKey.split(' ');
      const routes = api.addRoutes({
        path: routePath,
        methods: [method as HttpMethod],
        integration: httpIntegration,
        authorizer: scope === null ? new HttpNoneAuthorizer() : protectedAuthorizer,
        authorizationScopes: scope !== null && this.auth.type === 'jwt' ? [scope] : undefined,
      });
      if (scope === null) {
        for (const route of routes) {
          Validations.of(route).acknowledge({
            id: 'AwsSolutions::AwsSolutions-APIG4',
            reason: 'GET /health is the unauthenticated liveness probe of DESIGN.md; it returns no data.',
          });
        }
      }
    }
    const domain = props.pushApiDomain
      ? new DomainName(this, 'PushApiDomain', {
          domainName: props.pushApiDomain.domainName,
          certificate: props.pushApiDomain.certificate,
        })
      : undefined;
    const accessLogs = new LogGroup(this, 'PushApiAccessLogs', logs);
    const stage = new HttpStage(this, 'PushStage', {
      httpApi: api,
      stageName: HTTP_STAGE_NAME,
      autoDeploy: true,
      throttle: props.throttle ?? { rateLimit: 100, burstLimit: 200 },
      accessLogSettings: { destination: new LogGroupLogDestination(accessLogs), format: AccessLogFormat.custom(HTTP_ACCESS_LOG_FORMAT) },
      domainMapping: domain ? { domainName: domain } : undefined,
    });
    return { api, stage, domain, accessLogs };
  }

  /** IAM auth: lets `grantee` push and read pushes (the `edgepush/push` routes). */
  grantPush(grantee: IGrantable): Grant {
    return this.grantRoutes(grantee, 'edgepush/push');
  }

  /** IAM auth: lets `grantee` read inbound messages (the `edgepush/receive` routes). */
  grantReceive(grantee: IGrantable): Grant {
    return this.grantRoutes(grantee, 'edgepush/receive');
  }

  /** IAM auth: lets `grantee` create and read agents, i.e. mint relay credentials (`edgepush/admin`). */
  grantAdmin(grantee: IGrantable): Grant {
    return this.grantRoutes(grantee, 'edgepush/admin');
  }

  /**
   * IAM auth: lets `grantee` push to one agent only: `execute-api:Invoke` on the `edgepush/push`
   * routes whose path names that agent (POST /agents/{agentId}/push, the Medplum $push). IAM
   * cannot see which agent a push id belongs to, so GET /pushes and /pushes/{pushId} are not
   * included: grant them with grantPush, or give the caller a JWT with an `agents` claim.
   */
  grantPushToAgent(grantee: IGrantable, agentId: string): Grant {
    if (!isAgentId(agentId)) throw new ConfigError(`grantPushToAgent: agentId must be ${AGENT_ID_RULE}`);
    return this.grantRoutes(grantee, 'edgepush/push', agentId);
  }

  /**
   * `execute-api:Invoke` on exactly the route ARNs of one scope (path parameters become `*`); with
   * `agentId`, only the routes acting on the agent in their path, with that agent's id in the ARN.
   */
  private grantRoutes(grantee: IGrantable, scope: Scope | 'edgepush/receive', agentId?: string): Grant {
    if (this.auth.type !== 'iam') {
      throw new ConfigError(`grants apply to IAM auth; with JWT auth give the caller's token the ${scope} scope`);
    }
    const routes = API_GATEWAY_ROUTES.filter((r) => r.scope === scope && (agentId === undefined || r.agent === 'path'));
    const arnPathOf = (routePath: string) =>
      (agentId === undefined ? routePath : routePath.replace('{agentId}', agentId)).replace(/\{[^}]+\}/g, '*');
    const resourceArns = routes.map(({ routeKey }) => {
      const [method, routePath] = routeKey.split(' ');
      return Stack.of(this).formatArn({
        service: 'execute-api',
        resource: this.httpApi.apiId,
        resourceName: `${HTTP_STAGE_NAME}/${method}${arnPathOf(routePath)}`,
      });
    });
    if (resourceArns.length === 0) return Grant.drop(grantee, `no ${scope} routes in this version`);
    const grant = Grant.addToPrincipal({ grantee, actions: ['execute-api:Invoke'], resourceArns });
    // The `*`s are path parameters (agent and push ids) of named routes, not wildcard access.
    if (grantee.grantPrincipal instanceof Construct) {
      const stack = Stack.of(this);
      const apiLogicalId = stack.resolve((this.httpApi.node.defaultChild as CfnElement).logicalId) as string;
      for (const { routeKey } of routes) {
        const [method, routePath] = routeKey.split(' ');
        Validations.of(grantee.grantPrincipal).acknowledge({
          id: `AwsSolutions::AwsSolutions-IAM5[Resource::${nagArnPrefix(stack, 'execute-api')}<${apiLogicalId}>/${HTTP_STAGE_NAME}/${method}${arnPathOf(routePath)}]`,
          reason: `The * in this route ARN stands for a path parameter (an agent or push id) of the EdgePush route ${routeKey}; the grant names the route.`,
        });
      }
    }
    return grant;
  }

  private createTable(props: EdgePushProps, key: IKey | undefined): TableV2 {
    return new TableV2(this, 'Table', {
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      billing: Billing.onDemand(),
      encryption: key ? TableEncryptionV2.customerManagedKey(key) : TableEncryptionV2.awsManagedKey(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: 'ttl',
      deletionProtection: props.deletionProtection ?? true,
      removalPolicy: props.tableRemovalPolicy ?? RemovalPolicy.RETAIN,
      // GET /pushes and GET /agents (lambdas/adapters/aws/dynamo-list-index.ts). A table you
      // bring (props.table) needs the same indexes.
      globalSecondaryIndexes: [
        ...LIST_INDEXES.map((index) => ({
          indexName: index.indexName,
          partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
          sortKey: { name: index.sortKey, type: AttributeType.STRING },
          // No body: a list never reads PHI it does not show.
          projectionType: ProjectionType.INCLUDE,
          nonKeyAttributes: index.nonKeyAttributes,
        })),
        {
          indexName: AGENTS_INDEX_DEFINITION.indexName,
          partitionKey: { name: AGENTS_INDEX_DEFINITION.partitionKey, type: AttributeType.STRING },
          sortKey: { name: AGENTS_INDEX_DEFINITION.sortKey, type: AttributeType.STRING },
          projectionType: ProjectionType.ALL,
        },
      ],
    });
  }

  /** Each function gets exactly the calls its code path makes. */
  private grantLeastPrivilege(key: IKey | undefined, dispatcherConcurrency: number | undefined): void {
    const table = (actions: string[], onlyAgents = false) =>
      new PolicyStatement({
        actions: actions.map((a) => `dynamodb:${a}`),
        resources: [this.table.tableArn],
        // Agent items only: these functions never see a push (its body is PHI).
        conditions: onlyAgents ? { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [agentKey('*')] } } : undefined,
      });
    const queue = (actions: string[]) => new PolicyStatement({ actions: actions.map((a) => `sqs:${a}`), resources: [this.queue.queueArn] });
    const f = this.functions;
    // Push create (idempotency item + push), agent create, status reads and ACK polling.
    // DeleteItem: DELETE /agents/{id}.
    f.http.addToRolePolicy(table(['DeleteItem', 'GetItem', 'PutItem', 'UpdateItem']));
    // DeleteMessage: cancelling a queued push releases its delivery so the next push goes.
    f.http.addToRolePolicy(queue(['SendMessage', 'DeleteMessage']));
    // GET /pushes and GET /agents read the list indexes.
    f.http.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:Query'],
        resources: [...LIST_INDEXES, AGENTS_INDEX_DEFINITION].map((index) => `${this.table.tableArn}/index/${index.indexName}`),
      }),
    );
    // UpdateItem for the authorizer: a successful connect re-stores an old scrypt hash as HMAC, once.
    f.wsAuthorizer.addToRolePolicy(table(['GetItem', 'UpdateItem'], true));
    f.wsConnect.addToRolePolicy(table(['UpdateItem'], true));
    f.wsDisconnect.addToRolePolicy(table(['UpdateItem'], true));
    // Results and hellos; a terminal result releases the push's SQS message early, and a
    // hello makes the agent's parked and in-flight messages visible again: it finds the sent
    // pushes in the by-agent index (in-flight-pushes.ts) and reads their receipts.
    f.wsMessage.addToRolePolicy(table(['GetItem', 'UpdateItem']));
    f.wsMessage.addToRolePolicy(
      new PolicyStatement({ actions: ['dynamodb:Query'], resources: [`${this.table.tableArn}/index/${BY_AGENT_INDEX}`] }),
    );
    // Parts of chunked relay messages wait in the table between invocations (dynamo-chunk-store.ts).
    f.wsMessage.addToRolePolicy(table(['PutItem', 'BatchGetItem', 'BatchWriteItem']));
    f.wsMessage.addToRolePolicy(queue(['ChangeMessageVisibility', 'DeleteMessage']));
    f.dispatcher.addToRolePolicy(table(['GetItem', 'UpdateItem']));
    f.dispatcher.addToRolePolicy(queue(['ChangeMessageVisibility', 'DeleteMessage']));
    f.dispatcher.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: DISPATCHER_BATCH_SIZE,
        reportBatchItemFailures: true,
        // Polls no faster than the reservation can run (Lambda's advice for SQS with reserved concurrency).
        maxConcurrency: dispatcherConcurrency !== undefined && dispatcherConcurrency >= 2 ? dispatcherConcurrency : undefined,
      }),
    );
    // Ends dead-lettered pushes (failed or expired); releasing tries the push's last receipt.
    f.deadLetter.addToRolePolicy(table(['GetItem', 'UpdateItem']));
    f.deadLetter.addToRolePolicy(queue(['DeleteMessage']));
    f.deadLetter.addEventSource(new SqsEventSource(this.deadLetterQueue, { batchSize: 10, reportBatchItemFailures: true }));
    if (key) {
      // The table and the queues are encrypted with it; callers need it to read and write them.
      for (const name of [
        'http',
        'wsAuthorizer',
        'wsConnect',
        'wsDisconnect',
        'wsMessage',
        'dispatcher',
        'deadLetter',
        'webhook',
      ] as const) {
        // Named actions, no wildcards: what SQS (send/receive) and DynamoDB calls need of the key.
        key.grant(f[name], 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey');
      }
    }
  }

  /**
   * Large push bodies (s3-body-store.ts): every function that reads or updates a push item reads
   * its body back; only the http function creates pushes, and deletes the body of one it could
   * not store. Objects only, under pushes/.
   */
  private grantBodies(): void {
    const stack = Stack.of(this);
    const bucketLogicalId = stack.resolve((this.bodyBucket.node.defaultChild as CfnElement).logicalId) as string;
    const grants: [NodejsFunction, string[]][] = [
      [this.functions.http, ['PutObject', 'GetObject', 'DeleteObject']],
      [this.functions.wsMessage, ['GetObject']],
      [this.functions.dispatcher, ['GetObject']],
      [this.functions.deadLetter, ['GetObject']],
    ];
    for (const [f, actions] of grants) {
      f.addToRolePolicy(
        new PolicyStatement({ actions: actions.map((a) => `s3:${a}`), resources: [this.bodyBucket.arnForObjects(`${BODY_KEY_PREFIX}*`)] }),
      );
      Validations.of(f.role!).acknowledge({
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${bucketLogicalId}.Arn>/${BODY_KEY_PREFIX}*]`,
        reason: 'Object keys are push ids, created at runtime; the grant is limited to the pushes/ prefix of the body bucket.',
      });
    }
  }

  /** postToConnection (POST) and closing a relay's connection (DELETE), only on this API's relay stage. */
  private grantManageConnections(): void {
    const stack = Stack.of(this);
    const apiLogicalId = stack.resolve((this.webSocketApi.node.defaultChild as CfnElement).logicalId) as string;
    for (const method of ['POST', 'DELETE']) {
      const statement = new PolicyStatement({
        actions: ['execute-api:ManageConnections'],
        resources: [
          stack.formatArn({
            service: 'execute-api',
            resource: this.webSocketApi.apiId,
            resourceName: `${WS_STAGE_NAME}/${method}/@connections/*`,
          }),
        ],
      });
      // The HTTP function only closes (disabling, re-keying or deleting an agent closes its relay).
      const functions =
        method === 'DELETE'
          ? [this.functions.wsMessage, this.functions.dispatcher, this.functions.http]
          : [this.functions.wsMessage, this.functions.dispatcher];
      for (const f of functions) {
        f.addToRolePolicy(statement);
        Validations.of(f.role!).acknowledge({
          id: `AwsSolutions::AwsSolutions-IAM5[Resource::${nagArnPrefix(stack, 'execute-api')}<${apiLogicalId}>/${WS_STAGE_NAME}/${method}/@connections/*]`,
          reason:
            "Connection ids are created at runtime, one per relay connection; the grant is limited to one method of @connections (POST sends, DELETE closes a relay) on this API's relay stage.",
        });
      }
    }
  }
}

/**
 * How cdk-nag spells the start of a stack ARN in a finding's id: tokens as `<AWS::…>`,
 * literals (a Region-specific stack; partition literals) as they are.
 */
function nagArnPrefix(stack: Stack, service: string): string {
  const part = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value);
  return `arn:${part(stack.partition, 'Partition')}:${service}:${part(stack.region, 'Region')}:${part(stack.account, 'AccountId')}:`;
}

function queueEncryption(key: IKey | undefined): { encryption: QueueEncryption; encryptionMasterKey?: IKey } {
  return key ? { encryption: QueueEncryption.KMS, encryptionMasterKey: key } : { encryption: QueueEncryption.SQS_MANAGED };
}

function checkMemory(name: string, mb: number | undefined): void {
  // Lambda's documented range for MemorySize.
  if (mb !== undefined && !(Number.isInteger(mb) && mb >= 128 && mb <= 10240)) {
    throw new ConfigError(`memorySize.${name} must be a whole number of MB from 128 to 10240, not ${mb}`);
  }
}

/** The reservations, checked against the account limit so a bad one fails at synth, not deploy. */
function reservations(props: EdgePushProps): Partial<Record<LambdaName, number>> {
  if (props.reservedConcurrency === false) return {};
  const reserved = { ...DEFAULT_RESERVED_CONCURRENCY, ...props.reservedConcurrency };
  const limit = props.accountConcurrencyLimit ?? DEFAULT_ACCOUNT_CONCURRENCY;
  let total = 0;
  for (const [name, n] of Object.entries(reserved)) {
    if (n === undefined) continue;
    if (!(Number.isInteger(n) && n >= 0)) throw new ConfigError(`reservedConcurrency.${name} must be a whole number, not ${n}`);
    total += n;
  }
  if (total > limit - MIN_UNRESERVED_CONCURRENCY) {
    throw new ConfigError(
      `the reserved concurrency (${total}) must leave ${MIN_UNRESERVED_CONCURRENCY} of the account's ${limit} unreserved; ` +
        'lower it, raise the account limit, or reserve none (-c reservedConcurrency=off)',
    );
  }
  return reserved;
}
