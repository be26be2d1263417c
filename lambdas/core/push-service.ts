/** Accepting pushes and reading them back. */
import { randomUUID } from 'node:crypto';
import { MAX_PUSH_ID_LENGTH } from '../../protocol/limits';
import type { CoreConfig } from './core-config';
import { DomainError } from './domain-errors';
import { expireIfOverdue, finish } from './lifecycle';
import type { Ports, QueueFull } from './ports';
import type { PushRequest } from './push-request';
import type { PushRecord } from './records';

export interface Accepted {
  push: PushRecord;
  /** false when an idempotency key returned an earlier push. */
  created: boolean;
  /** The agent had a relay connection when the push was accepted. */
  relayConnected: boolean;
}

export async function acceptPush(
  ports: Ports,
  agentId: string,
  req: PushRequest & { resendOf?: string },
  config: CoreConfig,
): Promise<Accepted> {
  const agent = await ports.agents.get(agentId);
  if (!agent) throw new DomainError('AGENT_NOT_FOUND', `agent ${agentId} does not exist`);
  if (agent.disabled) throw new DomainError('AGENT_DISABLED', `agent ${agentId} is disabled`);
  // A relay that has said hello told us its devices; before that we store and forward.
  if (agent.devices.length > 0 && !agent.devices.includes(req.destination)) {
    throw new DomainError('DESTINATION_NOT_FOUND', `agent ${agentId} has no device named ${req.destination}`);
  }

  const now = ports.clock.now();
  const candidate: PushRecord = {
    pushId: req.pushId ?? randomUUID(),
    agentId,
    destination: req.destination,
    contentType: req.contentType,
    body: req.body,
    bodyHash: req.bodyHash,
    returnAck: req.returnAck,
    status: 'queued',
    attempts: 0,
    createdAt: now,
    expiresAt: now + req.expiresInS * 1000,
  };
  if (req.idempotencyKey !== undefined) candidate.idempotencyKey = req.idempotencyKey;
  if (req.resendOf !== undefined) candidate.resendOf = req.resendOf;

  const { push, created, full } = await ports.pushes.create(candidate, {
    perDestination: config.maxQueuedPerDestination,
    perAgent: config.maxQueuedPerAgent,
    destinations: agent.devices.length === 0 ? config.maxDestinationsBeforeHello : undefined,
  });
  if (full) throw tooManyQueued(full, agentId, req.destination, config);
  if (!created) {
    if (push.bodyHash !== candidate.bodyHash || push.destination !== candidate.destination) {
      throw new DomainError('IDEMPOTENCY_CONFLICT', 'idempotencyKey was already used with a different message or destination');
    }
    // An earlier request may have died between storing and enqueueing: enqueue again.
    // Both queues deduplicate by pushId, so this never delivers twice.
    if (push.status === 'queued' && push.attempts === 0) await enqueue(ports, push, false);
    return { push, created: false, relayConnected: agent.connectionId !== undefined };
  }

  ports.log?.info('push accepted', { pushId: push.pushId, agentId, destination: push.destination, bytes: Buffer.byteLength(push.body) });
  await enqueue(ports, push);
  return { push, created: true, relayConnected: agent.connectionId !== undefined };
}

/**
 * `isNew`: this request stored the push. A replay's push may already have been accepted (and
 * queued) by an earlier request, so a failed re-enqueue must not fail it: the caller gets 503
 * and retries, and the push stays as it is.
 */
async function enqueue(ports: Ports, push: PushRecord, isNew = true): Promise<void> {
  try {
    await ports.queue.enqueue({ pushId: push.pushId, agentId: push.agentId, destination: push.destination, expiresAt: push.expiresAt });
  } catch (err) {
    ports.log?.error('enqueue failed', { pushId: push.pushId, replay: !isNew, error: (err as Error).message });
    if (!isNew) throw new DomainError('QUEUE_UNAVAILABLE', 'the push could not be queued right now; send the request again');
    // Never leave a stored push that no queue will ever deliver: fail it visibly.
    await finish(ports, push, ['queued'], 'failed', { error: 'could not enqueue the push' });
    throw new DomainError('QUEUE_UNAVAILABLE', 'the push could not be queued; it was not accepted');
  }
}

function tooManyQueued(full: QueueFull, agentId: string, destination: string, config: CoreConfig): DomainError {
  const why =
    full === 'destination'
      ? `${destination} already has ${config.maxQueuedPerDestination} pushes waiting`
      : full === 'agent'
        ? `agent ${agentId} already has ${config.maxQueuedPerAgent} pushes waiting`
        : `agent ${agentId} has pushes waiting for ${config.maxDestinationsBeforeHello} destinations and its relay has not said which devices it has`;
  return new DomainError('TOO_MANY_QUEUED', `${why}; try again once some have finished`);
}

/** Reads a push; one still queued past its expiresAt is expired first, so no reader ever sees it queued. */
export async function getPush(ports: Ports, pushId: string): Promise<PushRecord> {
  const push = pushId.length <= MAX_PUSH_ID_LENGTH ? await ports.pushes.get(pushId) : undefined;
  if (!push) throw new DomainError('PUSH_NOT_FOUND', `push ${pushId} does not exist`);
  try {
    return await expireIfOverdue(ports, push);
  } catch (err) {
    // The store cannot write right now (a full disk, throttling): the read itself still works.
    ports.log?.warn('could not expire an overdue push on read', { pushId, error: (err as Error).message });
    return push;
  }
}

/**
 * The hub's expiry timer: a push waiting behind its group's head has reached its expiresAt.
 * `sentAhead`: the queue sent it to the relay ahead, behind a push still waiting for its result
 * (the hub's pipelining window). It waits there, unstarted, and the relay will not start it past
 * its ttlMs, so it expires on time as a queued one does rather than stay `sent` until
 * resultTimeout. Should its turn have come just before (the relay's clock, a result in transit),
 * the device's answer is kept as the push's late result.
 */
export async function expireQueued(ports: Ports, pushId: string, sentAhead = false): Promise<void> {
  const push = await ports.pushes.get(pushId);
  if (!push) return;
  if (sentAhead && push.status === 'sent' && ports.clock.now() >= push.expiresAt) {
    await finish(ports, push, ['sent'], 'expired', { error: 'expired before delivery, waiting at the relay behind earlier pushes' });
    return;
  }
  await expireIfOverdue(ports, push);
}
