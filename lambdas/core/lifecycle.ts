/**
 * The push state machine. Every change of status goes through here, so the rules live in one
 * place:
 *
 *   queued ──dispatch──▶ sent ──result AA/CA──▶ acked
 *     ▲                   │  ──result AE/AR/CE/CR──▶ nacked
 *     └──relay gone / ────┘  ──result failed──▶ failed
 *        device unreachable     no result after maxAttempts ──▶ failed
 *   queued|sent ──past expiresAt──▶ expired
 *   queued ──POST /pushes/{id}/cancel──▶ cancelled
 *
 * Each transition is a conditional write on the current status, so two writers (a Lambda
 * retry, a late result, a sweeping dispatcher) can never both win.
 */
import type { Ports } from './ports';
import type { PushRecord, PushStatus } from './records';

export type TerminalStatus = 'acked' | 'nacked' | 'failed' | 'expired' | 'cancelled';

/** Moves a push to a terminal state and tells the waiters and the queue. */
export async function finish(
  ports: Ports,
  push: PushRecord,
  from: readonly PushStatus[],
  status: TerminalStatus,
  fields: Partial<Pick<PushRecord, 'ackCode' | 'response' | 'error'>>,
): Promise<PushRecord | undefined> {
  const completedAt = ports.clock.now();
  const updated = await ports.pushes.update(push.pushId, from, {
    status,
    completedAt,
    ...fields,
    retryAt: undefined,
  });
  if (!updated) return undefined;
  ports.log?.info('push finished', {
    pushId: updated.pushId,
    agentId: updated.agentId,
    destination: updated.destination,
    status,
    ackCode: updated.ackCode,
    attempts: updated.attempts,
    latencyMs: completedAt - updated.createdAt,
  });
  ports.watcher.notify(updated);
  try {
    await ports.queue.release(updated);
  } catch (err) {
    // The queue's own retry timer will notice the terminal state; releasing is only a shortcut.
    ports.log?.warn('queue release failed', { pushId: updated.pushId, error: (err as Error).message });
  }
  return updated;
}

/**
 * A push still `queued` at its expiresAt ends as expired now, wherever it stands in its
 * destination's queue: behind a stuck head it would otherwise wait (and say "queued") until the
 * head moves. Called by the dispatcher for the head, by the hub's expiry timer for the pushes
 * behind it, and on every read (GET, the waiting caller), which is how AWS does it: SQS FIFO
 * cannot look behind a group's head. A `sent` push is left alone: its result may be on its way.
 * Returns the push as it stands afterwards.
 */
export async function expireIfOverdue(ports: Ports, push: PushRecord): Promise<PushRecord> {
  if (push.status !== 'queued' || ports.clock.now() < push.expiresAt) return push;
  const error = push.error ? `expired before delivery; last error: ${push.error}` : 'expired before the relay could deliver it';
  const expired = await finish(ports, push, ['queued'], 'expired', { error });
  // Lost the race to another writer (a result, the dispatcher): read what it wrote.
  return expired ?? (await ports.pushes.get(push.pushId)) ?? push;
}
