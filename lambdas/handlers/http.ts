/**
 * API Gateway HTTP API (payload v2) -> the core's HttpRequest, and back. Scopes come from
 * the JWT authorizer when the API uses JWT auth; with IAM auth API Gateway has already
 * authorised the route, so scopes stay undefined.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { HttpRequest } from '../http/http-types';
import { handleHttp } from '../http/router';
import { agentsClaim } from '../http/agent-access';
import { getRuntime } from './runtime';

type JwtContext = { jwt?: { claims?: Record<string, unknown>; scopes?: string[] | null } };

export function scopesOf(event: APIGatewayProxyEventV2): string[] | undefined {
  const jwt = (event.requestContext as { authorizer?: JwtContext }).authorizer?.jwt;
  if (!jwt) return undefined;
  if (Array.isArray(jwt.scopes) && jwt.scopes.length > 0) return jwt.scopes;
  const claim = jwt.claims?.scope ?? jwt.claims?.scp;
  if (typeof claim === 'string') return claim.split(' ').filter(Boolean);
  if (Array.isArray(claim)) return claim.map(String);
  return [];
}

/** The JWT's `agents` claim (the token acts only on those agents); undefined without one, or with IAM auth. */
export function agentsOf(event: APIGatewayProxyEventV2): string[] | undefined {
  const jwt = (event.requestContext as { authorizer?: JwtContext }).authorizer?.jwt;
  return jwt ? agentsClaim(jwt.claims?.agents) : undefined;
}

export function toHttpRequest(event: APIGatewayProxyEventV2): HttpRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) headers[name.toLowerCase()] = value;
  const body =
    event.body === undefined ? undefined : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  const { domainName, stage, http } = event.requestContext;
  // With a named stage the path API Gateway passes includes it; routes are matched without it.
  const prefix = stage && stage !== '$default' ? `/${stage}` : '';
  const path = prefix && http.path.startsWith(`${prefix}/`) ? http.path.slice(prefix.length) : http.path;
  const proto = headers['x-forwarded-proto'] ?? 'https';
  // rawQueryString, not queryStringParameters: the latter joins repeated names with commas.
  const query = Object.fromEntries(new URLSearchParams(event.rawQueryString ?? ''));
  return {
    method: http.method,
    path,
    headers,
    query,
    body,
    scopes: scopesOf(event),
    agents: agentsOf(event),
    baseUrl: `${proto}://${domainName}${prefix}`,
  };
}

/**
 * Time kept back from the Lambda's remaining time when a push waits for its result: enough
 * for the last read of the push and the response. Past the Lambda's timeout API Gateway
 * answers 5xx, which callers resend (a second delivery); a 504 + Location is safe.
 */
export const WAIT_MARGIN_MS = 2_000;

const PUSH_ROUTE = /^\/(agents\/[^/]+\/push|fhir\/R4\/Agent\/[^/]+\/\$push)$/;

export async function handler(
  event: APIGatewayProxyEventV2,
  context?: Pick<Context, 'getRemainingTimeInMillis'>,
): Promise<APIGatewayProxyStructuredResultV2> {
  const { core, logger, metrics } = getRuntime();
  const started = Date.now();
  const request = toHttpRequest(event);
  if (context) request.deadline = started + context.getRemainingTimeInMillis() - WAIT_MARGIN_MS;
  // The wait is billed Lambda time: with no relay connected, answer as in flight at once.
  request.skipWaitWhenOffline = true;
  const response = await handleHttp(core, request);
  const ms = Date.now() - started;
  if (request.method === 'POST' && PUSH_ROUTE.test(request.path) && process.env.POWERTOOLS_METRICS_DISABLED !== 'true') {
    // A push's request line rides in its metrics record (EMF metadata): logs are billed by the
    // byte, and the core has logged the push itself ('push accepted').
    metrics.addDimension('httpStatus', String(response.status));
    metrics.addMetric('PushRequest', MetricUnit.Count, 1);
    metrics.addMetric('PushLatency', MetricUnit.Milliseconds, ms);
    metrics.addMetadata('method', request.method);
    metrics.addMetadata('path', request.path);
    metrics.publishStoredMetrics();
    return { statusCode: response.status, headers: response.headers, body: response.body };
  }
  logger.info('http request', { method: request.method, path: request.path, status: response.status, ms });
  return { statusCode: response.status, headers: response.headers, body: response.body };
}
