/** HL7 escape sequences for free text placed in a field (e.g. MSA-3), per the message's separators. */
import type { Separators } from './separators';

export function escapeText(text: string, sep: Separators): string {
  let out = '';
  for (const ch of text) {
    if (ch === sep.escape) out += `${sep.escape}E${sep.escape}`;
    else if (ch === sep.field) out += `${sep.escape}F${sep.escape}`;
    else if (ch === sep.component) out += `${sep.escape}S${sep.escape}`;
    else if (ch === sep.subcomponent) out += `${sep.escape}T${sep.escape}`;
    else if (ch === sep.repetition) out += `${sep.escape}R${sep.escape}`;
    else if (ch === '\r' || ch === '\n')
      out += ' '; // a segment break inside a field would split the message
    else out += ch;
  }
  return out;
}
