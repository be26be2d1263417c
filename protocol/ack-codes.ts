/**
 * HL7 v2 acknowledgement codes (MSA-1, HL7 table 0008) and what each means for a push. One
 * home: the relay turns a device's ACK into a result with them, the cloud checks the result
 * with them, the HL7 parser and the device simulator use them.
 */

export type AckCode = 'AA' | 'AE' | 'AR' | 'CA' | 'CE' | 'CR';
export type ApplicationAckCode = 'AA' | 'AE' | 'AR';

export const ACK_CODES: readonly AckCode[] = ['AA', 'AE', 'AR', 'CA', 'CE', 'CR'];
/** Positive: the push is `acked`. */
export const POSITIVE_ACK_CODES: readonly AckCode[] = ['AA', 'CA'];
/** Negative (error or reject): the push is `nacked`. */
export const NEGATIVE_ACK_CODES: readonly AckCode[] = ['AE', 'AR', 'CE', 'CR'];
/** Commit-level (enhanced mode): the receiver stored the message, no more. */
export const COMMIT_ACK_CODES: readonly AckCode[] = ['CA', 'CE', 'CR'];
/** Application-level (original mode): what a receiver answers after processing. */
export const APPLICATION_ACK_CODES: readonly ApplicationAckCode[] = ['AA', 'AE', 'AR'];

export function isAckCode(code: string): code is AckCode {
  return (ACK_CODES as readonly string[]).includes(code);
}

export function isApplicationAck(code: string): code is ApplicationAckCode {
  return (APPLICATION_ACK_CODES as readonly string[]).includes(code);
}

export function isPositiveAck(code: string): boolean {
  return (POSITIVE_ACK_CODES as readonly string[]).includes(code);
}

export function isNegativeAck(code: string): boolean {
  return (NEGATIVE_ACK_CODES as readonly string[]).includes(code);
}

export function isCommitAck(code: string): boolean {
  return (COMMIT_ACK_CODES as readonly string[]).includes(code);
}

/** The result status an ACK code gives a push: acked, nacked, or undefined for an unknown code. */
export function ackStatus(code: string): 'acked' | 'nacked' | undefined {
  return isPositiveAck(code) ? 'acked' : isNegativeAck(code) ? 'nacked' : undefined;
}
