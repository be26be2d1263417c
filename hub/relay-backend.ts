/** Connects the WebSocket gateway to the domain core: relays authenticate with id + secret headers. */
import type { Logger } from 'pino';
import { ChunkAssembler, type ChunkAssemblerOptions, chunkErrorMessage, relayChunkOf } from '../protocol/chunks';
import { AGENT_ID_HEADER, AGENT_SECRET_HEADER, ProtocolError, RELAY_INSTANCE_HEADER } from '../protocol/messages';
import type { EdgePushCore } from '../lambdas/core/core';
import type { GatewayBackend } from './gateway/ws-gateway';

export interface RelayBackendOptions {
  logger?: Logger;
  /** Bounds on a relay's chunked messages being joined, per connection (protocol/chunks.ts). */
  chunks?: Omit<ChunkAssemblerOptions, 'onTimeout'>;
}

/**
 * `core` is a getter: the core needs the gateway (its ConnectionGateway port) and vice versa.
 *
 * Chunked relay messages (protocol v2) are joined here, per connection, before the core sees
 * them: the core gets the whole message with `reassembled` set, exactly as if it had come in
 * one piece. (On AWS the ws-message Lambda does the same with DynamoDB; the WsGateway itself
 * stays a faithful API Gateway and knows nothing of chunks.)
 */
export function relayBackend(core: () => EdgePushCore, options: RelayBackendOptions = {}): GatewayBackend {
  const assemblers = new Map<string, ChunkAssembler>();
  const reply = async (connectionId: string, err: ProtocolError): Promise<void> => {
    try {
      await core().ports.gateway.post(connectionId, chunkErrorMessage(err));
    } catch {
      // The connection went away: nothing to tell.
    }
  };
  const assemblerFor = (connectionId: string, agentId: string): ChunkAssembler => {
    let assembler = assemblers.get(connectionId);
    if (!assembler) {
      assembler = new ChunkAssembler({
        ...options.chunks,
        onTimeout: (err, chunkId) => {
          options.logger?.warn({ agentId, connectionId, chunkId, code: err.code, error: err.message }, 'chunked relay message timed out');
          void reply(connectionId, err);
        },
      });
      assemblers.set(connectionId, assembler);
    }
    return assembler;
  };

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
    async message(connectionId, ctx, raw) {
      const chunk = relayChunkOf(raw);
      if (!chunk) return core().relayMessage(ctx.agentId, connectionId, raw);
      let joined;
      try {
        joined = assemblerFor(connectionId, ctx.agentId).add(chunk);
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err;
        options.logger?.warn(
          { agentId: ctx.agentId, connectionId, chunkId: chunk.chunkId, index: chunk.index, code: err.code, error: err.message },
          'chunk from relay refused',
        );
        return reply(connectionId, err);
      }
      if (joined.complete) await core().relayMessage(ctx.agentId, connectionId, joined.text, true);
    },
    disconnect: (connectionId, ctx) => {
      // Half-sent messages of a gone connection are dropped: the relay sends them again.
      assemblers.get(connectionId)?.clear();
      assemblers.delete(connectionId);
      return core().relayDisconnected(ctx.agentId, connectionId);
    },
  };
}
