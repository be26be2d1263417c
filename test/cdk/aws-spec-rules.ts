/**
 * AWS's documented rules that the services enforce at deploy time (and that cfn-lint and
 * cdk-nag do not check), as checks over a synthesized template. Each rule names its source,
 * returns the violations it finds, and has `breakIt`, which edits a copy of a good template so
 * that AWS would reject it: the tests run every rule on both, so no rule can pass vacuously.
 */
import {
  HTTP_API_ACCESS_LOG_VARIABLES,
  WEBSOCKET_API_ACCESS_LOG_VARIABLES,
  contextVariablesIn,
  isSupportedVariable,
} from '../../lib/aws-rules/access-log-variables';
import { DEFAULT_ACCOUNT_CONCURRENCY, MIN_UNRESERVED_CONCURRENCY } from '../../lib/edgepush-construct';
import { resourcesOf, type CfnResource, type CfnTemplate } from './synth';

export interface SpecRule {
  id: string;
  /** Where AWS documents the rule. */
  doc: string;
  check(t: CfnTemplate): string[];
  /** Makes a copy of a passing template that AWS would reject. */
  breakIt(t: CfnTemplate): void;
}

/** `{Ref: X}` or `{'Fn::GetAtt': [X, ...]}` -> X. */
function refTarget(value: unknown): string | undefined {
  const v = value as { Ref?: string; 'Fn::GetAtt'?: [string, string] } | undefined;
  return v?.Ref ?? v?.['Fn::GetAtt']?.[0];
}

function protocolOf(t: CfnTemplate, apiRef: unknown): string | undefined {
  const api = t.Resources[refTarget(apiRef) ?? ''];
  return api?.Properties?.ProtocolType as string | undefined;
}

function first<T>(items: [string, T][], what: string): [string, T] {
  if (items.length === 0) throw new Error(`no ${what} in the template to break`);
  return items[0];
}

const dependsOn = (r: CfnResource): string[] => (r.DependsOn === undefined ? [] : Array.isArray(r.DependsOn) ? r.DependsOn : [r.DependsOn]);

const inRange = (value: unknown, min: number, max: number) =>
  value === undefined || (Number.isInteger(Number(value)) && Number(value) >= min && Number(value) <= max);

// HTTP API route keys: `$default` or `METHOD /path`, each path part a literal or `{param}` / `{proxy+}`.
const HTTP_PATH_PART = /^(\{[\w.-]+\+?\}|[a-zA-Z0-9._-]+)$/;
const HTTP_METHODS = new Set(['ANY', 'GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);

export const SPEC_RULES: SpecRule[] = [
  {
    id: 'HTTP API route keys: "METHOD /path", every path part a literal or a {parameter}',
    doc: 'https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html',
    check(t) {
      const bad: string[] = [];
      for (const [id, r] of resourcesOf(t, 'AWS::ApiGatewayV2::Route')) {
        if (protocolOf(t, r.Properties?.ApiId) !== 'HTTP') continue;
        const key = String(r.Properties?.RouteKey);
        if (key === '$default') continue;
        const [method, path, ...rest] = key.split(' ');
        const parts = path?.startsWith('/') ? path.slice(1).split('/') : [];
        const ok = rest.length === 0 && HTTP_METHODS.has(method) && parts.length > 0 && parts.every((p) => HTTP_PATH_PART.test(p));
        if (!ok) bad.push(`${id}: ${key}`);
      }
      return bad;
    },
    breakIt(t) {
      const [, r] = first(
        resourcesOf(t, 'AWS::ApiGatewayV2::Route').filter(([, r]) => protocolOf(t, r.Properties?.ApiId) === 'HTTP'),
        'HTTP route',
      );
      r.Properties!.RouteKey = 'POST /fhir/R4/Agent/{agentId}/$push';
    },
  },
  {
    id: 'WebSocket route keys: a key starting with $ is $connect, $disconnect or $default',
    doc: 'https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-develop-routes.html',
    check(t) {
      return resourcesOf(t, 'AWS::ApiGatewayV2::Route')
        .filter(([, r]) => protocolOf(t, r.Properties?.ApiId) === 'WEBSOCKET')
        .map(([id, r]) => [id, String(r.Properties?.RouteKey)])
        .filter(([, key]) => key === '' || (key.startsWith('$') && !['$connect', '$disconnect', '$default'].includes(key)))
        .map(([id, key]) => `${id}: ${key}`);
    },
    breakIt(t) {
      const [, r] = first(
        resourcesOf(t, 'AWS::ApiGatewayV2::Route').filter(([, r]) => protocolOf(t, r.Properties?.ApiId) === 'WEBSOCKET'),
        'WebSocket route',
      );
      r.Properties!.RouteKey = '$hello';
    },
  },
  {
    id: 'Access-log formats use only the $context variables their API type supports',
    doc: 'https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging-variables.html and https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-logging.html',
    check(t) {
      const bad: string[] = [];
      for (const [id, r] of resourcesOf(t, 'AWS::ApiGatewayV2::Stage')) {
        const format = r.Properties?.AccessLogSettings?.Format as string | undefined;
        if (format === undefined) continue;
        const protocol = protocolOf(t, r.Properties?.ApiId);
        const supported =
          protocol === 'HTTP' ? HTTP_API_ACCESS_LOG_VARIABLES : protocol === 'WEBSOCKET' ? WEBSOCKET_API_ACCESS_LOG_VARIABLES : [];
        for (const v of contextVariablesIn(format)) if (!isSupportedVariable(v, supported)) bad.push(`${id} (${protocol}): ${v}`);
      }
      return bad;
    },
    breakIt(t) {
      // The original fault: one format shared by both stages.
      const stages = resourcesOf(t, 'AWS::ApiGatewayV2::Stage').filter(([, r]) => r.Properties?.AccessLogSettings?.Format);
      const [, r] = first(stages, 'stage with access logs');
      r.Properties!.AccessLogSettings.Format = JSON.stringify({
        connectionId: '$context.connectionId',
        responseLength: '$context.responseLength',
      });
    },
  },
  {
    id: 'WebSocket access logging needs the account API Gateway CloudWatch role (created here, or a stated prerequisite)',
    doc: 'https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html',
    check(t) {
      const bad: string[] = [];
      for (const [id, r] of resourcesOf(t, 'AWS::ApiGatewayV2::Stage')) {
        if (protocolOf(t, r.Properties?.ApiId) !== 'WEBSOCKET' || !r.Properties?.AccessLogSettings) continue;
        const roleSet = dependsOn(r).some(
          (d) => t.Resources[d]?.Type === 'AWS::ApiGateway::Account' && t.Resources[d].Properties?.CloudWatchRoleArn,
        );
        const prerequisite = typeof r.Metadata?.['EdgePush::CloudWatchRolePrerequisite'] === 'string';
        if (!roleSet && !prerequisite) bad.push(`${id}: WebSocket access logs without the account's CloudWatch role`);
      }
      return bad;
    },
    breakIt(t) {
      const [, r] = first(
        resourcesOf(t, 'AWS::ApiGatewayV2::Stage').filter(([, r]) => protocolOf(t, r.Properties?.ApiId) === 'WEBSOCKET'),
        'WebSocket stage',
      );
      r.Properties!.AccessLogSettings = { DestinationArn: 'arn:aws:logs:us-east-1:123456789012:log-group:x', Format: '$context.requestId' };
      r.DependsOn = dependsOn(r).filter((d) => t.Resources[d]?.Type !== 'AWS::ApiGateway::Account');
      delete r.Metadata?.['EdgePush::CloudWatchRolePrerequisite'];
    },
  },
  {
    id: 'SQS: a FIFO queue name ends in .fifo, and only a FIFO queue name does',
    doc: 'https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-sqs-queue.html',
    check(t) {
      return resourcesOf(t, 'AWS::SQS::Queue')
        .filter(([, r]) => typeof r.Properties?.QueueName === 'string')
        .filter(([, r]) => (r.Properties!.QueueName as string).endsWith('.fifo') !== (r.Properties!.FifoQueue === true))
        .map(([id, r]) => `${id}: ${r.Properties!.QueueName}`);
    },
    breakIt(t) {
      const [, r] = first(
        resourcesOf(t, 'AWS::SQS::Queue').filter(([, r]) => r.Properties?.FifoQueue === true),
        'FIFO queue',
      );
      r.Properties!.QueueName = 'edgepush-pushes';
    },
  },
  {
    id: "SQS: a FIFO queue's dead-letter queue is FIFO (and a standard queue's is standard)",
    doc: 'https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html',
    check(t) {
      const bad: string[] = [];
      for (const [id, r] of resourcesOf(t, 'AWS::SQS::Queue')) {
        const target = refTarget(r.Properties?.RedrivePolicy?.deadLetterTargetArn);
        if (target === undefined) continue;
        const dlq = t.Resources[target];
        if (dlq?.Type !== 'AWS::SQS::Queue') bad.push(`${id}: dead-letter target ${target} is not a queue of this stack`);
        else if ((dlq.Properties?.FifoQueue === true) !== (r.Properties?.FifoQueue === true))
          bad.push(`${id} -> ${target}: queue types differ`);
      }
      return bad;
    },
    breakIt(t) {
      const [, r] = first(
        resourcesOf(t, 'AWS::SQS::Queue').filter(([, r]) => r.Properties?.RedrivePolicy),
        'queue with a DLQ',
      );
      const dlq = t.Resources[refTarget(r.Properties!.RedrivePolicy.deadLetterTargetArn)!];
      delete dlq.Properties!.FifoQueue;
    },
  },
  {
    id: 'SQS: attribute ranges, and the high-throughput FIFO pair',
    doc: 'https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html and https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/high-throughput-fifo.html',
    check(t) {
      const bad: string[] = [];
      for (const [id, r] of resourcesOf(t, 'AWS::SQS::Queue')) {
        const p = r.Properties ?? {};
        if (!inRange(p.VisibilityTimeout, 0, 43200)) bad.push(`${id}: VisibilityTimeout ${p.VisibilityTimeout}`);
        if (!inRange(p.MessageRetentionPeriod, 60, 1209600)) bad.push(`${id}: MessageRetentionPeriod ${p.MessageRetentionPeriod}`);
        if (!inRange(p.MaximumMessageSize, 1024, 1048576)) bad.push(`${id}: MaximumMessageSize ${p.MaximumMessageSize}`);
        if (!inRange(p.DelaySeconds, 0, 900)) bad.push(`${id}: DelaySeconds ${p.DelaySeconds}`);
        if (!inRange(p.ReceiveMessageWaitTimeSeconds, 0, 20)) bad.push(`${id}: ReceiveMessageWaitTimeSeconds`);
        if (!inRange(p.RedrivePolicy?.maxReceiveCount, 1, 1000)) bad.push(`${id}: maxReceiveCount ${p.RedrivePolicy?.maxReceiveCount}`);
        const fifoOnly = ['ContentBasedDeduplication', 'DeduplicationScope', 'FifoThroughputLimit'].filter((k) => p[k] !== undefined);
        if (p.FifoQueue !== true && fifoOnly.length > 0) bad.push(`${id}: ${fifoOnly.join(', ')} on a standard queue`);
        if (p.FifoThroughputLimit === 'perMessageGroupId' && p.DeduplicationScope !== 'messageGroup') {
          bad.push(`${id}: FifoThroughputLimit perMessageGroupId needs DeduplicationScope messageGroup`);
        }
      }
      return bad;
    },
    breakIt(t) {
      const [, r] = first(resourcesOf(t, 'AWS::SQS::Queue'), 'queue');
      r.Properties!.MessageRetentionPeriod = 15 * 24 * 3600;
    },
  },
  {
    id: 'Lambda SQS event source: queue visibility timeout >= function timeout; FIFO batch <= 10, no batching window; max concurrency 2-1000',
    doc: 'https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html and https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html',
    check(t) {
      const bad: string[] = [];
      for (const [id, m] of resourcesOf(t, 'AWS::Lambda::EventSourceMapping')) {
        const queue = t.Resources[refTarget(m.Properties?.EventSourceArn) ?? ''];
        const fn = t.Resources[refTarget(m.Properties?.FunctionName) ?? ''];
        if (queue?.Type !== 'AWS::SQS::Queue' || fn?.Type !== 'AWS::Lambda::Function') continue;
        const visibility = Number(queue.Properties?.VisibilityTimeout ?? 30);
        const timeout = Number(fn.Properties?.Timeout ?? 3);
        if (visibility < timeout) bad.push(`${id}: queue visibility ${visibility} s < function timeout ${timeout} s`);
        if (queue.Properties?.FifoQueue === true) {
          if (Number(m.Properties?.BatchSize ?? 10) > 10) bad.push(`${id}: FIFO batch size ${m.Properties?.BatchSize}`);
          if (m.Properties?.MaximumBatchingWindowInSeconds !== undefined) bad.push(`${id}: batching window on a FIFO queue`);
        }
        if (!inRange(m.Properties?.ScalingConfig?.MaximumConcurrency, 2, 1000)) bad.push(`${id}: MaximumConcurrency`);
      }
      return bad;
    },
    breakIt(t) {
      const [, m] = first(resourcesOf(t, 'AWS::Lambda::EventSourceMapping'), 'event source mapping');
      t.Resources[refTarget(m.Properties!.FunctionName)!].Properties!.Timeout = 900;
    },
  },
  {
    id: 'Lambda: memory 128-10240 MB, timeout 1-900 s, runtime nodejs22.x or newer',
    doc: 'https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html and https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html',
    check(t) {
      const bad: string[] = [];
      for (const [id, r] of resourcesOf(t, 'AWS::Lambda::Function')) {
        const p = r.Properties ?? {};
        if (!inRange(p.MemorySize ?? 128, 128, 10240)) bad.push(`${id}: MemorySize ${p.MemorySize}`);
        if (!inRange(p.Timeout ?? 3, 1, 900)) bad.push(`${id}: Timeout ${p.Timeout}`);
        const node = /^nodejs(\d+)\.x$/.exec(String(p.Runtime));
        if (!node || Number(node[1]) < 22) bad.push(`${id}: Runtime ${p.Runtime}`);
      }
      return bad;
    },
    breakIt(t) {
      const [, r] = first(resourcesOf(t, 'AWS::Lambda::Function'), 'function');
      r.Properties!.Runtime = 'nodejs20.x';
    },
  },
  {
    id: `Lambda: reserved concurrency leaves ${MIN_UNRESERVED_CONCURRENCY} of the default account limit (${DEFAULT_ACCOUNT_CONCURRENCY}) unreserved`,
    doc: 'https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html',
    check(t) {
      let total = 0;
      const bad: string[] = [];
      for (const [id, r] of resourcesOf(t, 'AWS::Lambda::Function')) {
        const n = r.Properties?.ReservedConcurrentExecutions as number | undefined;
        if (n === undefined) continue;
        if (!Number.isInteger(n) || n < 0) bad.push(`${id}: ReservedConcurrentExecutions ${n}`);
        total += n;
      }
      if (total > DEFAULT_ACCOUNT_CONCURRENCY - MIN_UNRESERVED_CONCURRENCY) bad.push(`reserved ${total} in total`);
      return bad;
    },
    breakIt(t) {
      const [, r] = first(resourcesOf(t, 'AWS::Lambda::Function'), 'function');
      r.Properties!.ReservedConcurrentExecutions = DEFAULT_ACCOUNT_CONCURRENCY;
    },
  },
];
