/** The CDK app (bin/app.ts runs it; the spec tests build the same one): one stack per stage, cdk-nag on. */
import { App, type AppProps, type Environment } from 'aws-cdk-lib';
import { EdgePushStack, stackPropsFromContext } from './edgepush-stack';
import { addNagChecks } from './nag';

/**
 * `env` defaults to the CLI's account and Region (from the AWS profile), so `cdk deploy` binds
 * the stack to them; without a profile the stack is Region-agnostic, which is enough to synth.
 */
export function createApp(
  props?: AppProps,
  env: Environment = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
): { app: App; stack: EdgePushStack } {
  const app = new App(props);
  const stackProps = stackPropsFromContext((key) => app.node.tryGetContext(key));
  const stack = new EdgePushStack(app, `EdgePush-${stackProps.stage}`, {
    ...stackProps,
    env,
    description: `EdgePush (${stackProps.stage}): push HL7 v2 messages to devices behind hospital firewalls`,
  });
  addNagChecks(app);
  return { app, stack };
}
