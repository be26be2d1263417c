/**
 * The domain core, assembled from its ports. Lambda handlers and the hub both build one of
 * these and call into it; nothing here knows which platform it runs on, nor about HTTP: the
 * HTTP layer (lambdas/http/router.ts) depends on the core, not the reverse.
 */
import { authenticateAgent } from './agent-service';
import { checkCoreConfig, DEFAULT_CONFIG, type CoreConfig } from './core-config';
import { abandon, dispatch, readForDispatch, type DispatchOptions, type DispatchOutcome, type DispatchRead } from './push-dispatcher';
import type { InboundDeliveryOutcome, InboundQueueItem, Ports } from './ports';
import { deliverInbound } from './inbound-delivery';
import { LastSeenThrottle } from './last-seen';
import { relayConnected, relayDisconnected, relayMessage, type ConnectDecision } from './relay-session';
import type { QueueItem } from './records';
import { expireQueued } from './push-service';

export type { CoreConfig } from './core-config';
export type { DispatchOptions, DispatchOutcome, DispatchRead } from './push-dispatcher';
export type { ConnectDecision } from './relay-session';
export type { InboundDeliveryOutcome, InboundQueueItem } from './ports';

export interface EdgePushCore {
  readonly config: CoreConfig;
  /** The ports the core runs on, for the HTTP layer, which calls the core's services with them. */
  readonly ports: Ports;
  /** Constant-time check of an agent's secret against its stored hash. */
  authenticateRelay(agentId: string, secret: string): Promise<boolean>;
  /** One relay per agent: a refused connection must be closed (or refused at the upgrade). */
  relayConnected(agentId: string, connectionId: string, relayInstance?: string): Promise<ConnectDecision>;
  relayDisconnected(agentId: string, connectionId: string): Promise<void>;
  /**
   * A raw message from a relay; replies go out through the gateway. Never throws.
   * `reassembled`: the transport joined it from chunks, so it may exceed one WebSocket message.
   */
  relayMessage(agentId: string, connectionId: string, raw: string, reassembled?: boolean): Promise<void>;
  /** One delivery attempt of a queued push. */
  dispatch(item: QueueItem, receipt?: string, options?: DispatchOptions): Promise<DispatchOutcome>;
  /** Reads a batch's pushes and agents at once, for dispatch's `read` option. */
  readForDispatch(items: readonly QueueItem[]): Promise<Map<string, DispatchRead>>;
  /** The queue gave up on this push (dead-letter queue): end it as failed or expired. */
  abandon(item: QueueItem): Promise<void>;
  /**
   * A push waiting behind its group's head reached expiresAt: expire it if it is still queued,
   * or `sent` ahead to the relay behind a push still waiting for its result (`sentAhead`).
   */
  expireQueued(pushId: string, sentAhead?: boolean): Promise<void>;
  /**
   * One webhook delivery attempt of a queued inbound message (the head of its channel's group).
   * `done`: remove it, the channel's next may go; `retry`: hand it over again after delayMs.
   * Never throws.
   */
  deliverInbound(item: InboundQueueItem): Promise<InboundDeliveryOutcome>;
}

export function createCore(ports: Ports, overrides: Partial<CoreConfig> = {}): EdgePushCore {
  const config: CoreConfig = checkCoreConfig({ ...DEFAULT_CONFIG, ...overrides });
  const lastSeen = new LastSeenThrottle(config.lastSeenWriteMs);
  return {
    config,
    ports,
    authenticateRelay: (agentId, secret) => authenticateAgent(ports, agentId, secret),
    relayConnected: (agentId, connectionId, relayInstance) => relayConnected(ports, config, agentId, connectionId, relayInstance, lastSeen),
    relayDisconnected: (agentId, connectionId) => relayDisconnected(ports, agentId, connectionId),
    relayMessage: (agentId, connectionId, raw, reassembled) =>
      relayMessage(ports, config, agentId, connectionId, raw, lastSeen, reassembled),
    dispatch: (item, receipt, options) => dispatch(ports, config, item, receipt, options),
    readForDispatch: (items) => readForDispatch(ports, items),
    abandon: (item) => abandon(ports, item),
    expireQueued: (pushId, sentAhead) => expireQueued(ports, pushId, sentAhead),
    deliverInbound: (item) => deliverInbound(ports, config, item),
  };
}
