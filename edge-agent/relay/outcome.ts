/**
 * Turns what a device did into the result the cloud records: acked or nacked with the ACK
 * text, or failed with a reason and whether trying again later is safe (nothing reached the
 * device). Kept apart from the wiring so the mapping reads in one place.
 */
import { MAX_MESSAGE_BYTES, PROTOCOL_VERSION, type ResultMessage } from '../../protocol/messages';
import type { AckResult } from '../mllp/device-client';
import { DeviceError } from '../mllp/device-client';

const ACKED = new Set(['AA', 'CA']);
const NACKED = new Set(['AE', 'AR', 'CE', 'CR']);

export function failed(pushId: string, error: string, retryable: boolean): ResultMessage {
  return { action: 'result', v: PROTOCOL_VERSION, pushId, status: 'failed', error, retryable };
}

export function fromAck(pushId: string, ack: AckResult): ResultMessage {
  const code = ack.ackCode.toUpperCase();
  if (!ACKED.has(code) && !NACKED.has(code)) {
    // The bytes were delivered, so a retry could duplicate the message: not retryable.
    return failed(pushId, `device answered with an unknown acknowledgement code ${JSON.stringify(code.slice(0, 8))}`, false);
  }
  return fit({
    action: 'result',
    v: PROTOCOL_VERSION,
    pushId,
    status: ACKED.has(code) ? 'acked' : 'nacked',
    ackCode: code,
    response: ack.ack,
  });
}

export function fromError(pushId: string, err: unknown): ResultMessage {
  if (err instanceof DeviceError) {
    // NOT_HL7 never reached the device, but sending it again would fail the same way.
    const retryable = !err.delivered && err.code !== 'NOT_HL7' && err.code !== 'FRAME_TOO_LARGE';
    return failed(pushId, `${err.code}: ${err.message}`.slice(0, 1024), retryable);
  }
  // Unknown failure: we cannot tell whether bytes left, so do not invite a duplicate.
  return failed(pushId, `relay error: ${(err as Error)?.message ?? String(err)}`.slice(0, 1024), false);
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
