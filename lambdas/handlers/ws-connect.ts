/**
 * WebSocket $connect (after the authorizer allowed it): record the relay's connection, unless
 * the agent already has a live one. A non-2xx answer from the $connect integration makes API
 * Gateway refuse the upgrade, which is the only point where it can refuse a connection
 * ("If the $connect request fails ... the connection will not be made":
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-route-keys-connect-disconnect.html).
 */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { getRuntime } from './runtime';
import { agentOf, type WsRequestContext } from './ws-identity';

export async function handler(event: { requestContext: WsRequestContext }): Promise<APIGatewayProxyResult> {
  const { core, logger } = getRuntime();
  const { agentId, connectionId, relayInstance } = agentOf(event.requestContext);
  const decision = await core.relayConnected(agentId, connectionId, relayInstance);
  if (!decision.accepted) return { statusCode: decision.status, body: decision.reason };
  logger.info('relay connected', { agentId, connectionId });
  return { statusCode: 200, body: '' };
}
