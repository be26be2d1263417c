/**
 * Seeded generator of messages in the er7-model form, for the round-trip and peer tests: values
 * draw on every delimiter (the message's and the default ones), the escape character, control
 * bytes, CR/LF, non-ASCII (accents, CJK, an astral emoji), look-alike escape sequences, and the
 * literal "" string; fields mix null, empty, repetitions, components and subcomponents.
 */
import type { Delimiters } from '../../hl7/delimiters';
import type { Hl7Component, Hl7Field, Hl7Repetition, Hl7Segment } from '../../hl7/er7-model';

/** mulberry32: small, seeded, good enough to vary test data reproducibly. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  'a',
  'Z',
  '0',
  ' ',
  '|',
  '^',
  '~',
  '\\',
  '&',
  '#',
  '"',
  '\r',
  '\n',
  '\r\n',
  '\t',
  '\x00',
  '\x01',
  '\x1b',
  '\x1c',
  '\x1f',
  '\x7f',
  'é',
  'Ø',
  'ß',
  '山田',
  '😀',
  '\\F\\',
  '\\X0D\\',
  '\\.br\\',
  'Müller',
];

export interface GenOptions {
  /** Peers that trim the message (python-hl7) lose trailing whitespace; keep spaces inside. */
  extraPieces?: string[];
}

export function generateValue(next: () => number, d: Delimiters, options: GenOptions = {}): string {
  const pieces = [
    ...PIECES,
    d.field,
    d.component,
    d.repetition,
    d.escape,
    d.subcomponent,
    ...(d.truncation ? [d.truncation] : []),
    ...(options.extraPieces ?? []),
  ];
  const roll = next();
  if (roll < 0.05) return '""';
  if (roll < 0.1) return '';
  const n = 1 + Math.floor(next() * 6);
  let s = '';
  for (let i = 0; i < n; i++) s += pieces[Math.floor(next() * pieces.length)];
  return s;
}

function leaf(next: () => number, d: Delimiters, o: GenOptions): string | null {
  return next() < 0.08 ? null : generateValue(next, d, o);
}

function component(next: () => number, d: Delimiters, o: GenOptions): Hl7Component {
  if (next() < 0.7) return leaf(next, d, o);
  return Array.from({ length: 1 + Math.floor(next() * 3) }, () => leaf(next, d, o));
}

function repetition(next: () => number, d: Delimiters, o: GenOptions): Hl7Repetition {
  if (next() < 0.5) return leaf(next, d, o);
  return Array.from({ length: 1 + Math.floor(next() * 4) }, () => component(next, d, o));
}

export function generateField(next: () => number, d: Delimiters, o: GenOptions = {}): Hl7Field {
  if (next() < 0.75) return repetition(next, d, o);
  return { repeat: Array.from({ length: 1 + Math.floor(next() * 3) }, () => repetition(next, d, o)) };
}

const NAMES = ['PID', 'PV1', 'ORC', 'OBR', 'NTE', 'OBX', 'ZX1'];

/** A message: an MSH with the given delimiters and generated MSH-3..6, then a few segments. */
export function generateMessage(next: () => number, d: Delimiters, o: GenOptions = {}): Hl7Segment[] {
  const enc = d.component + d.repetition + d.escape + d.subcomponent + (d.truncation ?? '');
  const msh: Hl7Segment = ['MSH', d.field, enc];
  for (let i = 3; i <= 6; i++) msh.push(generateField(next, d, o));
  msh.push('20240101120000+0000', '', ['ORM', 'O01', 'ORM_O01'], `C${Math.floor(next() * 1e9)}`, 'P', '2.5.1');
  const segments: Hl7Segment[] = [msh];
  const count = 1 + Math.floor(next() * 4);
  for (let s = 0; s < count; s++) {
    const seg: Hl7Segment = [NAMES[Math.floor(next() * NAMES.length)]];
    const fields = Math.floor(next() * 8);
    for (let f = 0; f < fields; f++) seg.push(generateField(next, d, o));
    segments.push(seg);
  }
  return segments;
}
