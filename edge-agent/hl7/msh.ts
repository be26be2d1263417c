/**
 * Reads the MSH header: just the fields routing and ACK correlation need. Not a full parser.
 * Field numbering follows the standard: MSH-1 is the field separator itself, MSH-2 the encoding
 * characters, so the n-th piece after splitting on the separator is MSH-(n+1).
 */
import { Hl7Error } from './errors';
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
}

/** True when the text starts with an MSH segment that declares its separators. */
export function isHl7(text: string): boolean {
  return startsWithMsh(stripLeadingBreaks(text));
}

/** Reads MSH; throws Hl7Error NOT_HL7 or MISSING_CONTROL_ID. */
export function parseMsh(text: string): MshHeader {
  const header = readMsh(text);
  if (header.controlId.length === 0) {
    throw new Hl7Error('MISSING_CONTROL_ID', 'MSH-10 (message control id) is empty; an ACK could not be matched to this message');
  }
  return header;
}

/** Like parseMsh but accepts an empty MSH-10, so a receiver can still reject such a message with an ACK. */
export function readMsh(text: string): MshHeader {
  const body = stripLeadingBreaks(text);
  if (!startsWithMsh(body)) {
    throw new Hl7Error('NOT_HL7', 'not an HL7 v2 message: it must start with an MSH segment (e.g. "MSH|^~\\&|...")');
  }
  const fieldSeparator = body[3];
  let end = body.indexOf('\r');
  const lf = body.indexOf('\n');
  if (lf !== -1 && (end === -1 || lf < end)) end = lf;
  const fields = (end === -1 ? body : body.slice(0, end)).split(fieldSeparator);
  const encodingCharacters = fields[1] ?? '';
  const component = encodingCharacters[0] ?? '^';
  const typeParts = (fields[8] ?? '').split(component);
  return {
    fieldSeparator,
    encodingCharacters,
    messageType: typeParts.length > 1 ? `${typeParts[0]}^${typeParts[1]}` : typeParts[0],
    controlId: (fields[9] ?? '').trim(),
    sendingApplication: fields[2] ?? '',
    sendingFacility: fields[3] ?? '',
    receivingApplication: fields[4] ?? '',
    receivingFacility: fields[5] ?? '',
    processingId: fields[10] ?? '',
    version: fields[11] ?? '',
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
