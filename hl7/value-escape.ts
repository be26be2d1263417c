/**
 * Escaping of one data value (a leaf of the ER7 model) and its inverse, per HL7 v2 chapter 2
 * ("Use of escape sequences in text fields"). Unlike escape.ts's escapeText (for ACK text, which
 * flattens line breaks to spaces), this is lossless:
 *
 * - the delimiters become \F\ \S\ \T\ \R\ \E\ (and \P\ for a declared truncation character);
 * - control characters U+0000–U+001F and U+007F become \Xhh..\, one hex pair per character,
 *   consecutive ones in one sequence (CR LF → \X0D0A\), so a value never breaks a segment;
 * - a value that is exactly `""` would read back as HL7's explicit null, so its first quote is
 *   written \X22\;
 * - everything else, non-ASCII included, is written as is (the message's character set, UTF-8
 *   for us, carries it).
 *
 * unescapeValue reverses all of that. \X..\ hex is decoded as UTF-8 bytes (falling back to one
 * character per byte, Latin-1, when the bytes are not UTF-8), which matches python-hl7 for the
 * ASCII our builder emits. Escapes that are formatting or character-set instructions rather than
 * data — \H\ \N\ \.br\ \.sp\ \.in\ ..., \Cxxyy\, \Mxxyyzz\, \Zxx\ — are left in the text verbatim
 * (with their escape characters) for the caller to interpret, since their meaning depends on the
 * field's type (FT/TX) and the receiver; with `lineBreaks: '.br'`, \.br\ alone is read as '\n'.
 * A lone escape character with no closing one is kept as text.
 */
import type { Delimiters } from './delimiters';

export interface EscapeOptions {
  /**
   * How line breaks in data are written: 'hex' (default) as \X0D\ / \X0A\ / \X0D0A\, exactly
   * reversible; '.br' as HL7's formatting escape \.br\ (each of CRLF, CR and LF), which FT/TX
   * receivers render as a new line and which reads back as '\n'.
   */
  lineBreaks?: 'hex' | '.br';
}

const HEX = '0123456789ABCDEF';

function isControl(code: number): boolean {
  return code < 0x20 || code === 0x7f;
}

export function escapeValue(value: string, d: Delimiters, options: EscapeOptions = {}): string {
  if (value === '""') return `${d.escape}X22${d.escape}"`;
  if (!needsEscaping(value, d)) return value;
  const e = d.escape;
  const br = options.lineBreaks === '.br';
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    const code = value.charCodeAt(i);
    if (isControl(code)) {
      if (br && (code === 13 || code === 10)) {
        if (code === 13 && value.charCodeAt(i + 1) === 10) i++;
        out += `${e}.br${e}`;
        continue;
      }
      out += `${e}X`;
      for (; i < value.length && isControl(value.charCodeAt(i)); i++) {
        const c = value.charCodeAt(i);
        if (br && (c === 13 || c === 10)) break;
        out += HEX[c >> 4] + HEX[c & 15];
      }
      out += e;
      i--;
    } else if (ch === e) out += `${e}E${e}`;
    else if (ch === d.field) out += `${e}F${e}`;
    else if (ch === d.component) out += `${e}S${e}`;
    else if (ch === d.subcomponent) out += `${e}T${e}`;
    else if (ch === d.repetition) out += `${e}R${e}`;
    else if (ch === d.truncation) out += `${e}P${e}`;
    else out += ch;
  }
  return out;
}

/** Fast path: most values (names, codes, numbers) need no escaping at all. */
function needsEscaping(value: string, d: Delimiters): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (isControl(code)) return true;
    const ch = value[i];
    if (ch === d.escape || ch === d.field || ch === d.component || ch === d.subcomponent || ch === d.repetition || ch === d.truncation) {
      return true;
    }
  }
  return false;
}

export function unescapeValue(raw: string, d: Delimiters, options: EscapeOptions = {}): string {
  const e = d.escape;
  let at = raw.indexOf(e);
  if (at === -1) return raw;
  let out = raw.slice(0, at);
  while (at !== -1) {
    const close = raw.indexOf(e, at + 1);
    if (close === -1) {
      out += raw.slice(at); // unterminated: keep as text
      break;
    }
    const seq = raw.slice(at + 1, close);
    const decoded = decode(seq, d, options);
    out += decoded ?? raw.slice(at, close + 1);
    at = raw.indexOf(e, close + 1);
    out += raw.slice(close + 1, at === -1 ? raw.length : at);
  }
  return out;
}

/** The text an escape sequence stands for, or undefined to keep it verbatim. */
function decode(seq: string, d: Delimiters, options: EscapeOptions): string | undefined {
  switch (seq) {
    case 'F':
      return d.field;
    case 'S':
      return d.component;
    case 'T':
      return d.subcomponent;
    case 'R':
      return d.repetition;
    case 'E':
      return d.escape;
    case 'P':
      return d.truncation;
    case '.br':
      return options.lineBreaks === '.br' ? '\n' : undefined;
  }
  if (seq.length >= 3 && seq[0] === 'X' && seq.length % 2 === 1 && /^X[0-9A-Fa-f]+$/.test(seq)) return decodeHex(seq.slice(1));
  return undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeHex(hex: string): string {
  const bytes = Buffer.from(hex, 'hex');
  try {
    return utf8.decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}
