/** Synthesises the stack (with cdk-nag) and checks what matters in the template. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { EdgePushStack, stackPropsFromContext } from '../../lib/edgepush-stack';
import { addNagChecks } from '../../lib/nag';

interface Synth {
  template: Template;
  report: { pluginReports: { violations: unknown[]; suppressedViolations: { ruleName: string; reason: string }[] }[] };
}

const outdirs: string[] = [];
afterAll(() => outdirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function synth(context: Record<string, string> = {}, extra?: (stack: Stack) => void): Synth {
  const outdir = mkdtempSync(path.join(tmpdir(), 'edgepush-cdk-'));
  outdirs.push(outdir);
  const app = new App({ outdir, context });
  const stack = new EdgePushStack(
    app,
    'EdgePushTest',
    stackPropsFromContext((k) => app.node.tryGetContext(k)),
  );
  extra?.(stack);
  addNagChecks(app);
  const assembly = app.synth();
  const template = Template.fromJSON(assembly.getStackByName('EdgePushTest').template);
  return { template, report: JSON.parse(readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) };
}

const ROUTES = [
  'GET /health',
  'POST /agents',
  'GET /agents/{agentId}',
  'POST /agents/{agentId}/push',
  'GET /pushes/{pushId}',
  'POST /fhir/R4/Agent/{agentId}/$push',
];

describe('EdgePush stack (IAM auth, the default)', () => {
  let t: Template;
  let report: Synth['report'];
  beforeAll(() => {
    ({ template: t, report } = synth());
  }, 120000);

  it('passes cdk-nag AwsSolutions with no unacknowledged finding, each acknowledgement with a reason', () => {
    expect(report.pluginReports).toHaveLength(1);
    const [nag] = report.pluginReports;
    expect(nag.violations).toEqual([]);
    for (const s of nag.suppressedViolations) expect(s.reason.length).toBeGreaterThan(40);
    // Only the accepted kinds: unauthorised WebSocket/health routes, the per-connection postToConnection grant,
    // and no rotation of the agent-secret HMAC key (rotating it would invalidate every agent).
    expect(new Set(nag.suppressedViolations.map((s) => s.ruleName.replace(/\[.*$/, '')))).toEqual(
      new Set(['AwsSolutions-APIG4', 'AwsSolutions-IAM5', 'AwsSolutions-SMG4']),
    );
  });

  it('routes every push API path, IAM-authorised except /health', () => {
    for (const key of ROUTES) {
      t.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: key,
        AuthorizationType: key === 'GET /health' ? 'NONE' : 'AWS_IAM',
      });
    }
  });

  it('throttles the push API stage and writes access logs', () => {
    t.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      DefaultRouteSettings: Match.objectLike({ ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 }),
      AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }),
    });
  });

  it('authorises WebSocket $connect with a Lambda REQUEST authorizer on the agent id + secret headers', () => {
    t.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'REQUEST',
      IdentitySource: ['route.request.header.x-edgepush-agent-id', 'route.request.header.x-edgepush-agent-secret'],
    });
    t.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: '$connect', AuthorizationType: 'CUSTOM' });
    for (const key of ['$disconnect', 'hello', 'result', 'heartbeat', '$default']) {
      t.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: key });
    }
    t.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'WEBSOCKET', RouteSelectionExpression: '$request.body.action' });
    t.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: 'relay',
      AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }),
    });
  });

  it('keeps pushes in a PITR-protected, encrypted table with TTL', () => {
    t.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
    t.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: { SSEEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      // GET /pushes: newest first per agent and overall, projecting no body (dynamo-list-index.ts).
      GlobalSecondaryIndexes: Match.arrayWith([
        Match.objectLike({
          IndexName: 'by-agent',
          KeySchema: [
            { AttributeName: 'agentId', KeyType: 'HASH' },
            { AttributeName: 'listKey', KeyType: 'RANGE' },
          ],
          Projection: Match.objectLike({ ProjectionType: 'INCLUDE', NonKeyAttributes: Match.not(Match.arrayWith(['body'])) }),
        }),
        Match.objectLike({ IndexName: 'all' }),
      ]),
      Replicas: [Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } })],
    });
  });

  it('buffers pushes in an encrypted FIFO queue with a DLQ, a 1 MiB limit, our own dedup ids and an alarm', () => {
    t.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      ContentBasedDeduplication: false,
      MaximumMessageSize: 1048576,
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 60,
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 1000 },
    });
    t.resourceCountIs('AWS::SQS::Queue', 2);
    // Both queues refuse non-TLS access.
    const policies = t.findResources('AWS::SQS::QueuePolicy');
    expect(Object.keys(policies)).toHaveLength(2);
    for (const p of Object.values(policies)) {
      expect(JSON.stringify(p)).toContain('"aws:SecureTransport":"false"');
    }
    // The alarm counts pushes the dead-letter consumer ended, plus any it could not handle.
    const alarm = Object.values(t.findResources('AWS::CloudWatch::Alarm'))[0];
    expect(alarm.Properties).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    const metricsText = JSON.stringify(alarm.Properties.Metrics);
    expect(metricsText).toContain('PushDeadLettered');
    expect(metricsText).toContain('ApproximateNumberOfMessagesVisible');
    // One consumer for the queue (the dispatcher), one for the DLQ (ends dead-lettered pushes).
    const mappings = Object.values(t.findResources('AWS::Lambda::EventSourceMapping'));
    expect(mappings).toHaveLength(2);
    for (const m of mappings) expect(m.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    const sources = mappings.map((m) => JSON.stringify(m.Properties.EventSourceArn)).sort();
    expect(sources[0]).toMatch(/DeadLetterQueue/);
    expect(sources[1]).toMatch(/PushQueue/);
  });

  it('runs seven Lambdas on the newest Node.js runtime, arm64', () => {
    const fns = t.findResources('AWS::Lambda::Function');
    expect(Object.keys(fns)).toHaveLength(7);
    for (const fn of Object.values(fns)) {
      expect(fn.Properties.Runtime).toBe('nodejs24.x');
      expect(fn.Properties.Architectures).toEqual(['arm64']);
    }
  });

  it('grants each function only the calls it makes, on the stack resources', () => {
    const policies = Object.entries(t.findResources('AWS::IAM::Policy'));
    const statementsOf = (role: string) => {
      const entry = policies.find(([id]) => id.startsWith(`EdgePush${role}RoleDefaultPolicy`));
      expect(entry).toBeDefined();
      return entry![1].Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[];
    };
    const actions = (role: string) =>
      statementsOf(role)
        .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]))
        .sort();
    expect(actions('WsAuthorizer')).toEqual(
      ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'logs:CreateLogStream', 'logs:PutLogEvents', 'secretsmanager:GetSecretValue'].sort(),
    );
    expect(actions('WsConnect')).toEqual(['dynamodb:UpdateItem', 'logs:CreateLogStream', 'logs:PutLogEvents']);
    expect(actions('Http')).toEqual(
      [
        'dynamodb:DeleteItem', // DELETE /agents/{id}
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query', // GET /pushes and GET /agents, on the list indexes
        'dynamodb:UpdateItem',
        'execute-api:ManageConnections', // DELETE only, below
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'secretsmanager:GetSecretValue',
        'sqs:DeleteMessage', // cancelling a queued push releases its delivery
        'sqs:SendMessage',
      ].sort(),
    );
    expect(actions('WsMessage')).toContain('execute-api:ManageConnections');
    // The HTTP function may only DELETE connections (closing a disabled or re-keyed agent's relay), never post.
    const httpConnections = statementsOf('Http').filter((st) => JSON.stringify(st.Action).includes('execute-api:ManageConnections'));
    expect(JSON.stringify(httpConnections)).toContain('/DELETE/@connections/*');
    expect(JSON.stringify(httpConnections)).not.toContain('/POST/');
    expect(actions('DeadLetter')).toEqual(
      ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'logs:CreateLogStream', 'logs:PutLogEvents', 'sqs:DeleteMessage']
        .concat(
          // the event source mapping's own grants, on the DLQ
          ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'],
        )
        .sort(),
    );
    for (const role of ['Http', 'WsAuthorizer', 'WsConnect', 'WsDisconnect', 'WsMessage', 'Dispatcher', 'DeadLetter']) {
      for (const s of statementsOf(role)) {
        // No statement on "*": every one names a stack resource.
        expect(s.Resource).not.toBe('*');
        const text = JSON.stringify(s.Resource);
        if (JSON.stringify(s.Action).includes('dynamodb:')) expect(text).toMatch(/EdgePushTable/);
        if (JSON.stringify(s.Action).includes('execute-api:'))
          expect(text).toMatch(/EdgePushRelayApi.*\/relay\/(POST|DELETE)\/@connections\/\*/);
      }
    }
    t.resourcePropertiesCountIs('AWS::IAM::Role', { ManagedPolicyArns: Match.anyValue() }, 0);
  });

  it('outputs the push API URL and the relay WebSocket URL', () => {
    const outputs = Object.keys(t.findOutputs('*'));
    expect(outputs.some((o) => o.includes('PushApiUrl'))).toBe(true);
    expect(outputs.some((o) => o.includes('RelayWebSocketUrl'))).toBe(true);
  });
});

describe('EdgePush stack with -c auth=jwt', () => {
  it('puts a JWT authorizer and the route scopes on every route but /health', () => {
    const { template: t, report } = synth({ auth: 'jwt', jwtIssuer: 'https://issuer.example.com', jwtAudience: 'edgepush' });
    expect(report.pluginReports[0].violations).toEqual([]);
    t.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      JwtConfiguration: { Issuer: 'https://issuer.example.com', Audience: ['edgepush'] },
    });
    const scope = (key: string) => (key === 'POST /agents' || key === 'GET /agents/{agentId}' ? 'edgepush/admin' : 'edgepush/push');
    for (const key of ROUTES.filter((k) => k !== 'GET /health')) {
      t.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: key, AuthorizationType: 'JWT', AuthorizationScopes: [scope(key)] });
    }
    t.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'GET /health', AuthorizationType: 'NONE' });
  }, 120000);

  it('refuses auth=jwt without an issuer and audience, and unknown auth modes', () => {
    expect(() => stackPropsFromContext((k) => ({ auth: 'jwt' })[k as 'auth'])).toThrow(/jwtIssuer/);
    expect(() => stackPropsFromContext((k) => ({ auth: 'cognito' })[k as 'auth'])).toThrow(/iam or jwt/);
  });
});

describe('cdk-nag is live', () => {
  it('fails synth on an unacknowledged finding', () => {
    expect(() => synth({}, (stack) => new Queue(stack, 'Unencrypted', { enforceSSL: false }))).toThrow(/AwsSolutions-SQS[34]/);
  }, 120000);
});
