/** WebSocket $disconnect: forget the connection, unless a newer one has replaced it. */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { getRuntime } from './runtime';
import { agentOf, type WsRequestContext } from './ws-identity';

export async function handler(event: { requestContext: WsRequestContext }): Promise<APIGatewayProxyResult> {
  const { core, logger } = getRuntime();
  const { agentId, connectionId } = agentOf(event.requestContext);
  await core.relayDisconnected(agentId, connectionId);
  logger.info('relay disconnected', { agentId, connectionId });
  return { statusCode: 200, body: '' };
}
