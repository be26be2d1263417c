/** Builds the ACK a receiver returns for a message (original mode AA/AE/AR or enhanced CA/CE/CR). */
import { escapeText } from './escape';
import { hl7Timestamp, newControlId } from './control-id';
import { readMsh, separatorsOf, type MshHeader } from './msh';
import type { AckCode } from './msa';

/**
 * Returns the ACK as ER7 text with a trailing CR. Sender and receiver are swapped, MSH-9 is
 * 'ACK^<trigger>^ACK', MSH-10 is new, MSA-2 is the original MSH-10, and the separators,
 * processing id and version are the original's. Throws Hl7Error('NOT_HL7') when there is no MSH.
 */
export function buildAck(message: string, code: AckCode, text?: string): string {
  return buildAckFor(readMsh(message), code, text);
}

/** The same, from a header already read (a receiver reads MSH once per message). */
export function buildAckFor(msh: MshHeader, code: AckCode, text?: string): string {
  const f = msh.fieldSeparator;
  const component = msh.encodingCharacters[0] ?? '^';
  const caret = msh.messageType.indexOf('^');
  const trigger = caret === -1 ? '' : msh.messageType.slice(caret + 1);
  const type = trigger ? `ACK${component}${trigger}${component}ACK` : 'ACK';
  const header =
    `MSH${f}${msh.encodingCharacters}${f}${msh.receivingApplication}${f}${msh.receivingFacility}${f}` +
    `${msh.sendingApplication}${f}${msh.sendingFacility}${f}${hl7Timestamp()}${f}${f}${type}${f}` +
    `${newControlId('ACK')}${f}${msh.processingId || 'P'}${f}${msh.version}`;
  let msa = `MSA${f}${code}${f}${msh.controlId}`;
  if (text !== undefined && text.length > 0) msa += `${f}${escapeText(text, separatorsOf(msh))}`;
  return `${header}\r${msa}\r`;
}
