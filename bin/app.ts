/** The CDK app: `npx cdk synth` / `npx cdk deploy` (run by tsx, see cdk.json). */
import { App } from 'aws-cdk-lib';
import { EdgePushStack, stackPropsFromContext } from '../lib/edgepush-stack';
import { addNagChecks } from '../lib/nag';

const app = new App();
new EdgePushStack(app, 'EdgePush', {
  ...stackPropsFromContext((key) => app.node.tryGetContext(key)),
  description: 'EdgePush: push HL7 v2 messages to devices behind hospital firewalls',
});
addNagChecks(app);
app.synth();
