/**
 * The Lambda entry points and the esbuild options they are bundled with. The construct and
 * bench/lambda.bench.ts both read this, so the measured bundles are the deployed ones.
 */
export const LAMBDA_ENTRIES = {
  http: 'lambdas/handlers/http.ts',
  wsAuthorizer: 'lambdas/handlers/ws-authorizer.ts',
  wsConnect: 'lambdas/handlers/ws-connect.ts',
  wsDisconnect: 'lambdas/handlers/ws-disconnect.ts',
  wsMessage: 'lambdas/handlers/ws-message.ts',
  dispatcher: 'lambdas/handlers/sqs-dispatcher.ts',
  deadLetter: 'lambdas/handlers/dead-letter.ts',
} as const;

export type LambdaName = keyof typeof LAMBDA_ENTRIES;

/** esbuild target matching the Lambda runtime below. */
export const LAMBDA_NODE_TARGET = 'node24';
/** The Node.js Lambda runtime ships AWS SDK v3; bundling it would only add size and cold-start time. */
export const LAMBDA_EXTERNALS = ['@aws-sdk/*'];
