/**
 * Reads the MSH header: just the fields routing and ACK correlation need. Not a full parser.
 * Field numbering follows the standard: MSH-1 is the field separator itself, MSH-2 the encoding
 * characters, so the n-th piece after splitting on the separator is MSH-(n+1).
 */
import { Hl7Error } from './hl7-errors';
import { separatorsFrom, type Separators } from './separators';

export interface MshHeader {
  fieldSeparator: string;
  encodingCharacters: string;
  /** MSH-9 as message code and trigger event, e.g. 'ADT^A01' (the structure component is dropped). */
  messageType: string;
  /** MSH-10, the message control id that the receiver echoes in MSA-2. */
  controlId: string;
  sendingApplication: string;
  sendingFacility: string;
  receivingApplication: string;
  receivingFacility: string;
  /** MSH-12 as sent, e.g. '2.5.1'. */
  version: string;
  /** MSH-11, e.g. 'P' (production) or 'T' (training). */
  processingId: string;
  /**
   * MSH-15 and MSH-16 (HL7 table 0155: AL, NE, ER, SU), '' when absent: either valued means the
   * sender asks for enhanced acknowledgement (a commit ACK, then an application ACK).
   */
  acceptAckType?: string;
  applicationAckType?: string;
}

/** True when the text starts with an MSH segment that declares its separators. */
export function isHl7(text: string): boolean {
  return startsWithMsh(stripLeadingBreaks(text));
}

/** Reads MSH; throws Hl7Error NOT_HL7 or MISSING_CONTROL_ID. */
export function parseMsh(text: string): MshHeader {
  const header = readMsh(text);
  if (header.controlId.length === 0) missingControlId();
  return header;
}

/**
 * parseMsh's MSH-10 alone, with the same checks and errors, for the device client's hot path:
 * it allocates the control id and nothing else.
 */
export function parseControlId(text: string): string {
  const body = stripLeadingBreaks(text);
  if (!startsWithMsh(body)) {
    throw new Hl7Error('NOT_HL7', 'not an HL7 v2 message: it must start with an MSH segment (e.g. "MSH|^~\\&|...")');
  }
  const fieldSeparator = body[3];
  const end = segmentEnd(body);
  // MSH-10 is the ninth field after MSH-1, as in readMsh's walk.
  let from = 4;
  let next = end;
  for (let n = 0; n < 9; n++) {
    if (from > end) return missingControlId();
    next = body.indexOf(fieldSeparator, from);
    if (next === -1 || next > end) next = end;
    if (n < 8) from = next + 1;
  }
  const controlId = body.slice(from, next).trim();
  return controlId.length === 0 ? missingControlId() : controlId;
}

function missingControlId(): never {
  throw new Hl7Error('MISSING_CONTROL_ID', 'MSH-10 (message control id) is empty; an ACK could not be matched to this message');
}

/** Where the first segment ends: its CR, or an earlier LF (LF-only text), or the end of the text. */
function segmentEnd(body: string): number {
  const cr = body.indexOf('\r');
  const lf = body.indexOf('\n');
  if (cr === -1) return lf === -1 ? body.length : lf;
  return lf !== -1 && lf < cr ? lf : cr;
}

/** Like parseMsh but accepts an empty MSH-10, so a receiver can still reject such a message with an ACK. */
export function readMsh(text: string): MshHeader {
  const body = stripLeadingBreaks(text);
  if (!startsWithMsh(body)) {
    throw new Hl7Error('NOT_HL7', 'not an HL7 v2 message: it must start with an MSH segment (e.g. "MSH|^~\\&|...")');
  }
  const fieldSeparator = body[3];
  const end = segmentEnd(body);
  // f[i] is MSH-(i+2): MSH-1 is the separator itself. indexOf rather than split(): hot path.
  const f: string[] = ['', '', '', '', '', '', '', '', '', '', '', '', '', '', ''];
  let from = 4;
  for (let n = 0; n < 15 && from <= end; n++) {
    let next = body.indexOf(fieldSeparator, from);
    if (next === -1 || next > end) next = end;
    f[n] = body.slice(from, next);
    from = next + 1;
  }
  const encodingCharacters = f[0];
  const type = f[7];
  const component = encodingCharacters.length > 0 ? encodingCharacters[0] : '^';
  const first = type.indexOf(component);
  let messageType = type;
  if (first !== -1) {
    const second = type.indexOf(component, first + 1);
    messageType = `${type.slice(0, first)}^${second === -1 ? type.slice(first + 1) : type.slice(first + 1, second)}`;
  }
  return {
    fieldSeparator,
    encodingCharacters,
    messageType,
    controlId: f[8].trim(),
    sendingApplication: f[1],
    sendingFacility: f[2],
    receivingApplication: f[3],
    receivingFacility: f[4],
    processingId: f[9],
    version: f[10],
    acceptAckType: f[13].trim().toUpperCase(),
    applicationAckType: f[14].trim().toUpperCase(),
  };
}

export function separatorsOf(header: MshHeader): Separators {
  return separatorsFrom(header.fieldSeparator, header.encodingCharacters);
}

function startsWithMsh(body: string): boolean {
  if (body.length < 8 || !body.startsWith('MSH')) return false;
  const sep = body.charCodeAt(3);
  // The separator is a printable, non-alphanumeric character and MSH-2 follows it directly.
  if (sep <= 32 || sep >= 127 || isAlnum(sep)) return false;
  return body.indexOf(body[3], 4) > 4;
}

function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function stripLeadingBreaks(text: string): string {
  let i = 0;
  while (i < text.length && (text.charCodeAt(i) === 13 || text.charCodeAt(i) === 10)) i++;
  return i === 0 ? text : text.slice(i);
}
