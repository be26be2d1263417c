/**
 * Reads ER7 text into the JSON model of er7-model.ts: the inverse of builder.ts. The delimiters
 * are read from MSH-1/MSH-2; segments may end in CR, LF or CRLF, and blank lines are skipped.
 * Each leaf is unescaped (value-escape.ts: delimiter escapes and \X..\ hex are decoded,
 * formatting escapes such as \.br\ are kept verbatim unless `lineBreaks: '.br'`), an exact `""`
 * becomes null, and the result is in canonical form (trailing empties dropped, single leaves
 * unwrapped), so readMessage(buildMessage(m)).segments deep-equals normalizeSegment applied to m.
 *
 * One message per call: the text must start with MSH (after blank lines). Batch envelopes
 * (FHS/BHS) are not split here.
 */
import { delimitersFrom, type Delimiters } from './delimiters';
import type { Hl7Component, Hl7Field, Hl7Repetition, Hl7Segment } from './er7-model';
import { Hl7Error } from './hl7-errors';
import { unescapeValue, type EscapeOptions } from './value-escape';

export interface ReadMessage {
  delimiters: Delimiters;
  segments: Hl7Segment[];
}

const LINE_BREAK = /\r\n|\r|\n/;

export function readMessage(text: string, options: EscapeOptions = {}): ReadMessage {
  const lines = text.split(LINE_BREAK).filter((l) => l.length > 0);
  const first = lines[0] ?? '';
  if (!first.startsWith('MSH') || first.length < 8) {
    throw new Hl7Error('NOT_HL7', 'not an HL7 v2 message: it must start with an MSH segment (e.g. "MSH|^~\\&|...")');
  }
  const fieldSeparator = first[3];
  let end = first.indexOf(fieldSeparator, 4);
  if (end === -1) end = first.length;
  const delimiters = delimitersFrom(fieldSeparator, first.slice(4, end));
  return { delimiters, segments: lines.map((line) => readSegment(line, delimiters, options)) };
}

/** One segment's text (no terminator) with known delimiters. */
export function readSegment(line: string, d: Delimiters, options: EscapeOptions = {}): Hl7Segment {
  const parts = line.split(d.field);
  const name = parts[0];
  if (name === 'MSH') {
    // parts[1] is MSH-2 (MSH-1 is the separator that split them): both verbatim, never unescaped.
    const segment: Hl7Segment = ['MSH', d.field, parts[1] ?? ''];
    for (let i = 2; i < parts.length; i++) segment.push(readField(parts[i], d, options));
    return trimSegment(segment, 3);
  }
  const segment: Hl7Segment = [name];
  for (let i = 1; i < parts.length; i++) segment.push(readField(parts[i], d, options));
  return trimSegment(segment, 1);
}

/** One field's text with known delimiters, in canonical form. */
export function readField(text: string, d: Delimiters, options: EscapeOptions = {}): Hl7Field {
  if (text.length === 0) return '';
  const reps = trim(text.split(d.repetition).map((r) => readRepetition(r, d, options)));
  if (reps.length === 0) return '';
  return reps.length === 1 ? reps[0] : { repeat: reps };
}

function readRepetition(text: string, d: Delimiters, options: EscapeOptions): Hl7Repetition {
  if (text.indexOf(d.component) === -1) {
    const only = readComponent(text, d, options);
    // One component with subcomponents stays wrapped: a bare array would mean components.
    return Array.isArray(only) ? [only] : only;
  }
  const components = trim(text.split(d.component).map((c) => readComponent(c, d, options)));
  if (components.length === 0) return '';
  return components.length === 1 && !Array.isArray(components[0]) ? components[0] : components;
}

function readComponent(text: string, d: Delimiters, options: EscapeOptions): Hl7Component {
  if (text.indexOf(d.subcomponent) === -1) return readLeaf(text, d, options);
  const subs = trim(text.split(d.subcomponent).map((s) => readLeaf(s, d, options)));
  if (subs.length === 0) return '';
  return subs.length === 1 ? subs[0] : subs;
}

function readLeaf(text: string, d: Delimiters, options: EscapeOptions): string | null {
  if (text === '""') return null;
  return unescapeValue(text, d, options);
}

function trim<T>(items: T[]): T[] {
  let n = items.length;
  while (n > 0 && items[n - 1] === '') n--;
  return n === items.length ? items : items.slice(0, n);
}

function trimSegment(segment: Hl7Segment, keep: number): Hl7Segment {
  let n = segment.length;
  while (n > keep && segment[n - 1] === '') n--;
  segment.length = n;
  return segment;
}
