/**
 * The relay's messages: every route (hello, result, heartbeat, inbound, chunk) and $default land
 * here. The core validates the raw text and answers over postToConnection; it never throws.
 * A `chunk` is kept in the table until its message is complete (dynamo-chunk-store.ts); the
 * invocation that receives the last part hands the whole message to the core.
 */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { chunkErrorMessage, relayChunkOf } from '../../protocol/chunks';
import { ProtocolError } from '../../protocol/messages';
import { getRuntime } from './runtime';
import { agentOf, type WsRequestContext } from './ws-identity';

export async function handler(event: {
  requestContext: WsRequestContext;
  body?: string | null;
  isBase64Encoded?: boolean;
}): Promise<APIGatewayProxyResult> {
  const { core, chunks, logger } = getRuntime();
  const { agentId, connectionId } = agentOf(event.requestContext);
  const raw = event.body == null ? '' : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  const chunk = relayChunkOf(raw);
  if (!chunk) {
    await core.relayMessage(agentId, connectionId, raw);
    return { statusCode: 200, body: '' };
  }
  let joined;
  try {
    joined = await chunks.add(connectionId, chunk);
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    logger.warn('chunk from relay refused', {
      agentId,
      connectionId,
      chunkId: chunk.chunkId,
      index: chunk.index,
      code: err.code,
      error: err.message,
    });
    await core.ports.gateway.post(connectionId, chunkErrorMessage(err)).catch(() => undefined);
    return { statusCode: 200, body: '' };
  }
  if (joined.complete) await core.relayMessage(agentId, connectionId, joined.text, true);
  return { statusCode: 200, body: '' };
}
