/** The stand-alone stack: the EdgePush construct, configured from CDK context. */
import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { EdgePush, type EdgePushAuth } from './edgepush-construct';

export interface EdgePushStackProps extends StackProps {
  auth?: EdgePushAuth;
  retentionDays?: number;
}

export class EdgePushStack extends Stack {
  readonly edgePush: EdgePush;

  constructor(scope: Construct, id: string, props: EdgePushStackProps = {}) {
    super(scope, id, props);
    this.edgePush = new EdgePush(this, 'EdgePush', { auth: props.auth, retentionDays: props.retentionDays });
  }
}

/** Reads `-c auth=jwt -c jwtIssuer=... -c jwtAudience=a,b -c retentionDays=30`. */
export function stackPropsFromContext(get: (key: string) => unknown): EdgePushStackProps {
  const authValue = get('auth') ?? 'iam';
  const auth = typeof authValue === 'string' ? authValue : JSON.stringify(authValue);
  const retention = get('retentionDays');
  const retentionDays = retention === undefined ? undefined : Number(retention);
  if (retentionDays !== undefined && !(retentionDays > 0)) throw new Error('retentionDays must be a positive number');
  if (auth === 'iam') return { auth: { type: 'iam' }, retentionDays };
  if (auth !== 'jwt') throw new Error(`auth must be iam or jwt, not ${auth}`);
  const issuer = get('jwtIssuer');
  const audience = get('jwtAudience');
  if (typeof issuer !== 'string' || typeof audience !== 'string' || !issuer || !audience) {
    throw new Error('auth=jwt needs -c jwtIssuer=<issuer URL> -c jwtAudience=<audience[,audience]>');
  }
  return {
    auth: {
      type: 'jwt',
      issuer,
      audience: audience
        .split(',')
        .map((a) => a.trim())
        .filter(Boolean),
    },
    retentionDays,
  };
}
