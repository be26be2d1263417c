/** Connects the WebSocket gateway to the domain core: relays authenticate with id + secret headers. */
import { AGENT_ID_HEADER, AGENT_SECRET_HEADER, RELAY_INSTANCE_HEADER } from '../protocol/messages';
import type { EdgePushCore } from '../lambdas/core/core';
import type { GatewayBackend } from './gateway/ws-gateway';

/** `core` is a getter: the core needs the gateway (its ConnectionGateway port) and vice versa. */
export function relayBackend(core: () => EdgePushCore): GatewayBackend {
  return {
    async authorize(headers) {
      const agentId = headers[AGENT_ID_HEADER];
      const secret = headers[AGENT_SECRET_HEADER];
      if (typeof agentId !== 'string' || typeof secret !== 'string' || !agentId || !secret) return undefined;
      if (!(await core().authenticateRelay(agentId, secret))) return undefined;
      const instance = headers[RELAY_INSTANCE_HEADER];
      return typeof instance === 'string' && instance.length > 0 && instance.length <= 128
        ? { agentId, relayInstance: instance }
        : { agentId };
    },
    async connect(connectionId, ctx) {
      const decision = await core().relayConnected(ctx.agentId, connectionId, ctx.relayInstance);
      return decision.accepted ? undefined : { refuse: { code: decision.closeCode, reason: decision.reason } };
    },
    message: (connectionId, ctx, raw) => core().relayMessage(ctx.agentId, connectionId, raw),
    disconnect: (connectionId, ctx) => core().relayDisconnected(ctx.agentId, connectionId),
  };
}
