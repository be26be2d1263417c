/**
 * Renders the JSON model of er7-model.ts as ER7 text: segments joined and terminated by CR,
 * fields by the field separator, and so on down to subcomponents. Data values are escaped
 * (value-escape.ts); the delimiters themselves, MSH-1 and MSH-2 are written as they are.
 * Trailing empty fields, repetitions, components and subcomponents are dropped; null renders
 * as `""`, HL7's explicit null, and never disappears.
 *
 * The delimiters come from the message's MSH segment when its MSH-1/MSH-2 are set, else from
 * `options.delimiters`, else the defaults `|^~\&`; a message without MSH (a fragment) uses the
 * options or the defaults.
 */
import { checkDelimiters, DEFAULT_DELIMITERS, delimitersFrom, encodingCharactersOf, type Delimiters } from './delimiters';
import { isRepeat, type Hl7Component, type Hl7Field, type Hl7Leaf, type Hl7Repetition, type Hl7Segment } from './er7-model';
import { Hl7Error } from './hl7-errors';
import { escapeValue, type EscapeOptions } from './value-escape';

export interface BuildOptions extends EscapeOptions {
  /** Used when the message has no MSH, or its MSH-1/MSH-2 are empty. */
  delimiters?: Delimiters;
}

const SEGMENT_NAME = /^[A-Z][A-Z0-9]{2}$/;

/** The message as ER7, each segment (the last included) terminated by CR. */
export function buildMessage(segments: readonly Hl7Segment[], options: BuildOptions = {}): string {
  const msh = segments.find((s) => s[0] === 'MSH');
  const d = msh ? delimitersOfMsh(msh, options) : checkDelimiters(options.delimiters ?? DEFAULT_DELIMITERS);
  let out = '';
  for (const segment of segments) out += renderSegment(segment, d, options) + '\r';
  return out;
}

/** One segment without its terminator, with the given delimiters. */
export function buildSegment(segment: Hl7Segment, options: BuildOptions = {}): string {
  const d = segment[0] === 'MSH' ? delimitersOfMsh(segment, options) : checkDelimiters(options.delimiters ?? DEFAULT_DELIMITERS);
  return renderSegment(segment, d, options);
}

/** One field's ER7 text (no field separators around it). */
export function buildField(field: Hl7Field, options: BuildOptions = {}): string {
  return renderField(field, checkDelimiters(options.delimiters ?? DEFAULT_DELIMITERS), options);
}

function delimitersOfMsh(msh: Hl7Segment, options: BuildOptions): Delimiters {
  const f1 = msh[1];
  const f2 = msh[2];
  if (isUnset(f1) && isUnset(f2)) return checkDelimiters(options.delimiters ?? DEFAULT_DELIMITERS);
  if (typeof f1 !== 'string' || typeof f2 !== 'string') {
    throw new Hl7Error(
      'INVALID_DELIMITERS',
      'MSH-1 and MSH-2 must both be set as plain strings (e.g. "|" and "^~\\\\&"), or both left empty',
    );
  }
  return delimitersFrom(f1, f2);
}

function isUnset(v: Hl7Field | undefined): boolean {
  return v === undefined || v === '';
}

function renderSegment(segment: Hl7Segment, d: Delimiters, options: EscapeOptions): string {
  const name = segment[0];
  if (typeof name !== 'string' || !SEGMENT_NAME.test(name)) {
    throw new Hl7Error(
      'INVALID_SEGMENT',
      `segment name ${JSON.stringify(name)} must be three upper-case letters or digits, starting with a letter`,
    );
  }
  let out = name;
  let from = 1;
  if (name === 'MSH') {
    // MSH-1 is the field separator itself: MSH-2 follows it directly.
    out += d.field + encodingCharactersOf(d);
    from = 3;
  }
  let pending = '';
  for (let i = from; i < segment.length; i++) {
    pending += d.field;
    const text = renderField(segment[i], d, options);
    if (text.length > 0) {
      out += pending + text;
      pending = '';
    }
  }
  return out;
}

function renderField(field: Hl7Field, d: Delimiters, options: EscapeOptions): string {
  if (!isRepeat(field)) return renderRepetition(field, d, options);
  if (!Array.isArray(field.repeat)) throw new Hl7Error('INVALID_VALUE', 'repeat must be an array of repetitions');
  return joinTrimmed(field.repeat, d.repetition, (r) => renderRepetition(r, d, options));
}

function renderRepetition(rep: Hl7Repetition, d: Delimiters, options: EscapeOptions): string {
  if (!Array.isArray(rep)) return renderLeaf(rep, d, options);
  return joinTrimmed(rep, d.component, (c: Hl7Component) =>
    Array.isArray(c) ? joinTrimmed(c, d.subcomponent, (s) => renderLeaf(s, d, options)) : renderLeaf(c, d, options),
  );
}

function renderLeaf(v: Hl7Leaf, d: Delimiters, options: EscapeOptions): string {
  if (v === undefined || v === '') return '';
  if (v === null) return '""';
  if (typeof v !== 'string') throw new Hl7Error('INVALID_VALUE', `a value must be a string or null, got ${describe(v)}`);
  return escapeValue(v, d, options);
}

function describe(v: unknown): string {
  return Array.isArray(v) ? 'an array nested too deeply' : typeof v;
}

/** Joins rendered items, leaving out trailing empty ones (and their delimiters). */
function joinTrimmed<T>(items: readonly T[], sep: string, render: (item: T) => string): string {
  let out = '';
  let pending = '';
  for (let i = 0; i < items.length; i++) {
    if (i > 0) pending += sep;
    const text = render(items[i]);
    if (text.length > 0) {
      out += pending + text;
      pending = '';
    }
  }
  return out;
}
