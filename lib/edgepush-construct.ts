/**
 * EdgePush's cloud side as one reusable construct: the HTTP push API and the relays'
 * WebSocket API on API Gateway, six small Lambdas, one DynamoDB table and an SQS FIFO queue
 * with a DLQ. Embed it in any CDK app; EdgePushStack is the stand-alone wrapper.
 */
import path from 'node:path';
import { CfnElement, CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  HttpApi,
  HttpMethod,
  HttpNoneAuthorizer,
  HttpStage,
  LogGroupLogDestination,
  WebSocketApi,
  WebSocketStage,
  type IHttpRouteAuthorizer,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer, HttpJwtAuthorizer, WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration, WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Alarm, ComparisonOperator, MathExpression, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { AttributeType, Billing, ProjectionType, TableEncryptionV2, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, LoggingFormat, Runtime } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { DeduplicationScope, FifoThroughputLimit, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { AGENT_ID_HEADER, AGENT_SECRET_HEADER } from '../protocol/messages';
import { API_GATEWAY_ROUTES } from '../lambdas/http/routes';
import { AGENTS_INDEX_DEFINITION, LIST_INDEXES } from '../lambdas/adapters/aws/dynamo-list-index';
import { LAMBDA_ENTRIES, LAMBDA_EXTERNALS, LAMBDA_NODE_TARGET, type LambdaName } from './lambda-bundling';

/** The newest Node.js Lambda runtime (cdk-nag L1); LAMBDA_NODE_TARGET matches it. */
const LAMBDA_RUNTIME = Runtime.NODEJS_24_X;

export type EdgePushAuth = { type: 'iam' } | { type: 'jwt'; issuer: string; audience: string[] };

export interface EdgePushProps {
  /** How push API callers authenticate. Default: IAM (SigV4). */
  auth?: EdgePushAuth;
  /** Days a finished push is kept before DynamoDB TTL deletes it. Default 30. */
  retentionDays?: number;
  /** Push API stage throttling. Defaults: 100 requests/s, burst 200. */
  throttle?: { rateLimit: number; burstLimit: number };
  /** CloudWatch log retention for Lambdas and access logs. Default one month. */
  logRetention?: RetentionDays;
  /** What happens to the table (it holds PHI until TTL) when the stack is deleted. Default RETAIN. */
  tableRemovalPolicy?: RemovalPolicy;
}

/** Visibility timeout must be at least the dispatcher's timeout (SQS event source rule). */
const DISPATCHER_TIMEOUT = Duration.seconds(30);
/** Receives before a message is dead-lettered; see lambdas/handlers/retry-visibility.ts. */
export const MAX_RECEIVE_COUNT = 1000;
/** SQS's largest message; our messages are tiny pointers, but the limit is set explicitly. */
const MAX_MESSAGE_BYTES = 1024 * 1024;
const PROJECT_ROOT = path.join(__dirname, '..');

export class EdgePush extends Construct {
  readonly table: TableV2;
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly httpApi: HttpApi;
  readonly webSocketApi: WebSocketApi;
  readonly webSocketStage: WebSocketStage;
  readonly functions: Record<LambdaName, NodejsFunction>;
  readonly pushApiUrl: string;
  readonly webSocketUrl: string;

  constructor(scope: Construct, id: string, props: EdgePushProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    const logRetention = props.logRetention ?? RetentionDays.ONE_MONTH;

    this.table = new TableV2(this, 'Table', {
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      billing: Billing.onDemand(),
      encryption: TableEncryptionV2.awsManagedKey(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: 'ttl',
      removalPolicy: props.tableRemovalPolicy ?? RemovalPolicy.RETAIN,
      // GET /pushes (lambdas/adapters/aws/dynamo-list-index.ts).
      globalSecondaryIndexes: [
        ...LIST_INDEXES.map((index) => ({
          indexName: index.indexName,
          partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
          sortKey: { name: index.sortKey, type: AttributeType.STRING },
          projectionType: ProjectionType.INCLUDE,
          nonKeyAttributes: index.nonKeyAttributes,
        })),
        // GET /agents.
        {
          indexName: AGENTS_INDEX_DEFINITION.indexName,
          partitionKey: { name: AGENTS_INDEX_DEFINITION.partitionKey, type: AttributeType.STRING },
          sortKey: { name: AGENTS_INDEX_DEFINITION.sortKey, type: AttributeType.STRING },
          projectionType: ProjectionType.ALL,
        },
      ],
    });

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      fifo: true,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new Queue(this, 'PushQueue', {
      fifo: true,
      contentBasedDeduplication: false,
      // High-throughput FIFO: dedup and throughput per message group (per device).
      deduplicationScope: DeduplicationScope.MESSAGE_GROUP,
      fifoThroughputLimit: FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      maxMessageSizeBytes: MAX_MESSAGE_BYTES,
      visibilityTimeout: Duration.seconds(60),
      // Longer than the largest expiresIn (7 days): the core expires pushes, not SQS.
      retentionPeriod: Duration.days(14),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });
    // The dead-letter consumer ends each such push and counts it; the queue itself stays
    // near empty, so the alarm watches the count, and messages the consumer could not handle.
    new Alarm(this, 'DeadLetterAlarm', {
      alarmDescription:
        'EdgePush pushes reached the dead-letter queue: the dispatcher never finished them, so they were ended as failed or expired.',
      metric: new MathExpression({
        expression: 'FILL(dead, 0) + FILL(stuck, 0)',
        usingMetrics: {
          dead: new Metric({
            namespace: 'EdgePush',
            metricName: 'PushDeadLettered',
            dimensionsMap: { service: 'edgepush' },
            statistic: 'Sum',
            period: Duration.minutes(1),
          }),
          stuck: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) }),
        },
        period: Duration.minutes(1),
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    this.webSocketApi = new WebSocketApi(this, 'RelayApi', {
      description: 'EdgePush relays connect here',
      routeSelectionExpression: '$request.body.action',
    });
    const wsStageName = 'relay';
    const managementEndpoint = `https://${this.webSocketApi.apiId}.execute-api.${stack.region}.${stack.urlSuffix}/${wsStageName}`;

    // The HMAC key agent secrets are hashed with (lambdas/core/secrets.ts). Retained: losing
    // it would invalidate every agent's secret.
    const agentKey = new Secret(this, 'AgentSecretKey', {
      description: 'EdgePush: HMAC-SHA-256 key for agent secrets',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(agentKey).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SMG4',
      reason: 'Rotating the HMAC key would invalidate every stored agent secret hash; agents are re-keyed by creating new secrets.',
    });
    const env = {
      EDGEPUSH_AGENT_KEY_SECRET: agentKey.secretArn,
      EDGEPUSH_TABLE: this.table.tableName,
      EDGEPUSH_QUEUE_URL: this.queue.queueUrl,
      EDGEPUSH_WS_MANAGEMENT_ENDPOINT: managementEndpoint,
      EDGEPUSH_RETENTION_DAYS: String(props.retentionDays ?? 30),
      POWERTOOLS_SERVICE_NAME: 'edgepush',
      POWERTOOLS_METRICS_NAMESPACE: 'EdgePush',
      NODE_OPTIONS: '--enable-source-maps',
    };
    const fn = (name: LambdaName, memoryMb: number, timeout: Duration) => {
      const id = `${name[0].toUpperCase()}${name.slice(1)}`;
      const logGroup = new LogGroup(this, `${name}Logs`, { retention: logRetention, removalPolicy: RemovalPolicy.DESTROY });
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
        memorySize: memoryMb,
        timeout,
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
        },
      });
    };
    this.functions = {
      // Waits up to waitTimeout (25 s max) for the ACK, inside API Gateway's 30 s.
      http: fn('http', 256, Duration.seconds(29)),
      wsAuthorizer: fn('wsAuthorizer', 256, Duration.seconds(10)),
      wsConnect: fn('wsConnect', 256, Duration.seconds(10)),
      wsDisconnect: fn('wsDisconnect', 256, Duration.seconds(10)),
      wsMessage: fn('wsMessage', 256, Duration.seconds(10)),
      dispatcher: fn('dispatcher', 256, DISPATCHER_TIMEOUT),
      deadLetter: fn('deadLetter', 256, Duration.seconds(30)),
    };
    this.grantLeastPrivilege();
    // Creating an agent hashes its secret; the authorizer verifies (and migrates old hashes).
    const readAgentKey = new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [agentKey.secretArn] });
    this.functions.http.addToRolePolicy(readAgentKey);
    this.functions.wsAuthorizer.addToRolePolicy(readAgentKey);

    // ---- WebSocket API ----
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
    for (const route of ['hello', 'result', 'heartbeat', '$default']) {
      unauthorisedRoutes.push(this.webSocketApi.addRoute(route, { integration: messages }));
    }
    for (const route of unauthorisedRoutes) {
      Validations.of(route).acknowledge({
        id: 'AwsSolutions::AwsSolutions-APIG4',
        reason:
          'API Gateway WebSocket APIs authorise only $connect; this route runs on a connection the $connect REQUEST authorizer already authenticated (agent id + secret), and the handler takes the agent id from that authorizer context.',
      });
    }
    const wsLogs = new LogGroup(this, 'RelayApiAccessLogs', { retention: logRetention, removalPolicy: RemovalPolicy.DESTROY });
    this.webSocketStage = new WebSocketStage(this, 'RelayStage', {
      webSocketApi: this.webSocketApi,
      stageName: wsStageName,
      autoDeploy: true,
      throttle: { rateLimit: 500, burstLimit: 1000 },
      accessLogSettings: { destination: new LogGroupLogDestination(wsLogs), format: accessLogFormat() },
    });
    // postToConnection only (POST), only on this API's relay stage.
    const postToConnection = new PolicyStatement({
      actions: ['execute-api:ManageConnections'],
      resources: [
        stack.formatArn({ service: 'execute-api', resource: this.webSocketApi.apiId, resourceName: `${wsStageName}/POST/@connections/*` }),
      ],
    });
    const apiLogicalId = stack.resolve((this.webSocketApi.node.defaultChild as CfnElement).logicalId) as string;
    for (const f of [this.functions.wsMessage, this.functions.dispatcher]) {
      f.addToRolePolicy(postToConnection);
      Validations.of(f.role!).acknowledge({
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${apiLogicalId}>/${wsStageName}/POST/@connections/*]`,
        reason:
          "Connection ids are created at runtime, one per relay connection; the grant is limited to POST (postToConnection) on this API's relay stage.",
      });
    }

    // DeleteConnection (DELETE) for the HTTP function only: disabling, re-keying or deleting an
    // agent closes its live relay connection.
    const deleteConnection = new PolicyStatement({
      actions: ['execute-api:ManageConnections'],
      resources: [
        stack.formatArn({
          service: 'execute-api',
          resource: this.webSocketApi.apiId,
          resourceName: `${wsStageName}/DELETE/@connections/*`,
        }),
      ],
    });
    this.functions.http.addToRolePolicy(deleteConnection);
    Validations.of(this.functions.http.role!).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${apiLogicalId}>/${wsStageName}/DELETE/@connections/*]`,
      reason: "Connection ids are created at runtime; the grant is limited to DELETE (DeleteConnection) on this API's relay stage.",
    });

    // ---- HTTP push API ----
    const auth = props.auth ?? { type: 'iam' };
    const protectedAuthorizer: IHttpRouteAuthorizer =
      auth.type === 'jwt' ? new HttpJwtAuthorizer('JwtAuthorizer', auth.issuer, { jwtAudience: auth.audience }) : new HttpIamAuthorizer();
    this.httpApi = new HttpApi(this, 'PushApi', { description: 'EdgePush push API', createDefaultStage: false });
    const httpIntegration = new HttpLambdaIntegration('Http', this.functions.http);
    for (const { routeKey, scope } of API_GATEWAY_ROUTES) {
      const [method, routePath] = routeKey.split(' ');
      const routes = this.httpApi.addRoutes({
        path: routePath,
        methods: [method as HttpMethod],
        integration: httpIntegration,
        authorizer: scope === null ? new HttpNoneAuthorizer() : protectedAuthorizer,
        authorizationScopes: scope !== null && auth.type === 'jwt' ? [scope] : undefined,
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
    const httpLogs = new LogGroup(this, 'PushApiAccessLogs', { retention: logRetention, removalPolicy: RemovalPolicy.DESTROY });
    new HttpStage(this, 'PushStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle ?? { rateLimit: 100, burstLimit: 200 },
      accessLogSettings: { destination: new LogGroupLogDestination(httpLogs), format: accessLogFormat() },
    });

    this.pushApiUrl = `https://${this.httpApi.apiId}.execute-api.${stack.region}.${stack.urlSuffix}/`;
    this.webSocketUrl = `wss://${this.webSocketApi.apiId}.execute-api.${stack.region}.${stack.urlSuffix}/${wsStageName}`;
    new CfnOutput(this, 'PushApiUrl', { value: this.pushApiUrl, description: 'Base URL of the HTTP push API' });
    new CfnOutput(this, 'RelayWebSocketUrl', { value: this.webSocketUrl, description: 'Give this to `edgepush relay --url`' });
  }

  /** Each function gets exactly the calls its code path makes. */
  private grantLeastPrivilege(): void {
    const table = (actions: string[]) =>
      new PolicyStatement({ actions: actions.map((a) => `dynamodb:${a}`), resources: [this.table.tableArn] });
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
        resources: [...LIST_INDEXES, AGENTS_INDEX_DEFINITION].map((i) => `${this.table.tableArn}/index/${i.indexName}`),
      }),
    );
    // UpdateItem: a successful connect re-stores an old scrypt hash as HMAC, once.
    f.wsAuthorizer.addToRolePolicy(table(['GetItem', 'UpdateItem']));
    f.wsConnect.addToRolePolicy(table(['UpdateItem']));
    f.wsDisconnect.addToRolePolicy(table(['UpdateItem']));
    // Results and hellos; a terminal result releases the push's SQS message early.
    f.wsMessage.addToRolePolicy(table(['GetItem', 'UpdateItem']));
    // ChangeMessageVisibility: a hello makes the agent's parked messages visible again.
    f.wsMessage.addToRolePolicy(queue(['ChangeMessageVisibility', 'DeleteMessage']));
    f.dispatcher.addToRolePolicy(table(['GetItem', 'UpdateItem']));
    f.dispatcher.addToRolePolicy(queue(['ChangeMessageVisibility', 'DeleteMessage']));
    f.dispatcher.addEventSource(new SqsEventSource(this.queue, { batchSize: 10, reportBatchItemFailures: true }));
    // Ends dead-lettered pushes (failed or expired); releasing tries the push's last receipt.
    f.deadLetter.addToRolePolicy(table(['GetItem', 'UpdateItem']));
    f.deadLetter.addToRolePolicy(queue(['DeleteMessage']));
    f.deadLetter.addEventSource(new SqsEventSource(this.deadLetterQueue, { batchSize: 10, reportBatchItemFailures: true }));
  }
}

function accessLogFormat(): AccessLogFormat {
  return AccessLogFormat.custom(
    JSON.stringify({
      requestId: '$context.requestId',
      ip: '$context.identity.sourceIp',
      requestTime: '$context.requestTime',
      routeKey: '$context.routeKey',
      status: '$context.status',
      connectionId: '$context.connectionId',
      responseLength: '$context.responseLength',
      integrationError: '$context.integrationErrorMessage',
    }),
  );
}
