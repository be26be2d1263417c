/**
 * The web console on AWS, served by the stack itself: a small function holding the built files
 * (dist/console/, copied into its bundle) behind the push API's own `GET /console` routes, so
 * the console calls the API on the same origin.
 *
 * Why a function and not S3: an HTTP API cannot integrate with S3 (only REST APIs have AWS
 * service integrations for it), and fronting a bucket would mean a public website bucket or a
 * CloudFront distribution on another origin. The function is ~50 KB, reads only its own bundle
 * and may only write its log group.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Duration, Validations } from 'aws-cdk-lib';
import { HttpMethod, HttpNoneAuthorizer, type HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, LoggingFormat, type Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type LogGroupProps } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { CONSOLE_ROUTE_KEYS } from '../lambdas/http/routes';
import { ConfigError } from './config-error';
import { LAMBDA_DEFINE, LAMBDA_EXTERNALS, LAMBDA_NODE_TARGET } from './lambda-bundling';

const PROJECT_ROOT = path.join(__dirname, '..');
/** Where scripts/build-console.mjs writes the console (`npm run build`; `npm ci` runs it too). */
export const CONSOLE_BUILD_DIR = 'dist/console';

export interface ConsoleSiteOptions {
  api: HttpApi;
  runtime: Runtime;
  logs: Pick<LogGroupProps, 'retention' | 'removalPolicy' | 'encryptionKey'>;
}

export function addConsoleSite(scope: Construct, options: ConsoleSiteOptions): { fn: NodejsFunction; logGroup: LogGroup } {
  if (!existsSync(path.join(PROJECT_ROOT, CONSOLE_BUILD_DIR, 'index.html'))) {
    throw new ConfigError(`the web console is not built (${CONSOLE_BUILD_DIR}/index.html is missing): run \`npm run build\` first`);
  }
  const logGroup = new LogGroup(scope, 'consoleLogs', options.logs);
  // Its own role: log lines to its own group, nothing else (it reads no table, queue or secret).
  const role = new Role(scope, 'ConsoleRole', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
  role.addToPolicy(new PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }));
  const fn = new NodejsFunction(scope, 'ConsoleFunction', {
    role,
    entry: path.join(PROJECT_ROOT, 'lambdas/handlers/console.ts'),
    handler: 'handler',
    projectRoot: PROJECT_ROOT,
    depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
    runtime: options.runtime,
    architecture: Architecture.ARM_64,
    memorySize: 128,
    timeout: Duration.seconds(5),
    loggingFormat: LoggingFormat.JSON,
    logGroup,
    bundling: {
      forceDockerBundling: false,
      minify: true,
      sourceMap: false,
      target: LAMBDA_NODE_TARGET,
      format: OutputFormat.CJS,
      externalModules: LAMBDA_EXTERNALS,
      define: LAMBDA_DEFINE,
      commandHooks: {
        beforeBundling: () => [],
        beforeInstall: () => [],
        // The handler serves <bundle>/console/ (lambdas/handlers/console.ts).
        afterBundling: (inputDir, outputDir) => [`cp -R "${path.join(inputDir, CONSOLE_BUILD_DIR)}" "${path.join(outputDir, 'console')}"`],
      },
    },
  });
  const integration = new HttpLambdaIntegration('Console', fn);
  for (const routeKey of CONSOLE_ROUTE_KEYS) {
    const [method, routePath] = routeKey.split(' ');
    for (const route of options.api.addRoutes({
      path: routePath,
      methods: [method as HttpMethod],
      integration,
      authorizer: new HttpNoneAuthorizer(),
    })) {
      Validations.of(route).acknowledge({
        id: 'AwsSolutions::AwsSolutions-APIG4',
        reason:
          'The web console is static files (HTML, JS, CSS) with no data; the browser then calls the authorised API routes with the token the user gives it.',
      });
    }
  }
  return { fn, logGroup };
}
