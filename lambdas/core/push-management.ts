/** Cancelling and re-sending pushes (POST /pushes/{id}/cancel, /resend). */
import type { CoreConfig } from './core-config';
import { DomainError } from './domain-errors';
import { finish } from './lifecycle';
import type { Ports } from './ports';
import type { PushRequest } from './push-request';
import { acceptPush, getPush } from './push-service';
import type { PushRecord } from './records';

/**
 * Only a push still `queued` can be cancelled: once `sent` the device may already have it. The
 * conditional write makes a cancel that races a dispatch lose cleanly (409 with the new status).
 * finish() releases the queue, so the destination's next push goes.
 */
export async function cancelPush(ports: Ports, pushId: string): Promise<PushRecord> {
  const push = await getPush(ports, pushId);
  const cancelled = push.status === 'queued' ? await finish(ports, push, ['queued'], 'cancelled', { error: 'cancelled' }) : undefined;
  if (cancelled) return cancelled;
  const now = push.status === 'queued' ? await getPush(ports, pushId) : push;
  throw new DomainError('NOT_CANCELLABLE', `push ${pushId} is ${now.status}; only a queued push can be cancelled`);
}

/**
 * A new push with the same agent, destination, body and ACK mode, linked by `resendOf`. It gets
 * the original's time to live again, from now. Any status may be re-sent: the caller decides.
 */
export async function resendPush(ports: Ports, config: CoreConfig, pushId: string): Promise<PushRecord> {
  const original = await getPush(ports, pushId);
  const request: PushRequest & { resendOf: string } = {
    destination: original.destination,
    body: original.body,
    bodyHash: original.bodyHash,
    contentType: original.contentType,
    waitForResponse: false,
    waitTimeoutMs: 0,
    returnAck: original.returnAck,
    expiresInS: Math.max(1, Math.round((original.expiresAt - original.createdAt) / 1000)),
    controlId: '',
    resendOf: original.pushId,
  };
  const { push } = await acceptPush(ports, original.agentId, request, config);
  ports.log?.info('push resent', { pushId: push.pushId, resendOf: original.pushId, agentId: push.agentId });
  return push;
}
