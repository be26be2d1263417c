/**
 * Alarms (each notifies the alarm topic, on ALARM and on OK) and one CloudWatch dashboard.
 * What each alarm watches, and why that metric, is in its description.
 */
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  MathExpression,
  Metric,
  TreatMissingData,
  type IMetric,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { FilterPattern, MetricFilter } from 'aws-cdk-lib/aws-logs';
import { Topic, type ITopic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { EdgePush } from './edgepush-construct';
import type { LambdaName } from './lambda-bundling';

export interface EdgePushMonitoringProps {
  edgePush: EdgePush;
  topic?: ITopic;
  email?: string;
  encryptionKey?: IKey;
  queueAgeAlarmSeconds: number;
  inboundQueueAgeAlarmSeconds: number;
}

const FIVE_MINUTES = Duration.minutes(5);
/** Namespace of the metrics EdgePush defines itself (Powertools metrics and log metric filters). */
export const METRIC_NAMESPACE = 'EdgePush';

export class EdgePushMonitoring extends Construct {
  readonly topic: ITopic;
  readonly alarms: Alarm[] = [];
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: EdgePushMonitoringProps) {
    super(scope, id);
    const ep = props.edgePush;
    this.topic = props.topic ?? this.createTopic(props.encryptionKey);
    if (props.email) this.topic.addSubscription(new EmailSubscription(props.email));

    // The DLQ's consumer (an event source mapping) drains it at once, so the number of visible
    // messages stays 0; every dead-lettered message is received from it, though. (SQS's
    // NumberOfMessagesSent does not count messages moved there by a redrive policy:
    // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html)
    this.alarm('DeadLetterAlarm', {
      description:
        'A push reached the dead-letter queue (days of backoff, or a dispatcher that kept failing); its consumer ends it as failed or expired.',
      metric: ep.deadLetterQueue.metricNumberOfMessagesReceived({ period: FIVE_MINUTES, statistic: 'Sum' }),
      threshold: 1,
    });

    const fnNames = Object.keys(ep.functions) as LambdaName[];
    for (const name of fnNames) {
      const fn = ep.functions[name];
      const label = `${name[0].toUpperCase()}${name.slice(1)}`;
      // The authorizer throws 'Unauthorized' for a wrong secret, which Lambda counts as an error.
      const authorizer = name === 'wsAuthorizer';
      this.alarm(`${label}ErrorsAlarm`, {
        description: authorizer
          ? 'Many relay connects were refused (wrong or missing secrets), or the authorizer is failing.'
          : `The ${name} Lambda failed (unhandled errors or timeouts).`,
        metric: fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
        threshold: authorizer ? 20 : 1,
      });
      this.alarm(`${label}ThrottlesAlarm`, {
        description: `The ${name} Lambda was throttled: its reserved concurrency (or the account's) is used up.`,
        metric: fn.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' }),
        threshold: 1,
      });
    }

    this.alarm('QueueAgeAlarm', {
      description: `A push has waited over ${props.queueAgeAlarmSeconds} s in the queue: a relay or a device is down, or a message group is stuck.`,
      metric: ep.queue.metricApproximateAgeOfOldestMessage({ period: FIVE_MINUTES, statistic: 'Maximum' }),
      threshold: props.queueAgeAlarmSeconds,
    });

    // The inbound DLQ has no consumer (a delivery that keeps crashing needs a person): its
    // messages stay visible there until redriven.
    this.alarm('InboundDeadLetterAlarm', {
      description:
        'An inbound message reached the inbound dead-letter queue (its webhook delivery kept crashing); it is still stored and pullable. Fix the cause, then redrive the DLQ.',
      metric: ep.inboundDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: 'Maximum' }),
      threshold: 1,
    });
    this.alarm('InboundQueueAgeAlarm', {
      description: `A webhook delivery has waited over ${props.inboundQueueAgeAlarmSeconds} s: a customer's webhook is failing or slow, or the webhook Lambda is throttled.`,
      metric: ep.inboundQueue.metricApproximateAgeOfOldestMessage({ period: FIVE_MINUTES, statistic: 'Maximum' }),
      threshold: props.inboundQueueAgeAlarmSeconds,
    });

    const wsMetric = (metricName: string) =>
      new Metric({
        namespace: 'AWS/ApiGateway',
        metricName,
        dimensionsMap: { ApiId: ep.webSocketApi.apiId, Stage: ep.webSocketStage.stageName },
        period: FIVE_MINUTES,
        statistic: 'Sum',
      });
    this.alarm('RelayIntegrationErrorsAlarm', {
      description: 'The WebSocket API got errors from (or could not call) its Lambdas: relay messages or results were not recorded.',
      metric: new MathExpression({
        expression: 'FILL(integration, 0) + FILL(execution, 0)',
        usingMetrics: { integration: wsMetric('IntegrationError'), execution: wsMetric('ExecutionError') },
        period: FIVE_MINUTES,
      }),
      threshold: 1,
    });

    // 5xx from the access log, so the 504 "no ACK within waitTimeout" answers (normal with slow
    // devices) do not count; API Gateway's own 5xx metric includes them.
    const serverErrors = new MetricFilter(this, 'PushApiServerErrorsFilter', {
      logGroup: ep.logGroups.pushApiAccess,
      metricNamespace: METRIC_NAMESPACE,
      metricName: 'PushApiServerErrors',
      filterPattern: FilterPattern.all(
        FilterPattern.stringValue('$.status', '=', '5*'),
        FilterPattern.stringValue('$.status', '!=', '504'),
      ),
      metricValue: '1',
      defaultValue: 0,
    });
    this.alarm('PushApi5xxAlarm', {
      description: 'The push API answered 5xx (other than 504, "no ACK within waitTimeout"): see the access log and the http Lambda log.',
      metric: serverErrors.metric({ period: FIVE_MINUTES, statistic: 'Sum' }),
      threshold: 1,
    });

    // Relays lost: a disconnect of an agent's current connection (the core logs wasCurrent), not
    // followed by a connect within the window. A relay's routine reconnects (it renews before the
    // 2-hour limit, or comes back within seconds after a drop) cancel out; a relay that stays
    // away does not. It fires once per outage, in the window the relay left.
    const lost = new MetricFilter(this, 'RelayLostFilter', {
      logGroup: ep.logGroups.wsDisconnect,
      metricNamespace: METRIC_NAMESPACE,
      metricName: 'RelayConnectionLost',
      filterPattern: FilterPattern.all(
        FilterPattern.stringValue('$.message', '=', 'relay disconnected'),
        FilterPattern.booleanValue('$.wasCurrent', true),
      ),
      metricValue: '1',
      defaultValue: 0,
    });
    const window = Duration.minutes(15);
    const relayConnects = new Metric({
      namespace: 'AWS/ApiGateway',
      metricName: 'ConnectCount',
      dimensionsMap: { ApiId: ep.webSocketApi.apiId, Stage: ep.webSocketStage.stageName },
      period: window,
      statistic: 'Sum',
    });
    this.alarm('RelaysOfflineAlarm', {
      description: 'A relay lost its connection and did not come back within 15 minutes (relay connections lost minus connects).',
      metric: new MathExpression({
        expression: 'FILL(lost, 0) - FILL(connects, 0)',
        usingMetrics: { lost: lost.metric({ period: window, statistic: 'Sum' }), connects: relayConnects },
        period: window,
      }),
      threshold: 1,
    });

    this.dashboard = this.createDashboard(
      ep,
      fnNames,
      wsMetric,
      serverErrors.metric({ statistic: 'Sum' }),
      lost.metric({ statistic: 'Sum' }),
    );
  }

  private createTopic(key: IKey | undefined): Topic {
    const topic = new Topic(this, 'AlarmTopic', { displayName: 'EdgePush alarms', enforceSSL: true, masterKey: key });
    if (!key) {
      Validations.of(topic).acknowledge({
        id: 'AwsSolutions::AwsSolutions-SNS2',
        reason:
          "Alarm notifications carry alarm names and states, never PHI; CloudWatch cannot publish to a topic encrypted with the AWS-managed SNS key, so the topic uses the stack's customer-managed key when one is given (encryptionKey).",
      });
    }
    return topic;
  }

  private alarm(id: string, opts: { description: string; metric: IMetric; threshold: number }): void {
    const alarm = new Alarm(this, id, {
      alarmDescription: `EdgePush (${Stack.of(this).stackName}): ${opts.description}`,
      metric: opts.metric,
      threshold: opts.threshold,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new SnsAction(this.topic));
    alarm.addOkAction(new SnsAction(this.topic));
    this.alarms.push(alarm);
  }

  private createDashboard(
    ep: EdgePush,
    fnNames: LambdaName[],
    wsMetric: (name: string) => Metric,
    serverErrors: IMetric,
    relaysLost: IMetric,
  ): Dashboard {
    const dashboard = new Dashboard(this, 'Dashboard', { dashboardName: `${Stack.of(this).stackName}-edgepush` });
    const pushes = (metricName: string, statistic: string) =>
      new Metric({ namespace: METRIC_NAMESPACE, metricName, dimensionsMap: { service: 'edgepush' }, statistic, period: FIVE_MINUTES });
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Push API',
        left: [ep.httpApi.metricCount({ period: FIVE_MINUTES }), ep.httpApi.metricServerError({ period: FIVE_MINUTES }), serverErrors],
        right: [ep.httpApi.metricLatency({ period: FIVE_MINUTES, statistic: 'p99' })],
      }),
      new GraphWidget({
        title: 'Relays (WebSocket)',
        left: [wsMetric('ConnectCount'), wsMetric('MessageCount'), relaysLost],
        right: [wsMetric('IntegrationError'), wsMetric('ExecutionError'), wsMetric('ClientError')],
      }),
      new GraphWidget({
        title: 'Queue',
        left: [
          ep.queue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES }),
          ep.queue.metricApproximateNumberOfMessagesNotVisible({ period: FIVE_MINUTES }),
          ep.deadLetterQueue.metricNumberOfMessagesReceived({ period: FIVE_MINUTES }),
        ],
        right: [ep.queue.metricApproximateAgeOfOldestMessage({ period: FIVE_MINUTES })],
      }),
      new GraphWidget({
        title: 'Inbound webhook queue',
        left: [
          ep.inboundQueue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES }),
          ep.inboundQueue.metricApproximateNumberOfMessagesNotVisible({ period: FIVE_MINUTES }),
          ep.inboundDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES }),
        ],
        right: [ep.inboundQueue.metricApproximateAgeOfOldestMessage({ period: FIVE_MINUTES })],
      }),
    );
    dashboard.addWidgets(
      new GraphWidget({ title: 'Lambda errors', left: fnNames.map((n) => ep.functions[n].metricErrors({ period: FIVE_MINUTES })) }),
      new GraphWidget({ title: 'Lambda throttles', left: fnNames.map((n) => ep.functions[n].metricThrottles({ period: FIVE_MINUTES })) }),
      new GraphWidget({
        title: 'Lambda concurrency',
        left: fnNames.map((n) => ep.functions[n].metric('ConcurrentExecutions', { period: FIVE_MINUTES, statistic: 'Maximum' })),
      }),
      new GraphWidget({
        title: 'Pushes',
        left: [
          // PushRequest carries an httpStatus dimension: one line per status.
          new MathExpression({
            expression: `SEARCH('{${METRIC_NAMESPACE},httpStatus,service} MetricName="PushRequest"', 'Sum', 300)`,
            label: 'push requests by status',
            period: FIVE_MINUTES,
          }),
          pushes('DispatchDone', 'Sum'),
          pushes('DispatchRetry', 'Sum'),
          pushes('PushDeadLettered', 'Sum'),
        ],
      }),
    );
    return dashboard;
  }
}
