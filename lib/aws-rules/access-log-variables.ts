/**
 * The `$context` variables API Gateway accepts in an access-log format, per API type. A stage
 * whose format names a variable its API type does not support is rejected at deploy time
 * (HTTP APIs have no `$context.connectionId`, WebSocket APIs no `$context.responseLength`),
 * and neither cfn-lint nor cdk-nag checks it, so the stack's formats are checked against these
 * lists offline (test/cdk/aws-spec.test.ts).
 *
 * Copied from AWS's documentation, as stored in the awsdocs/amazon-api-gateway-developer-guide
 * repository (commit 13945642c8779810147a5b1f16054f7c2e8b64bb for the WebSocket page,
 * 07d87356a250d8cccfcd2d47853086f5f0916864 for the HTTP page). The live pages list these and a
 * few newer ones; a variable missing here is refused by the test, never silently accepted.
 * `{property}` stands for any key (authorizer context, JWT claim).
 */

/** https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging-variables.html */
export const HTTP_API_ACCESS_LOG_VARIABLES: readonly string[] = [
  '$context.accountId',
  '$context.apiId',
  '$context.authorizer.claims.{property}',
  '$context.authorizer.error',
  '$context.authorizer.principalId',
  '$context.authorizer.{property}',
  '$context.awsEndpointRequestId',
  '$context.awsEndpointRequestId2',
  '$context.dataProcessed',
  '$context.domainName',
  '$context.domainPrefix',
  '$context.error.message',
  '$context.error.messageString',
  '$context.error.responseType',
  '$context.extendedRequestId',
  '$context.httpMethod',
  '$context.identity.accountId',
  '$context.identity.caller',
  '$context.identity.cognitoAuthenticationProvider',
  '$context.identity.cognitoAuthenticationType',
  '$context.identity.cognitoIdentityId',
  '$context.identity.cognitoIdentityPoolId',
  '$context.identity.principalOrgId',
  '$context.identity.clientCert.clientCertPem',
  '$context.identity.clientCert.subjectDN',
  '$context.identity.clientCert.issuerDN',
  '$context.identity.clientCert.serialNumber',
  '$context.identity.clientCert.validity.notBefore',
  '$context.identity.clientCert.validity.notAfter',
  '$context.identity.sourceIp',
  '$context.identity.user',
  '$context.identity.userAgent',
  '$context.identity.userArn',
  '$context.integration.error',
  '$context.integration.integrationStatus',
  '$context.integration.latency',
  '$context.integration.requestId',
  '$context.integration.status',
  '$context.integrationErrorMessage',
  '$context.integrationLatency',
  '$context.integrationStatus',
  '$context.path',
  '$context.protocol',
  '$context.requestId',
  '$context.requestTime',
  '$context.requestTimeEpoch',
  '$context.responseLatency',
  '$context.responseLength',
  '$context.routeKey',
  '$context.stage',
  '$context.status',
];

/** https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-logging.html */
export const WEBSOCKET_API_ACCESS_LOG_VARIABLES: readonly string[] = [
  '$context.connectionId',
  '$context.connectedAt',
  '$context.domainName',
  '$context.eventType',
  '$context.messageId',
  '$context.routeKey',
  '$context.requestId',
  '$context.extendedRequestId',
  '$context.apiId',
  '$context.authorizer.principalId',
  '$context.authorizer.{property}',
  '$context.error.message',
  '$context.error.messageString',
  '$context.error.responseType',
  '$context.error.validationErrorString',
  '$context.identity.accountId',
  '$context.identity.apiKey',
  '$context.identity.apiKeyId',
  '$context.identity.caller',
  '$context.identity.cognitoAuthenticationProvider',
  '$context.identity.sourceIp',
  '$context.identity.user',
  '$context.identity.userAgent',
  '$context.identity.userArn',
  '$context.integrationLatency',
  '$context.requestTime',
  '$context.requestTimeEpoch',
  '$context.stage',
  '$context.status',
];

/** Every `$context.…` variable a format names. */
export function contextVariablesIn(format: string): string[] {
  return [...format.matchAll(/\$context(?:\.[A-Za-z0-9_]+)+/g)].map((m) => m[0]);
}

/** Whether `variable` is in `supported`, where `{property}` stands for exactly one key. */
export function isSupportedVariable(variable: string, supported: readonly string[]): boolean {
  return supported.some((entry) => {
    if (!entry.includes('{property}')) return entry === variable;
    const prefix = entry.slice(0, entry.indexOf('{property}'));
    return variable.startsWith(prefix) && /^[A-Za-z0-9_]+$/.test(variable.slice(prefix.length));
  });
}
