/**
 * Turns what a device did into the result the cloud records: acked or nacked with the ACK
 * text, or failed with a reason and whether trying again later is safe (nothing reached the
 * device). Kept apart from the wiring so the mapping reads in one place.
 */
import { ackStatus } from '../../protocol/ack-codes';
import { MAX_ERROR_TEXT_LENGTH, MAX_MESSAGE_BYTES } from '../../protocol/limits';
import { BASE_MESSAGE_VERSION, type ResultMessage } from '../../protocol/messages';
import { RESULT_ACTION } from '../../protocol/relay-routes';
import type { AckResult } from '../mllp/device-client';
import { DeviceError } from '../mllp/device-client';
import { AstmDeviceError } from '../astm/astm-device';

export function failed(pushId: string, error: string, retryable: boolean): ResultMessage {
  return { action: RESULT_ACTION, v: BASE_MESSAGE_VERSION, pushId, status: 'failed', error, retryable };
}

export function fromAck(pushId: string, ack: AckResult): ResultMessage {
  const code = ack.ackCode.toUpperCase();
  const status = ackStatus(code);
  if (status === undefined) {
    // The bytes were delivered, so a retry could duplicate the message: not retryable.
    return failed(pushId, `device answered with an unknown acknowledgement code ${JSON.stringify(code.slice(0, 8))}`, false);
  }
  return fit({
    action: RESULT_ACTION,
    v: BASE_MESSAGE_VERSION,
    pushId,
    status,
    ackCode: code,
    response: ack.ack,
  });
}

/** Every frame of the ASTM message was accepted and EOT sent: the link's own acknowledgement. */
export function astmAcked(pushId: string): ResultMessage {
  return { action: RESULT_ACTION, v: BASE_MESSAGE_VERSION, pushId, status: 'acked' };
}

/**
 * An ASTM transfer that failed. Not reaching the analyser at all (no connection) is retried
 * later; a failure of the link itself (NAK_LIMIT, TIMEOUT, LINK_DOWN, CONTENTION_TIMEOUT,
 * INTERRUPTED) ends the push `failed` with its code, as DESIGN.md's ASTM section says.
 */
export function fromAstmError(pushId: string, err: unknown): ResultMessage {
  if (err instanceof AstmDeviceError) {
    return failed(pushId, `${err.code}: ${err.message}`.slice(0, MAX_ERROR_TEXT_LENGTH), err.code === 'CONNECT_FAILED');
  }
  return failed(pushId, `relay error: ${(err as Error)?.message ?? String(err)}`.slice(0, MAX_ERROR_TEXT_LENGTH), false);
}

/** The reason a push ends with when the relay stopped after the device got it but before its ACK. */
export const DELIVERED_NO_ACK = 'delivered, ACK not received';

export function fromError(pushId: string, err: unknown): ResultMessage {
  if (err instanceof DeviceError && err.delivered && err.code === 'CLIENT_CLOSED') {
    // The relay is stopping (SIGTERM) and its shutdown time ran out while the device held the
    // message: the device may well have it, so this must not read as a failure to resend.
    return failed(pushId, `${DELIVERED_NO_ACK}: the relay stopped before the device answered (${err.code})`, false);
  }
  if (err instanceof DeviceError) {
    // NOT_HL7 never reached the device, but sending it again would fail the same way.
    const retryable = !err.delivered && err.code !== 'NOT_HL7' && err.code !== 'FRAME_TOO_LARGE';
    return failed(pushId, `${err.code}: ${err.message}`.slice(0, MAX_ERROR_TEXT_LENGTH), retryable);
  }
  // Unknown failure: we cannot tell whether bytes left, so do not invite a duplicate.
  return failed(pushId, `relay error: ${(err as Error)?.message ?? String(err)}`.slice(0, MAX_ERROR_TEXT_LENGTH), false);
}

/** A result must fit one WebSocket message; an oversized ACK text is dropped, never the status. */
export function fit(result: ResultMessage): ResultMessage {
  const size = Buffer.byteLength(JSON.stringify(result));
  if (size <= MAX_MESSAGE_BYTES || result.response === undefined) return result;
  const { response: _dropped, ...rest } = result;
  return {
    ...rest,
    error: `the ACK text (${Buffer.byteLength(result.response)} bytes) exceeds the ${MAX_MESSAGE_BYTES}-byte message limit and was omitted`,
  };
}
