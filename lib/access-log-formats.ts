/**
 * One access-log format per API type: API Gateway rejects a stage whose format names a
 * `$context` variable that its API type does not support (see aws-rules/access-log-variables.ts).
 * Neither logs PHI: no bodies, no query strings, no headers; the route key is the template
 * (`POST /agents/{agentId}/push`), not the request path.
 */

/** HTTP API ($default stage): who called which route, how it ended, and how long it took. */
export const HTTP_ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: '$context.requestId',
  requestTime: '$context.requestTimeEpoch',
  ip: '$context.identity.sourceIp',
  caller: '$context.identity.userArn',
  routeKey: '$context.routeKey',
  status: '$context.status',
  responseLength: '$context.responseLength',
  latencyMs: '$context.responseLatency',
  integrationStatus: '$context.integrationStatus',
  integrationError: '$context.integrationErrorMessage',
  authorizerError: '$context.authorizer.error',
  error: '$context.error.message',
});

/** WebSocket API (relay stage): which relay connection did what, and the errors. */
export const WEBSOCKET_ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: '$context.requestId',
  requestTime: '$context.requestTimeEpoch',
  ip: '$context.identity.sourceIp',
  agentId: '$context.authorizer.principalId',
  connectionId: '$context.connectionId',
  eventType: '$context.eventType',
  routeKey: '$context.routeKey',
  status: '$context.status',
  integrationLatencyMs: '$context.integrationLatency',
  error: '$context.error.message',
  errorType: '$context.error.responseType',
});
