/** The CDK app: `npx cdk synth` / `npx cdk deploy -c stage=prod` (run by tsx, see cdk.json). */
import { ConfigError } from '../lib/config-error';
import { createApp } from '../lib/edgepush-app';

try {
  createApp().app.synth();
} catch (err) {
  // A wrong -c value is the user's to fix: one clear line, not a stack trace.
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`EdgePush: ${err.message}\n`);
  process.exit(1);
}
