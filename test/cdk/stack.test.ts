/** Synthesises the stack (with cdk-nag) and checks what the construct promises. */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { Role, ServicePrincipal, User } from 'aws-cdk-lib/aws-iam';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { API_GATEWAY_ROUTES, CONSOLE_ROUTE_KEYS } from '../../lambdas/http/routes';
import { EdgePushStack, stackPropsFromContext } from '../../lib/edgepush-stack';
import { ConfigError } from '../../lib/config-error';
import { EdgePush, type EdgePushProps } from '../../lib/edgepush-construct';
import { RELAY_ROUTE_KEYS } from '../../protocol/relay-routes';
import { ROOT, cleanUp, resourcesOf, synth, type CfnTemplate, type Synth } from './synth';

afterAll(cleanUp);

const VERSION = (require(path.join(ROOT, 'package.json')) as { version: string }).version;

type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown; Effect: string };
function statementsOf(t: CfnTemplate, role: string): Statement[] {
  const entry = resourcesOf(t, 'AWS::IAM::Policy').find(([id]) => id.startsWith(`EdgePush${role}RoleDefaultPolicy`));
  if (!entry) throw new Error(`no policy for ${role}`);
  return entry[1].Properties!.PolicyDocument.Statement as Statement[];
}
const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const allActions = (t: CfnTemplate, role: string) => [...new Set(statementsOf(t, role).flatMap(actionsOf))].sort();
const ROLES = ['Http', 'WsAuthorizer', 'WsConnect', 'WsDisconnect', 'WsMessage', 'Dispatcher', 'DeadLetter', 'Webhook'];

describe('EdgePush stack (IAM auth, the default)', () => {
  let s: Synth;
  let t: Template;
  let grantees: { pusher: User; admin: Role };
  beforeAll(() => {
    s = synth({}, (stack) => {
      const pusher = new User(stack, 'Pusher');
      const admin = new Role(stack, 'Admin', { assumedBy: new ServicePrincipal('ec2.amazonaws.com') });
      stack.edgePush.grantPush(pusher);
      stack.edgePush.grantAdmin(admin);
      stack.edgePush.grantReceive(admin);
      stack.edgePush.grantPushToAgent(new User(stack, 'SiteOnePusher'), 'site-1');
      grantees = { pusher, admin };
    });
    t = Template.fromJSON(s.template);
  }, 180000);

  it('is one stack per stage, named for it and tagged', () => {
    expect(s.stack.stackName).toBe('EdgePush-dev');
    t.hasResourceProperties('AWS::SQS::Queue', { Tags: Match.arrayWith([{ Key: 'edgepush:stage', Value: 'dev' }]) });
    expect(grantees.pusher).toBeDefined();
  });

  it('passes cdk-nag AwsSolutions with no unacknowledged finding, each acknowledgement with a reason', () => {
    // The test's own User/Role have no findings of their own beyond IAM5-free statements.
    const [nag] = s.report.pluginReports;
    expect(nag.violations).toEqual([]);
    for (const v of nag.suppressedViolations) expect(v.reason.length).toBeGreaterThan(40);
    expect(new Set(nag.suppressedViolations.map((v) => v.ruleName.replace(/\[.*$/, '')))).toEqual(
      new Set(['AwsSolutions-APIG1', 'AwsSolutions-APIG4', 'AwsSolutions-IAM5', 'AwsSolutions-S1', 'AwsSolutions-SMG4']),
    );
  });

  it('declares exactly the route table of lambdas/http/routes.ts, IAM-authorised except /health and the console', () => {
    const keys = resourcesOf(s.template, 'AWS::ApiGatewayV2::Route')
      .filter(([id]) => id.startsWith('EdgePushPushApi'))
      .map(([, r]) => r.Properties!.RouteKey as string)
      .sort();
    expect(keys).toEqual([...API_GATEWAY_ROUTES.map((r) => r.routeKey), ...CONSOLE_ROUTE_KEYS].sort());
    for (const routeKey of CONSOLE_ROUTE_KEYS)
      t.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: routeKey, AuthorizationType: 'NONE' });
    expect(keys).toContain('POST /fhir/R4/Agent/{agentId}/{operation}');
    for (const { routeKey } of API_GATEWAY_ROUTES) {
      t.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: routeKey,
        AuthorizationType: routeKey === 'GET /health' ? 'NONE' : 'AWS_IAM',
      });
    }
  });

  it('routes the relay actions of protocol/relay-routes.ts, with the authorizer on $connect only', () => {
    t.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'REQUEST',
      IdentitySource: ['route.request.header.x-edgepush-agent-id', 'route.request.header.x-edgepush-agent-secret'],
    });
    t.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: '$connect', AuthorizationType: 'CUSTOM' });
    for (const key of ['$disconnect', ...RELAY_ROUTE_KEYS]) {
      t.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: key, AuthorizationType: 'NONE' });
    }
  });

  it('throttles both stages (the WebSocket one from its prop)', () => {
    t.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      DefaultRouteSettings: Match.objectLike({ ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 }),
      AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }),
    });
    t.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: 'relay',
      DefaultRouteSettings: Match.objectLike({ ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000 }),
    });
  });

  it('protects the table (deletion protection, retained, PITR, TTL) and retains every log group', () => {
    const [[, table]] = resourcesOf(s.template, 'AWS::DynamoDB::GlobalTable');
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.Properties).toMatchObject({
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      SSESpecification: { SSEEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
    });
    // GET /pushes and GET /agents: newest first per agent and overall; the push lists project no body.
    const indexes = table.Properties!.GlobalSecondaryIndexes as {
      IndexName: string;
      KeySchema: unknown;
      Projection: { ProjectionType: string; NonKeyAttributes?: string[] };
    }[];
    expect(indexes.map((i) => i.IndexName).sort()).toEqual(['agents', 'all', 'by-agent']);
    const byAgent = indexes.find((i) => i.IndexName === 'by-agent')!;
    expect(byAgent.KeySchema).toEqual([
      { AttributeName: 'agentId', KeyType: 'HASH' },
      { AttributeName: 'listKey', KeyType: 'RANGE' },
    ]);
    for (const index of indexes.filter((i) => i.IndexName !== 'agents')) {
      expect(index.Projection.ProjectionType).toBe('INCLUDE');
      expect(index.Projection.NonKeyAttributes).not.toContain('body');
      expect(index.Projection.NonKeyAttributes).not.toContain('response');
    }
    expect(table.Properties!.Replicas[0]).toMatchObject({
      DeletionProtectionEnabled: true,
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    const logs = resourcesOf(s.template, 'AWS::Logs::LogGroup');
    expect(logs).toHaveLength(10); // eight functions, the console's and the push API's access log
    for (const [, g] of logs) {
      expect(g.DeletionPolicy).toBe('Retain');
      expect(g.Properties!.RetentionInDays).toBe(365);
    }
  });

  it('caps the HTTP function and reserves concurrency for the result path; the dispatcher polls within it', () => {
    const reserved = Object.fromEntries(
      resourcesOf(s.template, 'AWS::Lambda::Function').map(([id, f]) => [
        id.replace(/^EdgePush|Function.*$/g, ''),
        f.Properties!.ReservedConcurrentExecutions,
      ]),
    );
    expect(reserved).toEqual({
      Http: 100,
      WsAuthorizer: 20,
      WsConnect: 10,
      WsDisconnect: 10,
      WsMessage: 50,
      Dispatcher: 20,
      DeadLetter: undefined,
      Console: undefined,
      Webhook: 20,
    });
    const mappings = resourcesOf(s.template, 'AWS::Lambda::EventSourceMapping');
    const dispatcherMapping = mappings.find(([, m]) => JSON.stringify(m.Properties!.EventSourceArn).includes('PushQueue'))!;
    expect(dispatcherMapping[1].Properties!.ScalingConfig).toEqual({ MaximumConcurrency: 20 });
    for (const [, m] of mappings) expect(m.Properties!.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
  });

  it('bundles the package version: GET /health on the deployed code reports it, not 0.0.0-dev', () => {
    const code = s.bundle('EdgePushHttpFunction');
    const file = path.join(s.outdir, 'http-bundle.js');
    writeFileSync(file, code);
    const event = { requestContext: { http: { method: 'GET', path: '/health' }, domainName: 'x', stage: '$default' }, headers: {} };
    const script = `require(${JSON.stringify(file)}).handler(${JSON.stringify(event)}).then((r) => process.stdout.write(r.body))`;
    const body = execFileSync(process.execPath, ['-e', script], {
      encoding: 'utf8',
      // The runtime's SDK (left out of the bundle) comes from the repo, as Lambda provides it.
      env: {
        ...process.env,
        NODE_PATH: path.join(ROOT, 'node_modules'),
        EDGEPUSH_TABLE: 't',
        EDGEPUSH_QUEUE_URL: 'https://sqs.invalid/q.fifo',
        EDGEPUSH_INBOUND_QUEUE_URL: 'https://sqs.invalid/inbound.fifo',
        EDGEPUSH_WS_MANAGEMENT_ENDPOINT: 'https://ws.invalid/relay',
        AWS_REGION: 'us-east-1',
        POWERTOOLS_LOG_LEVEL: 'SILENT',
      },
    });
    expect(JSON.parse(body)).toEqual({ status: 'ok', version: VERSION });
    expect(VERSION).not.toBe('0.0.0-dev');
  });

  it('grants each function only the calls it makes; connect-path functions read agent items only', () => {
    const agentsOnly = { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['agent#*'] } };
    for (const role of ['WsAuthorizer', 'WsConnect', 'WsDisconnect']) {
      const dynamo = statementsOf(s.template, role).filter((st) => actionsOf(st).some((a) => a.startsWith('dynamodb:')));
      expect(dynamo.length).toBeGreaterThan(0);
      for (const st of dynamo) expect(st.Condition).toEqual(agentsOnly);
    }
    const logs = ['logs:CreateLogStream', 'logs:PutLogEvents'];
    expect(allActions(s.template, 'WsAuthorizer')).toEqual([
      'dynamodb:GetItem',
      'dynamodb:UpdateItem',
      ...logs,
      'secretsmanager:GetSecretValue',
    ]);
    expect(allActions(s.template, 'WsConnect')).toEqual(['dynamodb:UpdateItem', ...logs]);
    expect(allActions(s.template, 'WsDisconnect')).toEqual(['dynamodb:UpdateItem', ...logs]);
    expect(allActions(s.template, 'Http')).toEqual(
      [
        'dynamodb:BatchGetItem', // GET /agents/{id}/messages reads messages by key
        'dynamodb:DeleteItem', // DELETE /agents/{id}
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query', // GET /pushes and GET /agents, on the list indexes
        'dynamodb:UpdateItem',
        'execute-api:ManageConnections', // DELETE only, below
        ...logs,
        // Large push bodies: written on create, read back, deleted when the item was not written.
        's3:DeleteObject',
        's3:GetObject',
        's3:PutObject',
        'secretsmanager:GetSecretValue',
        'sqs:DeleteMessage', // cancelling a queued push releases its delivery
        'sqs:SendMessage',
      ].sort(),
    );
    // The HTTP function may only DELETE connections (closing a disabled or re-keyed agent's relay), never post.
    const httpConnections = statementsOf(s.template, 'Http').filter((st) => actionsOf(st).includes('execute-api:ManageConnections'));
    expect(JSON.stringify(httpConnections)).toContain('/DELETE/@connections/*');
    expect(JSON.stringify(httpConnections)).not.toContain('/POST/');
    expect(allActions(s.template, 'WsMessage')).toEqual(
      [
        // Parts of chunked relay messages (dynamo-chunk-store.ts), inbound messages and their body parts.
        'dynamodb:BatchGetItem',
        'dynamodb:BatchWriteItem',
        'dynamodb:DeleteItem', // a duplicate's own body parts
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query', // a hello finds the agent's sent pushes in the by-agent index
        'dynamodb:UpdateItem',
        'execute-api:ManageConnections',
        ...logs,
        's3:GetObject', // a result reads the push, body included
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteMessage',
        'sqs:SendMessage', // the inbound queue only, below
      ].sort(),
    );
    const wsQueries = statementsOf(s.template, 'WsMessage').filter((st) => actionsOf(st).includes('dynamodb:Query'));
    expect(JSON.stringify(wsQueries)).toMatch(/\/index\/by-agent"/);
    expect(JSON.stringify(wsQueries)).not.toMatch(/\/index\/(all|agents)"/);
    const wsSends = statementsOf(s.template, 'WsMessage').filter((st) => actionsOf(st).includes('sqs:SendMessage'));
    expect(JSON.stringify(wsSends)).toMatch(/EdgePushInboundQueue/);
    expect(JSON.stringify(wsSends)).not.toMatch(/EdgePushPushQueue/);
    for (const role of ROLES) {
      for (const st of statementsOf(s.template, role)) {
        expect(st.Resource).not.toBe('*');
        const text = JSON.stringify(st.Resource);
        if (JSON.stringify(st.Action).includes('dynamodb:')) expect(text).toMatch(/EdgePushTable/);
        if (JSON.stringify(st.Action).includes('s3:')) expect(text).toMatch(/EdgePushBodyBucket\w*","Arn"\]\},"\/pushes\/\*"/);
        if (JSON.stringify(st.Action).includes('execute-api:')) {
          expect(text).toMatch(/EdgePushRelayApi.*\/relay\/(POST|DELETE)\/@connections\/\*/);
        }
      }
    }
    // Sending and closing relay connections: wsMessage and the dispatcher (the HTTP function only closes).
    for (const role of ['WsMessage', 'Dispatcher']) {
      const text = JSON.stringify(statementsOf(s.template, role));
      expect(text).toContain('/relay/POST/@connections/*');
      expect(text).toContain('/relay/DELETE/@connections/*');
    }
    // Only the http function creates pushes; the others that read push items read bodies only.
    const s3Actions = (role: string) => allActions(s.template, role).filter((a) => a.startsWith('s3:'));
    for (const role of ['WsMessage', 'Dispatcher', 'DeadLetter']) expect(s3Actions(role)).toStrictEqual(['s3:GetObject']);
    for (const role of ['WsAuthorizer', 'WsConnect', 'WsDisconnect', 'Webhook']) expect(s3Actions(role)).toStrictEqual([]);
    t.resourcePropertiesCountIs('AWS::IAM::Role', { ManagedPolicyArns: Match.anyValue() }, 0);
  });

  it('keeps large push bodies in a private, TLS-only, encrypted, retained bucket whose objects expire after the retention', () => {
    const buckets = resourcesOf(s.template, 'AWS::S3::Bucket');
    expect(buckets).toHaveLength(1);
    const [[bucketId, bucket]] = buckets;
    expect(bucket.DeletionPolicy).toBe('Retain'); // as the table
    expect(bucket.Properties).toMatchObject({
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      // 30 days of retention + 10: a push item lives at most 7 days + retention, TTL runs up to 2 days late.
      LifecycleConfiguration: { Rules: [expect.objectContaining({ Prefix: 'pushes/', ExpirationInDays: 40, Status: 'Enabled' })] },
    });
    expect(bucket.Properties!.VersioningConfiguration).toBeUndefined();
    const [[, policy]] = resourcesOf(s.template, 'AWS::S3::BucketPolicy');
    expect(JSON.stringify(policy.Properties)).toContain('"aws:SecureTransport":"false"');
    expect(JSON.stringify(policy.Properties)).toContain(bucketId);
    // Every function finds the bucket in its environment.
    for (const [, fn] of resourcesOf(s.template, 'AWS::Lambda::Function').filter(([id]) => !/Console/.test(id))) {
      expect(fn.Properties!.Environment.Variables.EDGEPUSH_BODY_BUCKET).toEqual({ Ref: bucketId });
    }
  });

  it('grantPush/grantAdmin/grantReceive allow execute-api:Invoke on exactly their routes', () => {
    const invokeArns = (prefix: string) =>
      resourcesOf(s.template, 'AWS::IAM::Policy')
        .filter(([id]) => id.startsWith(prefix))
        .flatMap(([, p]) => p.Properties!.PolicyDocument.Statement as Statement[])
        .filter((st) => actionsOf(st).includes('execute-api:Invoke'))
        .flatMap((st) => (Array.isArray(st.Resource) ? st.Resource : [st.Resource]))
        .map((r) =>
          JSON.stringify(r)
            .replace(/^.*\{"Ref":"EdgePushPushApi[0-9A-F]+"\},"/, '')
            .replace(/"\]\]\}$/, ''),
        )
        .sort();
    expect(invokeArns('Pusher')).toEqual([
      '/$default/GET/pushes',
      '/$default/GET/pushes/*',
      '/$default/GET/templates',
      '/$default/GET/templates/*',
      '/$default/POST/agents/*/fhir-hook/*',
      '/$default/POST/agents/*/push',
      '/$default/POST/fhir/R4/Agent/*/*',
      '/$default/POST/pushes/*/cancel',
      '/$default/POST/pushes/*/resend',
      '/$default/POST/templates/*/render',
    ]);
    // One agent's pusher: only the routes naming that agent in their path.
    expect(invokeArns('SiteOnePusher')).toEqual([
      '/$default/POST/agents/site-1/fhir-hook/*',
      '/$default/POST/agents/site-1/push',
      '/$default/POST/fhir/R4/Agent/site-1/*',
    ]);
    expect(() => s.stack.edgePush.grantPushToAgent(new User(s.stack, 'Bad'), 'a/b')).toThrow(/agentId must be/);
    // Admin was granted edgepush/admin and edgepush/receive.
    expect(invokeArns('Admin')).toEqual([
      '/$default/DELETE/agents/*',
      '/$default/DELETE/agents/*/webhook',
      '/$default/DELETE/templates/*',
      '/$default/GET/agents',
      '/$default/GET/agents/*',
      '/$default/GET/agents/*/fhir-hook/*',
      '/$default/GET/agents/*/messages',
      '/$default/GET/agents/*/webhook',
      '/$default/GET/messages/*',
      '/$default/PATCH/agents/*',
      '/$default/POST/agents',
      '/$default/POST/agents/*/secret',
      '/$default/PUT/agents/*/fhir-hook/*',
      '/$default/PUT/agents/*/webhook',
      '/$default/PUT/templates/*',
    ]);
  });

  it('alarms on every failure mode, each with an action, on one topic; and a dashboard', () => {
    const alarms = resourcesOf(s.template, 'AWS::CloudWatch::Alarm');
    const names = alarms.map(([id]) => id.replace(/^EdgePushMonitoring|Alarm[0-9A-F]*$/g, '')).sort();
    const perFunction = ROLES.flatMap((r) => [`${r}Errors`, `${r}Throttles`]);
    expect(names).toEqual(
      [
        'DeadLetter',
        'InboundDeadLetter',
        'InboundQueueAge',
        'PushApi5xx',
        'QueueAge',
        'RelayIntegrationErrors',
        'RelaysOffline',
        ...perFunction,
      ].sort(),
    );
    const [[topicId]] = resourcesOf(s.template, 'AWS::SNS::Topic');
    for (const [, a] of alarms) {
      expect(a.Properties!.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(a.Properties!.OKActions).toEqual([{ Ref: topicId }]);
    }
    // The DLQ's consumer drains it, so the alarm counts receives from it, not visible messages.
    const dlq = alarms.find(([id]) => id.includes('DeadLetterAlarm'))![1];
    expect(dlq.Properties).toMatchObject({ MetricName: 'NumberOfMessagesReceived', Namespace: 'AWS/SQS', Statistic: 'Sum', Threshold: 1 });
    expect(JSON.stringify(dlq.Properties!.Dimensions)).toContain('DeadLetterQueue');
    const relays = alarms.find(([id]) => id.includes('RelaysOffline'))![1];
    expect(JSON.stringify(relays.Properties!.Metrics)).toContain('RelayConnectionLost');
    t.hasResourceProperties('AWS::Logs::MetricFilter', {
      FilterPattern: '{ ($.message = "relay disconnected") && ($.wasCurrent IS TRUE) }',
      MetricTransformations: [Match.objectLike({ MetricName: 'RelayConnectionLost', MetricNamespace: 'EdgePush' })],
    });
    t.hasResourceProperties('AWS::Logs::MetricFilter', {
      FilterPattern: '{ ($.status = "5*") && ($.status != "504") }',
      MetricTransformations: [Match.objectLike({ MetricName: 'PushApiServerErrors' })],
    });
    t.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  it('queues inbound deliveries on their own FIFO queue and DLQ, consumed by the webhook Lambda', () => {
    const queues = resourcesOf(s.template, 'AWS::SQS::Queue');
    const [inboundId, inbound] = queues.find(([id]) => id.startsWith('EdgePushInboundQueue'))!;
    const [dlqId] = queues.find(([id]) => id.startsWith('EdgePushInboundDeadLetterQueue'))!;
    expect(inbound.Properties).toMatchObject({
      FifoQueue: true,
      ContentBasedDeduplication: false,
      DeduplicationScope: 'messageGroup',
      FifoThroughputLimit: 'perMessageGroupId',
      MessageRetentionPeriod: 14 * 86_400,
      VisibilityTimeout: 120,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: 1000 },
    });
    const mapping = resourcesOf(s.template, 'AWS::Lambda::EventSourceMapping').find(([, m]) =>
      JSON.stringify(m.Properties!.EventSourceArn).includes(inboundId),
    )![1];
    expect(JSON.stringify(mapping.Properties!.FunctionName)).toContain('EdgePushWebhookFunction');
    expect(mapping.Properties).toMatchObject({
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 20 },
    });
    // Every function finds the inbound queue; without a bus, no function may put events.
    // The console's function serves files only and has no environment.
    for (const [, f] of resourcesOf(s.template, 'AWS::Lambda::Function').filter(([id]) => !id.startsWith('EdgePushConsole'))) {
      expect(f.Properties!.Environment.Variables.EDGEPUSH_INBOUND_QUEUE_URL).toEqual({ Ref: inboundId });
      expect(f.Properties!.Environment.Variables.EDGEPUSH_EVENT_BUS).toBeUndefined();
    }
    for (const role of ROLES) expect(allActions(s.template, role)).not.toContain('events:PutEvents');
  });

  it('grants the webhook Lambda only its reads, its attempt records and the key that unseals webhook secrets', () => {
    expect(allActions(s.template, 'Webhook')).toEqual(
      [
        'dynamodb:BatchGetItem',
        'dynamodb:GetItem',
        'dynamodb:UpdateItem',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'secretsmanager:GetSecretValue',
        // The event source mapping's own grant, on the inbound queue.
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:ReceiveMessage',
      ].sort(),
    );
    const sqs = statementsOf(s.template, 'Webhook').filter((st) => actionsOf(st).some((a) => a.startsWith('sqs:')));
    expect(JSON.stringify(sqs)).toMatch(/EdgePushInboundQueue/);
    expect(JSON.stringify(sqs)).not.toMatch(/EdgePushPushQueue|DeadLetter/);
    const secret = statementsOf(s.template, 'Webhook').find((st) => actionsOf(st).includes('secretsmanager:GetSecretValue'))!;
    expect(JSON.stringify(secret.Resource)).toMatch(/EdgePushAgentSecretKey/);
  });

  it('routes the v2 relay actions (inbound, chunk) to the message Lambda like the others', () => {
    const integrations = resourcesOf(s.template, 'AWS::ApiGatewayV2::Integration');
    for (const key of ['inbound', 'chunk']) {
      const [, route] = resourcesOf(s.template, 'AWS::ApiGatewayV2::Route').find(([, r]) => r.Properties!.RouteKey === key)!;
      const target = JSON.stringify(route.Properties!.Target);
      const [, integration] = integrations.find(([id]) => target.includes(id))!;
      expect(JSON.stringify(integration.Properties!.IntegrationUri)).toContain('EdgePushWsMessageFunction');
    }
  });

  it('outputs stable names', () => {
    expect(Object.keys(s.template.Outputs!).sort()).toEqual(
      ['AlarmTopicArn', 'DashboardName', 'PushApiId', 'PushApiUrl', 'RelayApiId', 'RelayWebSocketUrl', 'TableName'].sort(),
    );
  });
});

describe('EdgePush stack with -c auth=jwt', () => {
  it('puts a JWT authorizer and the route scopes on every route but /health, and refuses IAM grants', () => {
    const s = synth({ auth: 'jwt', jwtIssuer: 'https://issuer.example.com', jwtAudience: 'edgepush' });
    const t = Template.fromJSON(s.template);
    expect(s.report.pluginReports[0].violations).toEqual([]);
    t.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      JwtConfiguration: { Issuer: 'https://issuer.example.com', Audience: ['edgepush'] },
    });
    for (const { routeKey, scope } of API_GATEWAY_ROUTES) {
      if (scope === null) t.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: routeKey, AuthorizationType: 'NONE' });
      else
        t.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: routeKey, AuthorizationType: 'JWT', AuthorizationScopes: [scope] });
    }
    // Static files, no data: the browser sends the JWT to the API routes above, not to these.
    for (const routeKey of CONSOLE_ROUTE_KEYS)
      t.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: routeKey, AuthorizationType: 'NONE' });
    expect(() => s.stack.edgePush.grantPush(new User(s.stack, 'U'))).toThrow(/JWT auth/);
  }, 180000);
});

describe('EdgePush stack with a customer-managed key and an alarm email', () => {
  it('encrypts the table, both queues, every log group and the alarm topic with it', () => {
    const s = synth({ kms: 'create', alarmEmail: 'ops@example.com', removal: 'destroy' }, undefined, 'eu-west-1');
    const t = Template.fromJSON(s.template);
    expect(s.report.pluginReports[0].violations).toEqual([]);
    const [[keyId, key]] = resourcesOf(s.template, 'AWS::KMS::Key');
    expect(key.Properties!.EnableKeyRotation).toBe(true);
    const keyArn = { 'Fn::GetAtt': [keyId, 'Arn'] };
    for (const [, q] of resourcesOf(s.template, 'AWS::SQS::Queue')) expect(q.Properties!.KmsMasterKeyId).toEqual(keyArn);
    for (const [, g] of resourcesOf(s.template, 'AWS::Logs::LogGroup')) {
      expect(g.Properties!.KmsKeyId).toEqual(keyArn);
      expect(g.DeletionPolicy).toBe('Delete'); // removal=destroy: a throwaway stage
    }
    const [[, table]] = resourcesOf(s.template, 'AWS::DynamoDB::GlobalTable');
    expect(table.Properties!.SSESpecification).toMatchObject({ SSEEnabled: true, SSEType: 'KMS' });
    expect(JSON.stringify(table.Properties!.Replicas)).toContain(keyId);
    const [[, bucket]] = resourcesOf(s.template, 'AWS::S3::Bucket');
    expect(bucket.Properties!.BucketEncryption).toStrictEqual({
      ServerSideEncryptionConfiguration: [
        { BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn } },
      ],
    });
    expect(table.Properties!.Replicas[0].DeletionProtectionEnabled).toBe(false);
    t.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: keyArn });
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    expect(JSON.stringify(key.Properties!.KeyPolicy)).toContain('logs.eu-west-1.amazonaws.com');
    expect(JSON.stringify(key.Properties!.KeyPolicy)).toContain('cloudwatch.amazonaws.com');
    expect(JSON.stringify(statementsOf(s.template, 'Http'))).toContain('kms:GenerateDataKey');
  }, 180000);
});

describe('EdgePush construct props', () => {
  it('set memory, reserved concurrency, the WebSocket throttle, the queue-age alarm and the core tunables', () => {
    const stack = new Stack(new App(), 'Props');
    new EdgePush(stack, 'EdgePush', {
      memorySize: { http: 1024 },
      reservedConcurrency: { http: 40, wsMessage: 5 },
      webSocketThrottle: { rateLimit: 50, burstLimit: 60 },
      queueAgeAlarmSeconds: 600,
      core: { maxAttempts: 9, resultTimeoutMs: 20000 },
    });
    const t = Template.fromStack(stack);
    const fns = Object.entries(t.findResources('AWS::Lambda::Function'));
    const http = fns.find(([id]) => id.startsWith('EdgePushHttpFunction'))![1].Properties;
    expect(http).toMatchObject({ MemorySize: 1024, ReservedConcurrentExecutions: 40 });
    expect(http.Environment.Variables).toMatchObject({ EDGEPUSH_MAX_ATTEMPTS: '9', EDGEPUSH_RESULT_TIMEOUT_MS: '20000' });
    expect(fns.find(([id]) => id.startsWith('EdgePushWsMessageFunction'))![1].Properties.ReservedConcurrentExecutions).toBe(5);
    t.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: 'relay',
      DefaultRouteSettings: Match.objectLike({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 60 }),
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateAgeOfOldestMessage', Threshold: 600 });
  });

  it('given an event bus: ws-message may put events on that bus alone, and every function knows its name', () => {
    const stack = new Stack(new App(), 'Bus');
    const bus = new EventBus(stack, 'CustomerBus');
    new EdgePush(stack, 'EdgePush', { eventBus: bus, inboundQueueAgeAlarmSeconds: 900 });
    const t = Template.fromStack(stack);
    const template = t.toJSON() as CfnTemplate;
    const [busId] = resourcesOf(template, 'AWS::Events::EventBus')[0];
    for (const [, f] of resourcesOf(template, 'AWS::Lambda::Function').filter(([id]) => !id.startsWith('EdgePushConsole'))) {
      expect(f.Properties!.Environment.Variables.EDGEPUSH_EVENT_BUS).toEqual({ Ref: busId });
    }
    const puts = resourcesOf(template, 'AWS::IAM::Policy').filter(([, p]) => JSON.stringify(p).includes('events:PutEvents'));
    expect(puts.map(([id]) => id.replace(/RoleDefaultPolicy.*$/, ''))).toStrictEqual(['EdgePushWsMessage']);
    const statement = (puts[0][1].Properties!.PolicyDocument.Statement as Statement[]).find((st) =>
      actionsOf(st).includes('events:PutEvents'),
    )!;
    expect(statement.Resource).toEqual({ 'Fn::GetAtt': [busId, 'Arn'] });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateAgeOfOldestMessage', Threshold: 900 });
  });

  it('refuse values Lambda would reject, at synth', () => {
    const build = (props: EdgePushProps) => () => new EdgePush(new Stack(new App(), 'Bad'), 'EdgePush', props);
    expect(build({ memorySize: { http: 64 } })).toThrow(ConfigError);
    expect(build({ memorySize: { wsMessage: 20000 } })).toThrow(/128 to 10240/);
    expect(build({ reservedConcurrency: { http: -1 } })).toThrow(/whole number/);
    expect(build({ core: { maxAttempts: 0 } })).toThrow(/core.maxAttempts must be a positive number/);
    expect(build({ core: { maxBodyBytes: 5 * 1024 * 1024 + 1 } })).toThrow(/core.maxBodyBytes must be at most 5242880 on AWS/);
    expect(build({ core: { maxBodyBytes: 5 * 1024 * 1024 } })).not.toThrow();
    for (const w of [0, 11, 2.5]) expect(build({ dispatchWindow: w })).toThrow(/dispatchWindow must be a whole number from 1 to 10/);
  });

  it('passes dispatchWindow to the Lambdas; by default the handler uses the batch size', () => {
    const env = (props: EdgePushProps) => {
      const stack = new Stack(new App(), 'Window');
      new EdgePush(stack, 'EdgePush', props);
      const fns = Object.entries(Template.fromStack(stack).findResources('AWS::Lambda::Function'));
      return fns.find(([id]) => id.startsWith('EdgePushDispatcherFunction'))![1].Properties.Environment.Variables;
    };
    expect(env({ dispatchWindow: 1 })).toMatchObject({ EDGEPUSH_DISPATCH_WINDOW: '1' });
    expect(env({})).not.toHaveProperty('EDGEPUSH_DISPATCH_WINDOW');
  });
});

describe('context values', () => {
  const ctx = (values: Record<string, string>) => (key: string) => values[key];

  it('refuse a missing or invalid value with a ConfigError that says how to fix it', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{}, /missing -c stage/],
      [{ stage: 'Prod!' }, /stage must be lower-case/],
      [{ stage: 'dev', auth: 'jwt' }, /jwtIssuer/],
      [{ stage: 'dev', auth: 'cognito' }, /auth must be one of iam, jwt/],
      [{ stage: 'dev', retentionDays: '-1' }, /retentionDays must be a positive number/],
      [{ stage: 'dev', webSocketAccessLogs: 'yes' }, /webSocketAccessLogs must be one of off, create-account-role, account-role-exists/],
      [{ stage: 'dev', kms: 'mykey' }, /kms must be create, none or a KMS key ARN/],
      [{ stage: 'dev', relayDomain: 'relay.example.com' }, /relayDomain and -c relayCertificateArn go together/],
      [{ stage: 'dev', alarmEmail: 'nobody' }, /not an email address/],
      [{ stage: 'dev', eventBusArn: 'my-bus' }, /eventBusArn must be an EventBridge event bus ARN/],
    ];
    for (const [values, message] of cases) {
      expect(() => stackPropsFromContext(ctx(values))).toThrow(ConfigError);
      expect(() => stackPropsFromContext(ctx(values))).toThrow(message);
    }
  });

  it('pass an event bus ARN through to the construct', () => {
    const arn = 'arn:aws:events:eu-west-1:123456789012:event-bus/customer-bus';
    expect(stackPropsFromContext(ctx({ stage: 'dev', eventBusArn: arn })).eventBusArn).toBe(arn);
    const stack = new EdgePushStack(new App(), 'Bus', { stage: 'dev', eventBusArn: arn });
    const wsMessage = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function')).find((f) =>
      JSON.stringify(f).includes('EDGEPUSH_EVENT_BUS'),
    );
    expect(wsMessage?.Properties.Environment.Variables.EDGEPUSH_EVENT_BUS).toBe('customer-bus');
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'events:PutEvents', Resource: arn })]) },
    });
  });

  it('reservations that do not leave 100 of the account limit unreserved fail at synth', () => {
    expect(() => synth({ accountConcurrencyLimit: '200' })).toThrow(/must leave 100 of the account's 200 unreserved/);
  }, 180000);
});

describe('cdk-nag is live', () => {
  it('fails synth on an unacknowledged finding', () => {
    expect(() => synth({}, (stack) => new Queue(stack, 'Unencrypted', { enforceSSL: false }))).toThrow(/AwsSolutions-SQS[34]/);
  }, 180000);
});
