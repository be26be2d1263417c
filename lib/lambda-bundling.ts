/**
 * The Lambda entry points and the esbuild options they are bundled with. The construct and
 * bench/lambda.bench.ts both read this, so the measured bundles are the deployed ones.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const LAMBDA_ENTRIES = {
  http: 'lambdas/handlers/http.ts',
  wsAuthorizer: 'lambdas/handlers/ws-authorizer.ts',
  wsConnect: 'lambdas/handlers/ws-connect.ts',
  wsDisconnect: 'lambdas/handlers/ws-disconnect.ts',
  wsMessage: 'lambdas/handlers/ws-message.ts',
  dispatcher: 'lambdas/handlers/sqs-dispatcher.ts',
  deadLetter: 'lambdas/handlers/dead-letter.ts',
  webhook: 'lambdas/handlers/webhook-delivery.ts',
} as const;

export type LambdaName = keyof typeof LAMBDA_ENTRIES;

/** esbuild target matching the Lambda runtime below. */
export const LAMBDA_NODE_TARGET = 'node24';
/** The Node.js Lambda runtime ships AWS SDK v3; bundling it would only add size and cold-start time. */
export const LAMBDA_EXTERNALS = ['@aws-sdk/*'];

/**
 * Build-time constants, as the CLI build (scripts/build.mjs) sets them: without
 * `__EDGEPUSH_VERSION__` the bundles report `0.0.0-dev` on GET /health.
 */
export const LAMBDA_DEFINE: Record<string, string> = {
  __EDGEPUSH_VERSION__: JSON.stringify(
    (JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version,
  ),
};
