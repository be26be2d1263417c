/**
 * What an MLLP channel answers a device, from the message's MSH and the sink's verdict.
 *
 * Original mode (MSH-15 and MSH-16 empty): one ACK, AA / AE / AR, or the application's own ACK.
 * Enhanced mode (either valued): a commit ACK (CA / CE / CR) as MSH-15 asks, then, for `app`
 * channels, the application's ACK as MSH-16 asks (HL7 table 0155: AL always, NE never, ER only
 * for an error, SU only for success). An empty MSH-15 in enhanced mode counts as AL, so the
 * device always hears that its message was stored; an empty MSH-16 as NE, since only `app`
 * channels have an application ACK to give.
 */
import { buildAckFor } from '../../hl7/ack';
import type { MshHeader } from '../../hl7/msh';
import { parseMsa } from '../../hl7/msa';
import type { InboundVerdict } from '../relay/inbound-sink';

export function isEnhanced(msh: MshHeader): boolean {
  return Boolean(msh.acceptAckType) || Boolean(msh.applicationAckType);
}

function wants(condition: string | undefined, success: boolean): boolean {
  switch (condition) {
    case 'AL':
      return true;
    case 'SU':
      return success;
    case 'ER':
      return !success;
    default:
      return false; // NE, or unknown: never
  }
}

/** The commit ACK sent as soon as the message is stored (enhanced mode, MSH-15 asks), or undefined. */
export function commitAck(msh: MshHeader): string | undefined {
  if (!isEnhanced(msh) || !wants(msh.acceptAckType || 'AL', true)) return undefined;
  return buildAckFor(msh, 'CA');
}

/**
 * The ACKs to send once the verdict is in, in order. `committed` says whether commitAck() was
 * already sent (so it is not sent twice).
 */
export function finalAcks(msh: MshHeader, verdict: InboundVerdict, committed: boolean): string[] {
  if (!isEnhanced(msh)) {
    if (verdict.outcome === 'accepted') return [buildAckFor(msh, 'AA')];
    if (verdict.outcome === 'refused') return [buildAckFor(msh, 'AE', verdict.reason)];
    return [verdict.response];
  }
  const accept = msh.acceptAckType || 'AL';
  if (verdict.outcome === 'refused') return wants(accept, false) ? [buildAckFor(msh, 'CE', verdict.reason)] : [];
  const out: string[] = [];
  if (!committed && wants(accept, true)) out.push(buildAckFor(msh, 'CA'));
  if (verdict.outcome === 'application') {
    const code = parseMsa(verdict.response)?.code;
    if (wants(msh.applicationAckType, code === 'AA' || code === 'CA')) out.push(verdict.response);
  }
  return out;
}

/** A message the channel cannot take at all (no MSH-10): AR, or CR in enhanced mode. */
export function rejectAck(msh: MshHeader, reason: string): string {
  return buildAckFor(msh, isEnhanced(msh) ? 'CR' : 'AR', reason);
}

/** The header an ACK is built from when the frame has no readable MSH: default separators, no MSA-2. */
export const NO_MSH: MshHeader = {
  fieldSeparator: '|',
  encodingCharacters: '^~\\&',
  messageType: '',
  controlId: '',
  sendingApplication: '',
  sendingFacility: '',
  receivingApplication: '',
  receivingFacility: '',
  version: '2.5.1',
  processingId: 'P',
};
