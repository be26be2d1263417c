/**
 * The relay's messages: the hello, result and heartbeat routes and $default all land here.
 * The core validates the raw text and answers over postToConnection; it never throws.
 */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { getRuntime } from './runtime';
import { agentOf, type WsRequestContext } from './ws-identity';

export async function handler(event: {
  requestContext: WsRequestContext;
  body?: string | null;
  isBase64Encoded?: boolean;
}): Promise<APIGatewayProxyResult> {
  const { core } = getRuntime();
  const { agentId, connectionId } = agentOf(event.requestContext);
  const raw = event.body == null ? '' : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  await core.relayMessage(agentId, connectionId, raw);
  return { statusCode: 200, body: '' };
}
