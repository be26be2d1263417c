/**
 * One delivery attempt of a queued push. The queue (SQS FIFO, or the hub's in-process queue)
 * keeps the push at the head of its (agent, destination) group until this says `done`, so
 * later pushes to the same device wait their turn and order holds.
 *
 * The queue's retry timer is also what guarantees that no push stays `sent` forever: if the
 * relay dies after a push went out, the next attempt finds no result, and either re-sends it
 * (the relay deduplicates by pushId) or, after maxAttempts, fails it.
 */
import { BASE_MESSAGE_VERSION, type PushMessage } from '../../protocol/messages';
import type { CoreConfig } from './core-config';
import { expireIfOverdue, finish } from './lifecycle';
import type { Ports } from './ports';
import { isTerminal, type AgentRecord, type PushRecord, type QueueItem } from './records';

/**
 * Not done: try again after retryAfterMs. `waitForRelay`: the agent has no relay connection, so
 * nothing can change until one connects (queue.wake). A queue that can wait for that event (the
 * hub's) parks the group instead of polling; SQS just uses retryAfterMs. `inFlight`: the push is
 * at the relay (sent now, or earlier on the same connection) and waits for its result; the SQS
 * dispatcher may then send the group's next push ahead (pipelining); the hub's queue ignores it.
 */
export type DispatchOutcome = { done: true } | { done: false; retryAfterMs: number; waitForRelay?: boolean; inFlight?: boolean };

/**
 * `after`: the pushId of the push of the same destination sent just before this one, still
 * waiting for its result at the relay (the SQS dispatcher's pipelining window). The relay
 * delivers this push only right after that one, and a wait behind it is not a lost attempt.
 */
export interface DispatchOptions {
  after?: string;
  /**
   * The push and its agent as read moments ago (readForDispatch): the SQS dispatcher reads a
   * whole batch's at once instead of two reads per record in turn. Every write below is
   * conditional on the status (and attempts) read, so a stale copy can only lose a race, and a
   * lost race is handled as one.
   */
  read?: DispatchRead;
  /**
   * Resolves true once the push before this one in the window has reached the relay, false if
   * it did not. This push's `sent` write goes ahead at once and only its post waits, so the
   * posts keep their order while one's write overlaps the other's post. On false nothing is
   * posted and the attempt is undone.
   */
  gate?: Promise<boolean>;
  /** Called once the `sent` write is done and the post is next, with whether the post will reach the relay. */
  onSending?: (posted: Promise<boolean>) => void;
}

export interface DispatchRead {
  push: PushRecord | undefined;
  agent: AgentRecord | undefined;
}

/** The pushes of a batch and their agents, read in parallel, by pushId. */
export async function readForDispatch(ports: Ports, items: readonly QueueItem[]): Promise<Map<string, DispatchRead>> {
  const agentIds = [...new Set(items.map((i) => i.agentId))];
  const [pushes, agents] = await Promise.all([
    Promise.all(items.map((i) => ports.pushes.get(i.pushId))),
    Promise.all(agentIds.map((id) => ports.agents.get(id))),
  ]);
  const agentOf = new Map(agentIds.map((id, n) => [id, agents[n]]));
  return new Map(items.map((item, n) => [item.pushId, { push: pushes[n], agent: agentOf.get(item.agentId) }]));
}

const DONE: DispatchOutcome = { done: true };
const retry = (ms: number): DispatchOutcome & { done: false } => ({ done: false, retryAfterMs: Math.max(1, Math.ceil(ms)) });
const waiting = (ms: number): DispatchOutcome => ({ ...retry(ms), inFlight: true });

export async function dispatch(
  ports: Ports,
  config: CoreConfig,
  item: QueueItem,
  receipt?: string,
  options: DispatchOptions = {},
): Promise<DispatchOutcome> {
  // The queue item names the agent, so both reads go at once.
  const [push, itemAgent] = options.read
    ? [options.read.push, options.read.agent]
    : await Promise.all([ports.pushes.get(item.pushId), ports.agents.get(item.agentId)]);
  if (!push || isTerminal(push.status)) return DONE;
  const now = ports.clock.now();
  const untilExpiry = push.expiresAt - now;
  const agent = push.agentId === item.agentId ? itemAgent : await ports.agents.get(push.agentId);

  if (push.status === 'sent') {
    const waited = now - (push.sentAt ?? 0);
    const sameConnection = agent?.connectionId !== undefined && agent.connectionId === push.connectionId;
    // Behind a push still waiting at the relay, its time there is not a lost attempt: the relay
    // delivers one push of a destination at a time, so its own turn has not come yet.
    const behind = options.after !== undefined && untilExpiry > 0;
    if (sameConnection && (waited < config.resultTimeoutMs || behind)) {
      // Still waiting for the relay's result on the connection it went to.
      if (receipt !== undefined && receipt !== push.queueReceipt) {
        const kept = await ports.pushes.update(push.pushId, ['sent'], { queueReceipt: receipt });
        // Its result landed since it was read, and released the old receipt, not this one.
        if (!kept) return settled(ports, config, push.pushId);
      }
      return waiting(behind ? config.resultTimeoutMs : config.resultTimeoutMs - waited);
    }
    if (untilExpiry <= 0) {
      // The connection changed or dropped (a WebSocket blip, a hub restart) after the push
      // went out: the relay re-sends the result it holds once it is back, so give this
      // attempt its full resultTimeout before calling it expired, as the max-attempts branch does.
      if (waited < config.resultTimeoutMs) return retry(config.resultTimeoutMs - waited);
      await finish(ports, push, ['sent'], 'expired', { error: 'no result from the relay before the push expired' });
      return DONE;
    }
    if (push.attempts >= config.maxAttempts) {
      // The connection changed or dropped before resultTimeout: a relay that reconnects
      // re-sends the results it holds, so give the last attempt its full time first.
      if (waited < config.resultTimeoutMs) return retry(Math.min(config.resultTimeoutMs - waited, untilExpiry));
      await finish(ports, push, ['sent'], 'failed', { error: `no result from the relay after ${push.attempts} attempts` });
      return DONE;
    }
    // The relay reconnected, or went silent: send again below.
  } else if (untilExpiry <= 0) {
    await expireIfOverdue(ports, push);
    return DONE;
  } else if (push.retryAt !== undefined && push.retryAt > now) {
    return retry(Math.min(push.retryAt - now, untilExpiry));
  }

  if (!agent) {
    await finish(ports, push, [push.status], 'failed', { error: `agent ${push.agentId} no longer exists` });
    return DONE;
  }
  if (!agent.connectionId) {
    if (push.status === 'sent') {
      await ports.pushes.update(push.pushId, ['sent'], { status: 'queued', connectionId: undefined }, push.attempts);
    }
    return { ...retry(Math.min(config.offlineRetryMs, untilExpiry)), waitForRelay: true };
  }
  return send(ports, config, push, agent.connectionId, agent.connectedAt, receipt, untilExpiry, options);
}

/** Someone else moved the push first (a result, a cancel, another dispatcher): done, or look again shortly. */
async function settled(ports: Ports, config: CoreConfig, pushId: string): Promise<DispatchOutcome> {
  const current = await ports.pushes.get(pushId);
  return !current || isTerminal(current.status) ? DONE : retry(Math.min(1000, config.resultTimeoutMs));
}

/**
 * API Gateway answers GoneException to postToConnection until the $connect integration has
 * returned, and that integration records the connection first. A 'gone' this soon after the
 * connection was recorded is that window, not a dead relay: keep the connection (the relay's
 * $disconnect, or a later 'gone', drops a dead one). The $connect Lambda's timeout is 10 s.
 */
const CONNECT_WINDOW_MS = 10_000;

async function send(
  ports: Ports,
  config: CoreConfig,
  push: PushRecord,
  connectionId: string,
  connectedAt: number | undefined,
  receipt: string | undefined,
  untilExpiry: number,
  options: DispatchOptions,
): Promise<DispatchOutcome> {
  const now = ports.clock.now();
  const patch: Partial<PushRecord> = { status: 'sent', connectionId, sentAt: now, attempts: push.attempts + 1, retryAt: undefined };
  if (receipt !== undefined) patch.queueReceipt = receipt;
  const sent = await ports.pushes.update(push.pushId, [push.status], patch, push.attempts);
  if (!sent) return settled(ports, config, push.pushId);

  const message: PushMessage = {
    type: 'push',
    v: BASE_MESSAGE_VERSION,
    pushId: sent.pushId,
    destination: sent.destination,
    contentType: sent.contentType,
    body: sent.body,
    returnAck: sent.returnAck,
    expiresAt: sent.expiresAt,
  };
  if (options.after !== undefined) {
    message.after = options.after;
    // It may wait at the relay behind the pushes before it: not past its time.
    message.ttlMs = Math.max(0, sent.expiresAt - now);
  }
  let reached: (ok: boolean) => void = () => undefined;
  options.onSending?.(new Promise<boolean>((resolve) => (reached = resolve)));
  let outcome: 'ok' | 'gone' | 'error' | 'not-sent';
  try {
    outcome = options.gate && !(await options.gate) ? 'not-sent' : await ports.gateway.post(connectionId, message);
  } catch (err) {
    ports.log?.warn('post to relay failed', { pushId: sent.pushId, connectionId, error: (err as Error).message });
    outcome = 'error';
  }
  reached(outcome === 'ok');
  if (outcome === 'not-sent') {
    // The push before it did not reach the relay: this one must not overtake it.
    await ports.pushes.update(sent.pushId, ['sent'], { status: 'queued', connectionId: undefined, attempts: push.attempts }, sent.attempts);
    return retry(1);
  }
  if (outcome !== 'ok') {
    const connecting = connectedAt !== undefined && now - connectedAt < CONNECT_WINDOW_MS;
    if (outcome === 'gone' && !connecting) await ports.agents.clearConnection(sent.agentId, connectionId);
    // Nothing reached the relay: undo the attempt so it does not count against maxAttempts.
    await ports.pushes.update(sent.pushId, ['sent'], { status: 'queued', connectionId: undefined, attempts: push.attempts }, sent.attempts);
    return retry(Math.min(config.offlineRetryMs, untilExpiry));
  }
  ports.log?.info('push dispatched', {
    pushId: sent.pushId,
    agentId: sent.agentId,
    destination: sent.destination,
    attempt: sent.attempts,
    connectionId,
  });
  // A push sent again after a failed attempt opens no window: while its device refuses, the
  // pushes behind it would only bounce off the relay, a message each way per retry.
  return push.error === undefined ? waiting(config.resultTimeoutMs) : retry(config.resultTimeoutMs);
}

/**
 * The queue gave up on a push (on AWS: it reached the dead-letter queue after maxReceiveCount
 * deliveries, e.g. while the dispatcher kept failing). End it visibly rather than leave it
 * queued or sent forever: expired if its time is up, failed otherwise.
 */
export async function abandon(ports: Ports, item: QueueItem): Promise<void> {
  const push = await ports.pushes.get(item.pushId);
  if (!push || isTerminal(push.status)) return;
  const last = push.error ? `; last error: ${push.error}` : '';
  if (ports.clock.now() >= push.expiresAt) {
    await finish(ports, push, [push.status], 'expired', { error: `expired before delivery${last}` });
  } else {
    await finish(ports, push, [push.status], 'failed', { error: `the queue gave up delivering it after repeated attempts${last}` });
  }
}
