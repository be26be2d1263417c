/**
 * Lambda REQUEST authorizer on the WebSocket $connect route. The agent id and secret come in
 * headers (never the URL). A wrong or missing credential throws 'Unauthorized', which API
 * Gateway turns into 401 on the upgrade; a valid one gets an Allow policy carrying the agent
 * id, which later routes read from requestContext.authorizer.
 */
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { AGENT_ID_HEADER, AGENT_SECRET_HEADER, RELAY_INSTANCE_HEADER } from '../../protocol/messages';
import { getRuntime } from './runtime';

function header(event: APIGatewayRequestAuthorizerEvent, name: string): string | undefined {
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === name && value) return value;
  }
  return undefined;
}

export async function handler(event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
  const { core, logger } = getRuntime();
  const agentId = header(event, AGENT_ID_HEADER);
  const secret = header(event, AGENT_SECRET_HEADER);
  const ok = agentId !== undefined && secret !== undefined && (await core.authenticateRelay(agentId, secret));
  if (!ok) {
    logger.warn('relay authentication failed', { agentId, hasSecret: secret !== undefined });
    throw new Error('Unauthorized');
  }
  const instance = header(event, RELAY_INSTANCE_HEADER);
  const relayInstance = instance !== undefined && instance.length <= 128 ? instance : undefined;
  return {
    principalId: agentId,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn }],
    },
    // The relay process id lets the same relay replace its own connection (one relay per agent).
    context: relayInstance ? { agentId, relayInstance } : { agentId },
  };
}
