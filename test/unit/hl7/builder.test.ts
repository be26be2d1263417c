import { buildField, buildMessage, buildSegment } from '../../../hl7/builder';
import type { Hl7Segment } from '../../../hl7/er7-model';
import { expectHl7Error } from '../../support/hl7-error';

describe('buildField', () => {
  it.each<[string, Parameters<typeof buildField>[0], string]>([
    ['a leaf', 'Doe', 'Doe'],
    ['components', ['Doe', 'Jane', 'Q'], 'Doe^Jane^Q'],
    ['subcomponents', ['123', '', '', ['HOSP', '1.2.3', 'ISO'], 'MR'], '123^^^HOSP&1.2.3&ISO^MR'],
    ['one component with subcomponents', [['a', 'b']], 'a&b'],
    ['repetitions', { repeat: ['a', ['b', 'c'], '', 'd'] }, 'a~b^c~~d'],
    ['explicit null', null, '""'],
    ['null inside components', ['x', null], 'x^""'],
    ['empty', '', ''],
    ['undefined', undefined, ''],
    ['sparse components', ['a', undefined, 'c'], 'a^^c'],
  ])('%s', (_name, field, text) => {
    expect(buildField(field)).toBe(text);
  });

  it('drops trailing empty repetitions, components and subcomponents, never a null', () => {
    expect(buildField(['a', '', ''])).toBe('a');
    expect(buildField([['a', '', undefined], '', ''])).toBe('a');
    expect(buildField({ repeat: ['a', '', ['', ''], [['', '']]] })).toBe('a');
    expect(buildField({ repeat: ['', ''] })).toBe('');
    expect(buildField(['', '', null])).toBe('^^""');
    expect(buildField({ repeat: ['a', null] })).toBe('a~""');
  });

  it('escapes every delimiter inside values, and never the structural ones', () => {
    expect(buildField(['a|b', 'c^d', ['e&f', 'g~h'], 'i\\j'])).toBe('a\\F\\b^c\\S\\d^e\\T\\f&g\\R\\h^i\\E\\j');
    expect(buildField('\\F\\')).toBe('\\E\\F\\E\\');
  });

  it('writes control characters as \\Xhh\\, runs in one sequence', () => {
    expect(buildField('line1\r\nline2')).toBe('line1\\X0D0A\\line2');
    expect(buildField('\x00tab\there\x7f')).toBe('\\X00\\tab\\X09\\here\\X7F\\');
    expect(buildField('a\x1b\x1cb')).toBe('a\\X1B1C\\b');
  });

  it("writes line breaks as \\.br\\ when lineBreaks is '.br'", () => {
    expect(buildField('a\r\nb\nc\rd\x01', { lineBreaks: '.br' })).toBe('a\\.br\\b\\.br\\c\\.br\\d\\X01\\');
    expect(buildField('\x01\n\x02', { lineBreaks: '.br' })).toBe('\\X01\\\\.br\\\\X02\\');
  });

  it('keeps non-ASCII text as it is', () => {
    expect(buildField(['Müller', 'Zoë', '山田', '😀'])).toBe('Müller^Zoë^山田^😀');
  });

  it('writes a value that is literally "" so that it does not read as null', () => {
    expect(buildField('""')).toBe('\\X22\\"');
    expect(buildField('"""')).toBe('"""');
    expect(buildField('"')).toBe('"');
  });

  it('escapes with the delimiters given, including a v2.7 truncation character', () => {
    const delimiters = { field: '#', component: '$', repetition: '*', escape: '!', subcomponent: '%', truncation: '@' };
    expect(buildField(['a#b', 'c$d|^~\\&', 'e!f', 'g@h'], { delimiters })).toBe('a!F!b$c!S!d|^~\\&$e!E!f$g!P!h');
  });

  it('rejects values that are not strings or null, and arrays nested too deeply', () => {
    expectHl7Error(() => buildField(42 as never), 'INVALID_VALUE');
    expectHl7Error(() => buildField([[['too', 'deep']]] as never), 'INVALID_VALUE');
    expectHl7Error(() => buildField({ repeat: [{ repeat: ['a'] }] } as never), 'INVALID_VALUE');
    expectHl7Error(() => buildField({ repeat: 'a' } as never), 'INVALID_VALUE');
  });
});

describe('buildSegment / buildMessage', () => {
  it('numbers MSH fields as the standard does: MSH-1 is the separator, MSH-2 the encoding characters', () => {
    const msh: Hl7Segment = ['MSH', '|', '^~\\&', 'APP', 'FAC', '', '', '20240101', '', ['ADT', 'A01'], 'C1', 'P', '2.5.1'];
    expect(buildSegment(msh)).toBe('MSH|^~\\&|APP|FAC|||20240101||ADT^A01|C1|P|2.5.1');
    expect(msh[10]).toBe('C1'); // index 10 is MSH-10
  });

  it('fills MSH-1/MSH-2 from the options when they are left empty, and keeps them when there is nothing after', () => {
    expect(buildSegment(['MSH'])).toBe('MSH|^~\\&');
    expect(buildSegment(['MSH', '', '', 'A'])).toBe('MSH|^~\\&|A');
    const delimiters = { field: '#', component: '$', repetition: '*', escape: '!', subcomponent: '%' };
    expect(buildSegment(['MSH', undefined, undefined, ['A', 'B']], { delimiters })).toBe('MSH#$*!%#A$B');
  });

  it('takes the delimiters of every segment from MSH-1/MSH-2', () => {
    const text = buildMessage([
      ['MSH', '#', '$*!%', 'A#1'],
      ['PID', '1', '', { repeat: [['1', 'x'], '2'] }, '', ['D#e', 'J$a', 'b!c']],
    ]);
    expect(text).toBe('MSH#$*!%#A!F!1\rPID#1##1$x*2##D!F!e$J!S!a$b!E!c\r');
  });

  it('ends every segment with CR and drops trailing empty fields (a null field stays)', () => {
    expect(buildMessage([['MSH'], ['EVN', 'A01', '', '', ''], ['ZZZ'], ['PID', '', '', null, '', '']])).toBe(
      'MSH|^~\\&\rEVN|A01\rZZZ\rPID|||""\r',
    );
  });

  it('rejects bad segment names and bad delimiters', () => {
    for (const name of ['PI', 'pid', 'PID1', '1AB', '', 'P|D']) expectHl7Error(() => buildSegment([name, 'x']), 'INVALID_SEGMENT');
    expectHl7Error(() => buildMessage([['MSH', '|', '^~\\']]), 'INVALID_DELIMITERS');
    expectHl7Error(() => buildMessage([['MSH', '|', '^~|&']]), 'INVALID_DELIMITERS');
    expectHl7Error(() => buildMessage([['MSH', '|', 'A~\\&']]), 'INVALID_DELIMITERS');
    expectHl7Error(() => buildMessage([['PID', '1']], { delimiters: { ...defaults(), field: '\r' } }), 'INVALID_DELIMITERS');
    expectHl7Error(() => buildMessage([['PID', '1']], { delimiters: { ...defaults(), field: '"' } }), 'INVALID_DELIMITERS');
    expectHl7Error(() => buildMessage([['MSH', '|', '']]), 'INVALID_DELIMITERS');
    expectHl7Error(() => buildMessage([['MSH', ['|'], '^~\\&']]), 'INVALID_DELIMITERS');
    expectHl7Error(() => buildMessage([['PID', '1']], { delimiters: { ...defaults(), component: '|' } }), 'INVALID_DELIMITERS');
  });
});

function defaults() {
  return { field: '|', component: '^', repetition: '~', escape: '\\', subcomponent: '&' };
}
