/**
 * The stand-alone stack: the EdgePush construct configured from CDK context (`-c key=value`),
 * one stack per stage (`EdgePush-dev`, `EdgePush-prod`), tagged, with outputs whose names never
 * change. A missing or invalid context value is a ConfigError, which bin/app.ts prints as one
 * line instead of a stack trace.
 */
import { CfnOutput, RemovalPolicy, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import { TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { Key, type IKey } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { EdgePush, type EdgePushAuth, type EdgePushProps, type WebSocketAccessLogs } from './edgepush-construct';
import { ConfigError } from './config-error';
import { createEncryptionKey } from './encryption-key';

export interface EdgePushStackProps extends StackProps {
  /** Names the stack and its tags. */
  stage: string;
  auth?: EdgePushAuth;
  retentionDays?: number;
  webSocketAccessLogs?: WebSocketAccessLogs;
  /** `create`: a new customer-managed key; an ARN: that key. */
  kms?: 'create' | { keyArn: string };
  tableName?: string;
  pushApiDomain?: { domainName: string; certificateArn: string };
  relayDomain?: { domainName: string; certificateArn: string };
  alarmTopicArn?: string;
  alarmEmail?: string;
  /** An EventBridge bus (ARN) that gets an event per stored inbound message. */
  eventBusArn?: string;
  reservedConcurrency?: boolean;
  accountConcurrencyLimit?: number;
  /** `destroy`: a throwaway stage (the smoke test): no deletion protection, nothing retained. */
  removal?: 'retain' | 'destroy';
}

export const STAGE_PATTERN = /^[a-z][a-z0-9]{0,15}$/;

export class EdgePushStack extends Stack {
  readonly edgePush: EdgePush;

  constructor(scope: Construct, id: string, props: EdgePushStackProps) {
    super(scope, id, props);
    Tags.of(this).add('project', 'edgepush');
    Tags.of(this).add('edgepush:stage', props.stage);

    const destroy = props.removal === 'destroy';
    let encryptionKey: IKey | undefined;
    if (props.kms === 'create') encryptionKey = createEncryptionKey(this, 'EncryptionKey');
    else if (props.kms) encryptionKey = Key.fromKeyArn(this, 'EncryptionKey', props.kms.keyArn);

    const construct: EdgePushProps = {
      auth: props.auth,
      retentionDays: props.retentionDays,
      webSocketAccessLogs: props.webSocketAccessLogs,
      encryptionKey,
      table: props.tableName ? TableV2.fromTableName(this, 'ExistingTable', props.tableName) : undefined,
      pushApiDomain: props.pushApiDomain && {
        domainName: props.pushApiDomain.domainName,
        certificate: Certificate.fromCertificateArn(this, 'PushApiCertificate', props.pushApiDomain.certificateArn),
      },
      relayDomain: props.relayDomain && {
        domainName: props.relayDomain.domainName,
        certificate: Certificate.fromCertificateArn(this, 'RelayCertificate', props.relayDomain.certificateArn),
      },
      alarmTopic: props.alarmTopicArn ? Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn) : undefined,
      alarmEmail: props.alarmEmail,
      eventBus: props.eventBusArn ? EventBus.fromEventBusArn(this, 'EventBus', props.eventBusArn) : undefined,
      reservedConcurrency: props.reservedConcurrency === false ? false : undefined,
      accountConcurrencyLimit: props.accountConcurrencyLimit,
      deletionProtection: !destroy,
      tableRemovalPolicy: destroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
      logRemovalPolicy: destroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    };
    const ep = (this.edgePush = new EdgePush(this, 'EdgePush', construct));

    // Stable output names: scripts (npm run smoke:aws) and users read these.
    const output = (name: string, value: string, description: string) =>
      new CfnOutput(this, name, { value, description }).overrideLogicalId(name);
    output('PushApiUrl', ep.pushApiUrl, 'Base URL of the HTTP push API');
    output('RelayWebSocketUrl', ep.webSocketUrl, 'Give this to `edgepush relay --url`');
    output('PushApiId', ep.httpApi.apiId, 'API Gateway id of the push API');
    output('RelayApiId', ep.webSocketApi.apiId, 'API Gateway id of the relay WebSocket API');
    output('TableName', ep.table.tableName, 'DynamoDB table');
    output('AlarmTopicArn', ep.monitoring.topic.topicArn, 'SNS topic the alarms notify');
    output('DashboardName', ep.monitoring.dashboard.dashboardName, 'CloudWatch dashboard');
    if (ep.pushApiDomain) {
      output('PushApiDomainTarget', ep.pushApiDomain.regionalDomainName, 'Point a CNAME for the push API domain here');
    }
    if (ep.relayDomain) {
      output('RelayDomainTarget', ep.relayDomain.regionalDomainName, 'Point a CNAME for the relay domain here');
    }
  }
}

type Get = (key: string) => unknown;

function text(get: Get, key: string): string | undefined {
  const value = get(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
    throw new ConfigError(`-c ${key} must be a single value, not ${JSON.stringify(value)}`);
  }
  return String(value);
}

function oneOf<const T extends string>(get: Get, key: string, allowed: readonly T[], fallback: NoInfer<T>): T {
  const value = text(get, key) ?? fallback;
  if (!(allowed as readonly string[]).includes(value))
    throw new ConfigError(`-c ${key} must be one of ${allowed.join(', ')}, not ${value}`);
  return value as T;
}

function positive(get: Get, key: string): number | undefined {
  const value = text(get, key);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(Number.isFinite(n) && n > 0)) throw new ConfigError(`-c ${key} must be a positive number, not ${value}`);
  return n;
}

function domain(get: Get, key: string, certKey: string): { domainName: string; certificateArn: string } | undefined {
  const domainName = text(get, key);
  const certificateArn = text(get, certKey);
  if (!domainName && !certificateArn) return undefined;
  if (!domainName || !certificateArn)
    throw new ConfigError(`-c ${key} and -c ${certKey} go together (a domain and its ACM certificate ARN)`);
  if (!/^arn:aws[a-z-]*:acm:/.test(certificateArn))
    throw new ConfigError(`-c ${certKey} must be an ACM certificate ARN, not ${certificateArn}`);
  return { domainName, certificateArn };
}

/**
 * Reads the context: `stage` (required; cdk.json sets dev), `auth=iam|jwt` (jwt needs
 * `jwtIssuer`, `jwtAudience=a,b`), `retentionDays`, `webSocketAccessLogs`, `kms=create|<key ARN>`,
 * `tableName`, `pushApiDomain`+`pushApiCertificateArn`, `relayDomain`+`relayCertificateArn`,
 * `alarmTopicArn`, `alarmEmail`, `eventBusArn`, `reservedConcurrency=on|off`, `accountConcurrencyLimit`,
 * `removal=retain|destroy`.
 */
export function stackPropsFromContext(get: Get): EdgePushStackProps {
  const stage = text(get, 'stage');
  if (stage === undefined) throw new ConfigError('missing -c stage=<dev|prod> (cdk.json sets stage=dev)');
  if (!STAGE_PATTERN.test(stage)) throw new ConfigError(`-c stage must be lower-case letters and digits (dev, prod), not ${stage}`);

  const authType = oneOf(get, 'auth', ['iam', 'jwt'], 'iam');
  let auth: EdgePushAuth = { type: 'iam' };
  if (authType === 'jwt') {
    const issuer = text(get, 'jwtIssuer');
    const audience = text(get, 'jwtAudience');
    if (!issuer || !audience) throw new ConfigError('auth=jwt needs -c jwtIssuer=<issuer URL> -c jwtAudience=<audience[,audience]>');
    auth = {
      type: 'jwt',
      issuer,
      audience: audience
        .split(',')
        .map((a) => a.trim())
        .filter(Boolean),
    };
  }

  const kmsValue = text(get, 'kms');
  let kms: EdgePushStackProps['kms'];
  if (kmsValue === 'create') kms = 'create';
  else if (kmsValue !== undefined && kmsValue !== 'none') {
    if (!/^arn:aws[a-z-]*:kms:/.test(kmsValue)) throw new ConfigError(`-c kms must be create, none or a KMS key ARN, not ${kmsValue}`);
    kms = { keyArn: kmsValue };
  }
  const alarmEmail = text(get, 'alarmEmail');
  if (alarmEmail !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(alarmEmail))
    throw new ConfigError(`-c alarmEmail is not an email address: ${alarmEmail}`);
  const alarmTopicArn = text(get, 'alarmTopicArn');
  if (alarmTopicArn !== undefined && !/^arn:aws[a-z-]*:sns:/.test(alarmTopicArn))
    throw new ConfigError(`-c alarmTopicArn must be an SNS topic ARN, not ${alarmTopicArn}`);
  const eventBusArn = text(get, 'eventBusArn');
  if (eventBusArn !== undefined && !/^arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus\/[\w.\-/]+$/.test(eventBusArn))
    throw new ConfigError(
      `-c eventBusArn must be an EventBridge event bus ARN (arn:aws:events:<region>:<account>:event-bus/<name>), not ${eventBusArn}`,
    );

  return {
    stage,
    auth,
    retentionDays: positive(get, 'retentionDays'),
    webSocketAccessLogs: oneOf(get, 'webSocketAccessLogs', ['off', 'create-account-role', 'account-role-exists'], 'off'),
    kms,
    tableName: text(get, 'tableName'),
    pushApiDomain: domain(get, 'pushApiDomain', 'pushApiCertificateArn'),
    relayDomain: domain(get, 'relayDomain', 'relayCertificateArn'),
    alarmTopicArn,
    alarmEmail,
    eventBusArn,
    reservedConcurrency: oneOf(get, 'reservedConcurrency', ['on', 'off'], 'on') === 'on',
    accountConcurrencyLimit: positive(get, 'accountConcurrencyLimit'),
    removal: oneOf(get, 'removal', ['retain', 'destroy'], 'retain'),
  };
}
