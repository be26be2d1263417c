/** Reads the agent id the $connect authorizer put in the request context. */
export interface WsRequestContext {
  connectionId?: string;
  authorizer?: Record<string, unknown> | null;
}

export function agentOf(context: WsRequestContext): { agentId: string; connectionId: string; relayInstance?: string } {
  const agentId = context.authorizer?.agentId;
  if (typeof agentId !== 'string' || !agentId || !context.connectionId) {
    // API Gateway always passes both after an Allow; anything else is a wiring mistake.
    throw new Error('WebSocket event without an authorised agent id or connection id');
  }
  const relayInstance = context.authorizer?.relayInstance;
  return typeof relayInstance === 'string' && relayInstance
    ? { agentId, connectionId: context.connectionId, relayInstance }
    : { agentId, connectionId: context.connectionId };
}
