/**
 * What happens when a relay connects, talks and goes away. Messages are validated with the
 * shared protocol validator; replies go back down the same connection through the gateway.
 */
import { ackStatus } from '../../protocol/ack-codes';
import {
  AGENT_CONNECTED_CLOSE,
  BASE_MESSAGE_VERSION,
  EXPIRED_BEFORE_DELIVERY,
  NOT_SENT_BEHIND,
  ProtocolError,
  type CloudMessage,
  type ResultMessage,
} from '../../protocol/messages';
import { HEARTBEAT_ACTION, HELLO_ACTION, INBOUND_ACTION, RESULT_ACTION } from '../../protocol/relay-routes';
import { ASTM_CONTENT_TYPE } from '../../protocol/content-types';
import { parseRelayMessage } from '../../protocol/validate';
import { deviceRetryDelayMs, type CoreConfig } from './core-config';
import { receiveInbound } from './inbound-receive';
import type { LastSeenThrottle } from './last-seen';
import { finish } from './lifecycle';
import type { Ports, WakeReason } from './ports';
import { isTerminal, type LateResult, type PushRecord } from './records';

/** What the gateway does with a new connection: keep it, or close it (refuse it at the upgrade on AWS). */
export type ConnectDecision = { accepted: true } | { accepted: false; closeCode: number; status: number; reason: string };

/**
 * One relay per agent, and the live connection wins (DESIGN.md, Agents): while the agent's
 * connection is live, a second one with the same credentials is refused. A connection silent
 * past the live window, or one from the same relay process (a reconnect, a rotation), is
 * replaced, and the replaced one is closed so it can never take pushes again.
 */
export async function relayConnected(
  ports: Ports,
  config: CoreConfig,
  agentId: string,
  connectionId: string,
  relayInstance?: string,
  lastSeen?: LastSeenThrottle,
): Promise<ConnectDecision> {
  const at = ports.clock.now();
  const claim = await ports.agents.claimConnection(agentId, { connectionId, at, staleBefore: at - config.liveWindowMs, relayInstance });
  if (claim.outcome === 'unknown-agent') {
    ports.log?.warn('relay connection refused: unknown agent', { agentId, connectionId });
    return { accepted: false, closeCode: 1008, status: 403, reason: 'unknown agent' };
  }
  if (claim.outcome === 'refused') {
    ports.log?.warn('second relay connection refused: the agent is connected and live (one relay per agent)', {
      agentId,
      connectionId,
      liveConnectionId: claim.liveConnectionId,
    });
    const { code, status, reason } = AGENT_CONNECTED_CLOSE;
    return { accepted: false, closeCode: code, status, reason };
  }
  lastSeen?.wrote(agentId, at);
  ports.log?.info('relay connected', { agentId, connectionId, replaced: claim.replaced });
  if (claim.replaced !== undefined && claim.replaced !== connectionId) {
    try {
      await ports.gateway.close(claim.replaced);
    } catch (err) {
      ports.log?.warn('closing the replaced relay connection failed', {
        agentId,
        connectionId: claim.replaced,
        error: (err as Error).message,
      });
    }
  }
  await wake(ports, agentId, 'connect');
  return { accepted: true };
}

export async function relayDisconnected(ports: Ports, agentId: string, connectionId: string): Promise<void> {
  const cleared = await ports.agents.clearConnection(agentId, connectionId);
  ports.log?.info('relay disconnected', { agentId, connectionId, wasCurrent: cleared });
}

export async function relayMessage(
  ports: Ports,
  config: CoreConfig,
  agentId: string,
  connectionId: string,
  raw: string,
  lastSeen?: LastSeenThrottle,
  reassembled = false,
): Promise<void> {
  const replies = await handle(ports, config, agentId, raw, lastSeen, reassembled).catch((err: unknown): CloudMessage[] => {
    // The pushId or inboundId, when the message has one, tells the relay which message this answer is about.
    const about = aboutOf(raw);
    if (err instanceof ProtocolError) {
      ports.log?.warn('relay sent an invalid message', { agentId, connectionId, code: err.code, error: err.message, ...about });
      return [{ type: 'error', v: BASE_MESSAGE_VERSION, code: err.code, error: err.message, ...about }];
    }
    ports.log?.error('relay message failed', { agentId, connectionId, error: (err as Error).message, ...about });
    return [
      {
        type: 'error',
        v: BASE_MESSAGE_VERSION,
        code: 'INTERNAL',
        error: 'the cloud could not process the message; send it again',
        ...about,
      },
    ];
  });
  for (const reply of replies) {
    try {
      await ports.gateway.post(connectionId, reply);
    } catch (err) {
      ports.log?.warn('reply to relay failed', { agentId, connectionId, error: (err as Error).message });
      return;
    }
  }
}

/** The message's pushId or inboundId if it parses far enough to have one (the protocol's limit: 128 characters). */
function aboutOf(raw: string): { pushId?: string; inboundId?: string } {
  const id = (value: unknown): value is string => typeof value === 'string' && value.length > 0 && value.length <= 128;
  try {
    const msg = JSON.parse(raw) as { pushId?: unknown; inboundId?: unknown } | null;
    if (id(msg?.pushId)) return { pushId: msg.pushId };
    if (id(msg?.inboundId)) return { inboundId: msg.inboundId };
  } catch {
    // not JSON: about nothing in particular
  }
  return {};
}

async function handle(
  ports: Ports,
  config: CoreConfig,
  agentId: string,
  raw: string,
  lastSeen?: LastSeenThrottle,
  reassembled = false,
): Promise<CloudMessage[]> {
  const msg = parseRelayMessage(raw, reassembled);
  const now = ports.clock.now();
  switch (msg.action) {
    case HELLO_ACTION:
      lastSeen?.wrote(agentId, now);
      // A v1 hello has no channels or device kinds: written anyway, so a downgraded relay leaves nothing stale.
      await ports.agents.touch(agentId, {
        lastSeenAt: now,
        version: msg.version,
        devices: msg.devices,
        deviceProtocols: msg.deviceProtocols ?? {},
        channels: msg.channels ?? [],
      });
      ports.log?.info('relay hello', { agentId, version: msg.version, devices: msg.devices.length, channels: msg.channels?.length ?? 0 });
      await wake(ports, agentId, 'hello');
      return [{ type: 'helloAck', v: BASE_MESSAGE_VERSION }];
    case HEARTBEAT_ACTION:
      if (!lastSeen || lastSeen.due(agentId, now)) await ports.agents.touch(agentId, { lastSeenAt: now });
      return [{ type: 'heartbeatAck', v: BASE_MESSAGE_VERSION }];
    case RESULT_ACTION:
      await recordResult(ports, config, agentId, msg);
      return [{ type: 'resultAck', v: BASE_MESSAGE_VERSION, pushId: msg.pushId }];
    case INBOUND_ACTION:
      return receiveInbound(ports, config, agentId, msg);
    default:
      // `chunk` is joined by the chunking layer before it reaches here; on its own it is unknown.
      throw new ProtocolError('UNKNOWN_ACTION', `action ${msg.action} is not handled by this cloud`);
  }
}

async function recordResult(ports: Ports, config: CoreConfig, agentId: string, msg: ResultMessage): Promise<void> {
  const push = await ports.pushes.get(msg.pushId);
  // Only pushes that were dispatched to this agent can be answered by it. Same error whether
  // the push does not exist or belongs to someone else, so ids can't be probed.
  const bounced = msg.status === 'failed' && msg.retryable && msg.error?.startsWith(NOT_SENT_BEHIND) === true;
  // A bounce undoes its attempt (below), so a repeat of it may find none left.
  if (!push || push.agentId !== agentId || (push.attempts === 0 && !bounced)) {
    throw new ProtocolError('UNKNOWN_PUSH', `push ${msg.pushId} was not dispatched to this agent`);
  }
  if (push.status === 'expired') return recordLateResult(ports, agentId, push, msg);
  if (isTerminal(push.status)) return; // a repeat of a result already recorded
  if (bounced) {
    // Sent ahead, it never left the relay: the push before it failed first. Not an attempt
    // and no backoff of its own; the queue brings it back after that push, in order.
    if (push.status === 'sent') {
      await ports.pushes.update(
        push.pushId,
        ['sent'],
        { status: 'queued', error: msg.error, connectionId: undefined, attempts: Math.max(0, push.attempts - 1) },
        push.attempts,
      );
    }
    await wake(ports, agentId, 'retry');
    return;
  }

  if (msg.status === 'failed') {
    if (msg.retryable) {
      // Nothing reached the device: keep it queued (in order) and try again later.
      // Backs off per attempt, so a device that stays down is not dialled every 2 s all day.
      const retryAt = ports.clock.now() + deviceRetryDelayMs(config, push.attempts);
      const updated = await ports.pushes.update(push.pushId, ['sent', 'queued'], {
        status: 'queued',
        error: msg.error,
        retryAt,
        connectionId: undefined,
      });
      if (updated)
        ports.log?.info('push will be retried', { pushId: push.pushId, agentId, error: msg.error, retryAt, attempts: push.attempts });
      await wake(ports, agentId, 'retry');
      return;
    }
    if (msg.error === EXPIRED_BEFORE_DELIVERY && ports.clock.now() >= push.expiresAt) {
      // Sent ahead, it waited at the relay behind earlier pushes past its time and was not
      // started: what the queue would have done with it, so it ends the same way.
      await finish(ports, push, ['sent', 'queued'], 'expired', {
        error: 'expired before delivery, waiting at the relay behind earlier pushes',
      });
      return;
    }
    await finish(ports, push, ['sent', 'queued'], 'failed', { error: msg.error });
    return;
  }

  if (msg.ackCode === undefined) {
    // Only an ASTM transfer is acked without an ACK message (the validator refuses a nacked one).
    if (push.contentType !== ASTM_CONTENT_TYPE) throw new ProtocolError('INVALID_RESULT', 'an acked HL7 result needs an ackCode');
    await finish(ports, push, ['sent', 'queued'], 'acked', { response: msg.response, error: undefined });
    return;
  }
  const code = msg.ackCode;
  if (ackStatus(code) !== msg.status) throw new ProtocolError('INVALID_RESULT', `ackCode ${code} does not match status ${msg.status}`);
  const fields = { ackCode: code, response: msg.response, error: undefined };
  await finish(ports, push, ['sent', 'queued'], msg.status, fields);
}

/**
 * The push expired after it was dispatched (attempts > 0 was checked), and the relay now
 * reports what the device answered: it was delivered after all. Keep that on the push rather
 * than discard it, so a caller deciding whether to resend can see the device has it.
 */
async function recordLateResult(ports: Ports, agentId: string, push: PushRecord, msg: ResultMessage): Promise<void> {
  // A repeat, or nothing reached the device (a push sent ahead that expired waiting at the relay).
  if (push.lateResult || (msg.status === 'failed' && (msg.retryable || msg.error === EXPIRED_BEFORE_DELIVERY))) return;
  if (msg.status !== 'failed' && msg.ackCode !== undefined && ackStatus(msg.ackCode) !== msg.status) {
    throw new ProtocolError('INVALID_RESULT', `ackCode ${msg.ackCode} does not match status ${msg.status}`);
  }
  const late: LateResult = { status: msg.status, receivedAt: ports.clock.now() };
  if (msg.ackCode !== undefined) late.ackCode = msg.ackCode;
  if (msg.response !== undefined) late.response = msg.response;
  if (msg.error !== undefined) late.error = msg.error;
  const updated = await ports.pushes.update(push.pushId, ['expired'], { lateResult: late });
  if (updated)
    ports.log?.warn('result arrived after the push expired', { pushId: push.pushId, agentId, status: msg.status, ackCode: msg.ackCode });
}

async function wake(ports: Ports, agentId: string, reason: WakeReason): Promise<void> {
  try {
    await ports.queue.wake(agentId, reason);
  } catch (err) {
    ports.log?.warn('queue wake failed', { agentId, error: (err as Error).message });
  }
}
