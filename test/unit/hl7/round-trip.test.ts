import { isDeepStrictEqual } from 'node:util';
import { buildField, buildMessage } from '../../../hl7/builder';
import { DEFAULT_DELIMITERS, type Delimiters } from '../../../hl7/delimiters';
import { normalizeField, normalizeSegment, type Hl7Segment } from '../../../hl7/er7-model';
import { readField, readMessage } from '../../../hl7/reader';
import { escapeValue, unescapeValue } from '../../../hl7/value-escape';
import { generateField, generateMessage, generateValue, rng } from '../../support/hl7-generate';

const DELIMITER_SETS: Delimiters[] = [
  DEFAULT_DELIMITERS,
  { field: '#', component: '$', repetition: '*', escape: '!', subcomponent: '%' },
  { field: '|', component: '^', repetition: '~', escape: '\\', subcomponent: '&', truncation: '#' },
];

describe('round trip: builder → reader gives the same values', () => {
  it.each(DELIMITER_SETS.map((d) => [JSON.stringify(d), d] as const))('values with delimiters %s', (_name, d) => {
    const next = rng(1);
    const structural = [d.field, d.component, d.repetition, d.subcomponent, d.truncation ?? d.field];
    const wrong: unknown[] = [];
    for (let i = 0; i < 5000; i++) {
      const value = generateValue(next, d);
      const escaped = escapeValue(value, d);
      // Lossless, and the escaped text holds no structural delimiter and no control character.
      const ok = unescapeValue(escaped, d) === value && !structural.some((c) => escaped.includes(c)) && !/[\x00-\x1f\x7f]/.test(escaped);
      if (!ok) wrong.push({ value, escaped });
    }
    expect(wrong).toEqual([]);
  });

  it.each(DELIMITER_SETS.map((d) => [JSON.stringify(d), d] as const))('messages with delimiters %s', (_name, d) => {
    const next = rng(2);
    const wrong: unknown[] = [];
    for (let i = 0; i < 500; i++) {
      const message = generateMessage(next, d);
      const text = buildMessage(message);
      const read = readMessage(text);
      const ok =
        text.split('\r').length - 1 === message.length && // no value broke a segment
        isDeepStrictEqual(read.delimiters, d) &&
        isDeepStrictEqual(read.segments, message.map(normalizeSegment)) &&
        buildMessage(read.segments) === text; // and the canonical form renders to the same text
      if (!ok) wrong.push({ message, text, read });
    }
    expect(wrong).toEqual([]);
  });

  it("round-trips line breaks written as \\.br\\ to '\\n'", () => {
    const message: Hl7Segment[] = [
      ['MSH', '|', '^~\\&'],
      ['NTE', '1', '', 'first\r\nsecond\nthird\rfourth'],
    ];
    const read = readMessage(buildMessage(message, { lineBreaks: '.br' }), { lineBreaks: '.br' });
    expect(read.segments[1][3]).toBe('first\nsecond\nthird\nfourth');
  });
});

describe('normalizeField', () => {
  it('is idempotent and agrees with what the reader returns for single fields', () => {
    const next = rng(3);
    const wrong: unknown[] = [];
    for (let i = 0; i < 2000; i++) {
      const field = generateField(next, DEFAULT_DELIMITERS);
      const once = normalizeField(field);
      const read = readField(buildField(field), DEFAULT_DELIMITERS);
      if (!isDeepStrictEqual(normalizeField(once), once) || !isDeepStrictEqual(read, once)) wrong.push({ field, once, read });
    }
    expect(wrong).toEqual([]);
  });

  it('keeps one component with subcomponents wrapped, and unwraps one leaf', () => {
    expect(normalizeField([['a', 'b', '']])).toEqual([['a', 'b']]);
    expect(normalizeField([['a', '']])).toBe('a');
    expect(normalizeField({ repeat: [['x', ''], ''] })).toBe('x');
    expect(normalizeField({ repeat: [undefined, null] })).toEqual({ repeat: ['', null] });
  });
});
