/** WebSocket $connect (after the authorizer allowed it): record the relay's connection. */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { getRuntime } from './runtime';
import { agentOf, type WsRequestContext } from './ws-identity';

export async function handler(event: { requestContext: WsRequestContext }): Promise<APIGatewayProxyResult> {
  const { core, logger } = getRuntime();
  const { agentId, connectionId } = agentOf(event.requestContext);
  await core.relayConnected(agentId, connectionId);
  logger.info('relay connected', { agentId, connectionId });
  return { statusCode: 200, body: '' };
}
