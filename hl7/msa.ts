/** Reads the MSA segment of an ACK: the acknowledgement code and the control id it answers. */
import { type AckCode, isAckCode } from '../protocol/ack-codes';
import { DEFAULT_SEPARATORS } from './separators';

// The code sets' home is protocol/ack-codes.ts; re-exported for this module's importers.
export { type AckCode, isCommitAck, isPositiveAck } from '../protocol/ack-codes';

export interface MsaSegment {
  code: AckCode;
  /** MSA-2: the MSH-10 of the message being acknowledged. */
  controlId: string;
  /** MSA-3, when present. */
  text?: string;
}

/** Returns the MSA segment, or undefined when the text has none or its code is not a valid one. */
export function parseMsa(text: string): MsaSegment | undefined {
  // The field separator is declared in MSH-1 (after any leading blank lines, which receivers
  // skip); an ACK without MSH is read with the default '|'.
  let msh = 0;
  while (text.charCodeAt(msh) === 13 || text.charCodeAt(msh) === 10) msh++;
  const sep = text.startsWith('MSH', msh) && text.length > msh + 3 ? text[msh + 3] : DEFAULT_SEPARATORS.field;
  const start = findSegment(text, sep === '|' ? 'MSA|' : `MSA${sep}`);
  if (start === -1) return undefined;
  // Field boundaries by indexOf, not split(), and only the three fields wanted: this runs once
  // per ACK on the client's hot path.
  const end = lineEnd(text, start);
  let from = start + 4;
  let next = fieldEnd(text, sep, from, end);
  const code = text.slice(from, next).trim().toUpperCase();
  if (!isAckCode(code)) return undefined;
  let controlId = '';
  from = next + 1;
  if (from <= end) {
    next = fieldEnd(text, sep, from, end);
    controlId = text.slice(from, next).trim();
    from = next + 1;
  }
  const msa: MsaSegment = { code, controlId };
  if (from <= end) {
    next = fieldEnd(text, sep, from, end);
    if (next > from) msa.text = text.slice(from, next);
  }
  return msa;
}

function fieldEnd(text: string, sep: string, from: number, end: number): number {
  const next = text.indexOf(sep, from);
  return next === -1 || next > end ? end : next;
}

function lineEnd(text: string, from: number): number {
  const cr = text.indexOf('\r', from);
  const lf = text.indexOf('\n', from);
  if (cr === -1) return lf === -1 ? text.length : lf;
  return lf === -1 || cr < lf ? cr : lf;
}

function findSegment(text: string, prefix: string): number {
  if (text.startsWith(prefix)) return 0;
  let from = 0;
  for (;;) {
    const i = text.indexOf(prefix, from);
    if (i === -1) return -1;
    const before = text.charCodeAt(i - 1);
    if (before === 13 || before === 10) return i;
    from = i + 1;
  }
}
