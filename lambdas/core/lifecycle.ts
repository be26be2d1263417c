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
