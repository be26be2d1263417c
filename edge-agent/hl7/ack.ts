/** Builds the ACK a receiver returns for a message (original mode AA/AE/AR or enhanced CA/CE/CR). */
import { escapeText } from './escape';
import { hl7Timestamp, newControlId } from './control-id';
import { readMsh, separatorsOf } from './msh';
import type { AckCode } from './msa';

/**
 * Returns the ACK as ER7 text with a trailing CR. Sender and receiver are swapped, MSH-9 is
 * 'ACK^<trigger>^ACK', MSH-10 is new, MSA-2 is the original MSH-10, and the separators,
 * processing id and version are the original's. Throws Hl7Error('NOT_HL7') when there is no MSH.
 */
export function buildAck(message: string, code: AckCode, text?: string): string {
  const msh = readMsh(message);
  const sep = separatorsOf(msh);
  const f = msh.fieldSeparator;
  const trigger = msh.messageType.split('^')[1] ?? '';
  const type = trigger ? `ACK${sep.component}${trigger}${sep.component}ACK` : 'ACK';
  const header = [
    'MSH',
    msh.encodingCharacters,
    msh.receivingApplication,
    msh.receivingFacility,
    msh.sendingApplication,
    msh.sendingFacility,
    hl7Timestamp(),
    '',
    type,
    newControlId('ACK'),
    msh.processingId || 'P',
    msh.version,
  ].join(f);
  let msa = `MSA${f}${code}${f}${msh.controlId}`;
  if (text !== undefined && text.length > 0) msa += `${f}${escapeText(text, sep)}`;
  return `${header}\r${msa}\r`;
}
