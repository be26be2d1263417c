/**
 * The delimiters of one message, as the builder and reader use them: the five separators of
 * MSH-1/MSH-2 plus the v2.7 truncation character (a fifth encoding character, e.g. '^~\&#')
 * when the message declares one. Checked so that no two coincide and none can appear inside an
 * escape sequence or a segment name, which is what makes escaping reversible.
 */
import { Hl7Error } from './hl7-errors';
import { DEFAULT_SEPARATORS, type Separators } from './separators';

export interface Delimiters extends Separators {
  /** v2.7+ truncation character (MSH-2 position 5), escaped as \P\ when declared. */
  truncation?: string;
}

export const DEFAULT_DELIMITERS: Delimiters = DEFAULT_SEPARATORS;

/** MSH-2 for these delimiters: component, repetition, escape, subcomponent (and truncation). */
export function encodingCharactersOf(d: Delimiters): string {
  return d.component + d.repetition + d.escape + d.subcomponent + (d.truncation ?? '');
}

/** Delimiters from MSH-1 and MSH-2 as written in a message; throws INVALID_DELIMITERS. */
export function delimitersFrom(field: string, encodingCharacters: string): Delimiters {
  if (encodingCharacters.length < 4 || encodingCharacters.length > 5) {
    throw new Hl7Error('INVALID_DELIMITERS', `MSH-2 must hold 4 or 5 encoding characters, got ${JSON.stringify(encodingCharacters)}`);
  }
  const [component, repetition, escape, subcomponent, truncation] = encodingCharacters;
  const d: Delimiters = { field, component, repetition, escape, subcomponent };
  if (truncation !== undefined) d.truncation = truncation;
  return checkDelimiters(d);
}

/**
 * Returns the delimiters unchanged when each is one printable, non-alphanumeric ASCII character
 * and all differ; throws INVALID_DELIMITERS otherwise. Letters and digits are excluded because
 * escape sequences (\F\, \X0D\) and segment names are made of them; a space because trimming
 * peers would lose it.
 */
export function checkDelimiters(d: Delimiters): Delimiters {
  const all = [d.field, d.component, d.repetition, d.escape, d.subcomponent];
  if (d.truncation !== undefined) all.push(d.truncation);
  for (const c of all) {
    const code = c.length === 1 ? c.charCodeAt(0) : -1;
    const ok = code > 32 && code < 127 && !/[A-Za-z0-9"]/.test(c);
    if (!ok)
      throw new Hl7Error('INVALID_DELIMITERS', `delimiter ${JSON.stringify(c)} must be one printable, non-alphanumeric ASCII character`);
  }
  if (new Set(all).size !== all.length)
    throw new Hl7Error('INVALID_DELIMITERS', `delimiters must all differ: ${JSON.stringify(all.join(''))}`);
  return d;
}
