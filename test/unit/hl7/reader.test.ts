import { buildMessage } from '../../../hl7/builder';
import { DEFAULT_DELIMITERS } from '../../../hl7/delimiters';
import { readField, readMessage } from '../../../hl7/reader';
import { expectHl7Error } from '../../support/hl7-error';

const d = DEFAULT_DELIMITERS;

describe('readField', () => {
  it.each<[string, unknown]>([
    ['Doe', 'Doe'],
    ['Doe^Jane', ['Doe', 'Jane']],
    ['a&b', [['a', 'b']]],
    ['123^^^HOSP&1.2&ISO^MR', ['123', '', '', ['HOSP', '1.2', 'ISO'], 'MR']],
    ['a~b^c~~d', { repeat: ['a', ['b', 'c'], '', 'd'] }],
    ['""', null],
    ['x^""', ['x', null]],
    ['', ''],
    // trailing empties are dropped at every level: the canonical form
    ['a^^', 'a'],
    ['a&&^~~', 'a'],
    ['~^&', ''],
  ])('%j', (text, value) => {
    expect(readField(text, d)).toEqual(value);
  });

  it('unescapes delimiters and hex, and reads \\X22\\" back as the string ""', () => {
    expect(readField('a\\F\\b^c\\S\\d^e\\T\\f&g\\R\\h^i\\E\\j', d)).toEqual(['a|b', 'c^d', ['e&f', 'g~h'], 'i\\j']);
    expect(readField('line1\\X0d0a\\line2\\X09\\', d)).toBe('line1\r\nline2\t');
    expect(readField('\\X22\\"', d)).toBe('""');
    expect(readField('\\XC3A9\\', d)).toBe('é'); // UTF-8 bytes
    expect(readField('\\XE9\\', d)).toBe('é'); // not UTF-8: one character per byte
  });

  it('keeps formatting and character-set escapes verbatim, and malformed ones as text', () => {
    expect(readField('a\\.br\\b\\H\\c\\N\\\\.sp2\\\\C2842\\\\Zabc\\', d)).toBe('a\\.br\\b\\H\\c\\N\\\\.sp2\\\\C2842\\\\Zabc\\');
    expect(readField('a\\.br\\b', d, { lineBreaks: '.br' })).toBe('a\nb');
    expect(readField('a\\P\\b', d)).toBe('a\\P\\b'); // no truncation character declared
    expect(readField('a\\X0\\b\\XZZ\\', d)).toBe('a\\X0\\b\\XZZ\\');
    expect(readField('50\\ off', d)).toBe('50\\ off');
    expect(readField('a\\\\b', d)).toBe('a\\\\b');
  });
});

describe('readMessage', () => {
  const text = 'MSH|^~\\&|APP|FAC|||20240101||ADT^A01^ADT_A01|C1|P|2.5.1\rEVN|A01\rPID|1||42^^^H^MR~43||Doe^Jane|""\r';
  const segments = [
    ['MSH', '|', '^~\\&', 'APP', 'FAC', '', '', '20240101', '', ['ADT', 'A01', 'ADT_A01'], 'C1', 'P', '2.5.1'],
    ['EVN', 'A01'],
    ['PID', '1', '', { repeat: [['42', '', '', 'H', 'MR'], '43'] }, '', ['Doe', 'Jane'], null],
  ];

  it('numbers MSH fields as the standard does and never splits MSH-2', () => {
    const read = readMessage(text);
    expect(read.segments).toEqual(segments);
    expect(read.delimiters).toEqual(d);
    expect(read.segments[0][10]).toBe('C1');
  });

  it.each([
    ['\\n', text.replace(/\r/g, '\n')],
    ['\\r\\n', text.replace(/\r/g, '\r\n')],
    ['no final terminator', text.slice(0, -1)],
    ['blank lines', '\r\n\n' + text.replace(/\r/g, '\r\n\r\n')],
  ])('reads segments ended by %s', (_name, variant) => {
    expect(readMessage(variant).segments).toEqual(segments);
  });

  it('reads the delimiters from MSH, v2.7 truncation character included', () => {
    const read = readMessage('MSH#$*!%@#A!F!1$x!P!y\rPID#1##1$x*2##D!S!e$J%a!E!\r');
    expect(read.delimiters).toEqual({ field: '#', component: '$', repetition: '*', escape: '!', subcomponent: '%', truncation: '@' });
    expect(read.segments).toEqual([
      ['MSH', '#', '$*!%@', ['A#1', 'x@y']],
      ['PID', '1', '', { repeat: [['1', 'x'], '2'] }, '', ['D$e', ['J', 'a!']]],
    ]);
  });

  it('keeps the trailing empties of MSH-1/MSH-2 only', () => {
    expect(readMessage('MSH|^~\\&|||\rZZZ|||\r').segments).toEqual([['MSH', '|', '^~\\&'], ['ZZZ']]);
  });

  it('is the inverse of buildMessage on a realistic message', () => {
    expect(readMessage(buildMessage(segments as never)).segments).toEqual(segments);
  });

  it.each(['', '\r\n', 'PID|1', 'MSH', 'MSH|^~\\&'.slice(0, 7)])('throws NOT_HL7 for %j', (bad) => {
    expectHl7Error(() => readMessage(bad), 'NOT_HL7');
  });

  it.each(['MSH|^~|A', 'MSH|^~\\&#$|A', 'MSH|^^\\&|A', 'MSH|^~\\A|x'])('throws INVALID_DELIMITERS for %j', (bad) => {
    expectHl7Error(() => readMessage(bad), 'INVALID_DELIMITERS');
  });
});
