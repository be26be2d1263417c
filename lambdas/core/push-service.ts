/** Accepting pushes and reading them back. */
import { randomUUID } from 'node:crypto';
import { MAX_PUSH_ID_LENGTH } from '../../protocol/limits';
import { DomainError } from './domain-errors';
import { finish } from './lifecycle';
import type { Ports } from './ports';
import type { PushRequest } from './push-request';
import type { PushRecord } from './records';

export interface Accepted {
  push: PushRecord;
  /** false when an idempotency key returned an earlier push. */
  created: boolean;
}

export async function acceptPush(ports: Ports, agentId: string, req: PushRequest & { resendOf?: string }): Promise<Accepted> {
  const agent = await ports.agents.get(agentId);
  if (!agent) throw new DomainError('AGENT_NOT_FOUND', `agent ${agentId} does not exist`);
  if (agent.disabled) throw new DomainError('AGENT_DISABLED', `agent ${agentId} is disabled`);
  // A relay that has said hello told us its devices; before that we store and forward.
  if (agent.devices.length > 0 && !agent.devices.includes(req.destination)) {
    throw new DomainError('DESTINATION_NOT_FOUND', `agent ${agentId} has no device named ${req.destination}`);
  }

  const now = ports.clock.now();
  const candidate: PushRecord = {
    pushId: randomUUID(),
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

  const { push, created } = await ports.pushes.create(candidate);
  if (!created) {
    if (push.bodyHash !== candidate.bodyHash || push.destination !== candidate.destination) {
      throw new DomainError('IDEMPOTENCY_CONFLICT', 'idempotencyKey was already used with a different message or destination');
    }
    // An earlier request may have died between storing and enqueueing: enqueue again.
    // Both queues deduplicate by pushId, so this never delivers twice.
    if (push.status === 'queued' && push.attempts === 0) await enqueue(ports, push, false);
    return { push, created: false };
  }

  ports.log?.info('push accepted', { pushId: push.pushId, agentId, destination: push.destination, bytes: Buffer.byteLength(push.body) });
  await enqueue(ports, push);
  return { push, created: true };
}

/**
 * `isNew`: this request stored the push. A replay's push may already have been accepted (and
 * queued) by an earlier request, so a failed re-enqueue must not fail it: the caller gets 503
 * and retries, and the push stays as it is.
 */
async function enqueue(ports: Ports, push: PushRecord, isNew = true): Promise<void> {
  try {
    await ports.queue.enqueue({ pushId: push.pushId, agentId: push.agentId, destination: push.destination });
  } catch (err) {
    ports.log?.error('enqueue failed', { pushId: push.pushId, replay: !isNew, error: (err as Error).message });
    if (!isNew) throw new DomainError('QUEUE_UNAVAILABLE', 'the push could not be queued right now; send the request again');
    // Never leave a stored push that no queue will ever deliver: fail it visibly.
    await finish(ports, push, ['queued'], 'failed', { error: 'could not enqueue the push' });
    throw new DomainError('QUEUE_UNAVAILABLE', 'the push could not be queued; it was not accepted');
  }
}

/** No push id is longer than the protocol allows (DynamoDB keys stop at 2 KB). */
export async function getPush(ports: Ports, pushId: string): Promise<PushRecord> {
  const push = pushId.length <= MAX_PUSH_ID_LENGTH ? await ports.pushes.get(pushId) : undefined;
  if (!push) throw new DomainError('PUSH_NOT_FOUND', `push ${pushId} does not exist`);
  return push;
}
