import { readMessage } from '../../../hl7/reader';
import { parseMessage, readField } from '../../../astm/records';
import { controlIdForPush } from '../../../hl7/control-id';
import { MappingError } from '../../../mapping/mapping-errors';
import { evaluate, parsePath } from '../../../mapping/path';
import { renderTemplate } from '../../../mapping/template';
import type { TemplateDocument } from '../../../mapping/template-model';

const NOW = new Date('2024-03-31T00:30:00.005Z');

const ORU: TemplateDocument = {
  target: 'hl7v2',
  messageType: 'ORU^R01^ORU_R01',
  timeZone: 'Europe/Berlin',
  header: { sendingApplication: 'LAB', receivingFacility: { path: '$.site' } },
  lookups: { sex: { male: 'M', female: 'F', '*': 'U' }, flag: { high: 'H' } },
  segments: [
    {
      segment: 'PID',
      fields: {
        '1': '1',
        '3': { each: '$.ids', value: [{ path: '@.id' }, '', '', [{ path: '@.authority' }, '', 'ISO']] },
        '5': { path: '$.name', format: 'name' },
        '7': { path: '$.born', format: 'date' },
        '8': { path: '$.sex', lookup: 'sex' },
        '9': null,
      },
    },
    { segment: 'OBR', fields: { '1': '1', '7': { path: '$.collected', format: 'datetime', required: true } } },
    {
      group: [
        {
          segment: 'OBX',
          fields: {
            '1': { setId: true },
            '3': { path: '@.code', format: 'upper' },
            '5': { path: '@.value' },
            '8': { path: '@.flag', lookup: 'flag' },
          },
        },
        { segment: 'NTE', when: '@.note', fields: { '1': { setId: true }, '3': { path: '@.note' } } },
      ],
      each: '$.results',
    },
    { segment: 'ZZZ', fields: { '1': { path: '$.tags[*]', join: ' ' }, '2': { path: '$.missing', default: 'none' } } },
  ],
};

const DATA = {
  site: 'WARD|7',
  ids: [
    { id: 'A^1', authority: '1.2.3' },
    { id: 'B~2', authority: '4&5' },
  ],
  name: [{ family: 'Ørsted', given: ['Hans', 'Christian'] }],
  born: '1777-08-14',
  sex: 'male',
  collected: '2024-03-31T02:30:00+02:00',
  results: [
    { code: 'glu', value: 5.4, flag: 'high', note: 'a\\b' },
    { code: 'k', value: '4.1' },
  ],
  tags: ['x', 'y'],
};

describe('rendering a template', () => {
  const out = renderTemplate(ORU, DATA, { now: NOW, pushId: 'p-1' });
  const read = readMessage(out.text);
  const seg = (name: string, n = 0) => read.segments.filter((s) => s[0] === name)[n];

  it('sets MSH from the header, the site zone and the push id', () => {
    const msh = seg('MSH');
    expect(msh[3]).toBe('LAB');
    expect(msh[6]).toBe('WARD|7');
    // 00:30 UTC on the night clocks go forward in Berlin: 01:30 +0100 (the switch is at 02:00 local).
    expect(msh[7]).toBe('20240331013000+0100');
    expect(msh[9]).toStrictEqual(['ORU', 'R01', 'ORU_R01']);
    expect(msh[10]).toBe(controlIdForPush('p-1'));
    expect(out.controlId).toBe(controlIdForPush('p-1'));
    expect(msh[12]).toBe('2.5.1');
    expect(msh[18]).toBe('UNICODE UTF-8');
  });

  it('fills fields by path, with repeats, subcomponents, names, dates, lookups and explicit null', () => {
    const pid = seg('PID');
    expect(pid[3]).toStrictEqual({
      repeat: [
        ['A^1', '', '', ['1.2.3', '', 'ISO']],
        ['B~2', '', '', ['4&5', '', 'ISO']],
      ],
    });
    expect(pid[5]).toStrictEqual(['Ørsted', 'Hans', 'Christian']);
    expect(pid[7]).toBe('17770814');
    expect(pid[8]).toBe('M');
    expect(pid[9]).toBeNull();
    // 02:30+02:00 is 00:30 UTC, which in Berlin is 01:30+01:00.
    expect(seg('OBR')[7]).toBe('20240331013000+0100');
  });

  it('loops over arrays with set ids, and skips segments whose `when` finds nothing', () => {
    expect(read.segments.map((s) => s[0])).toStrictEqual(['MSH', 'PID', 'OBR', 'OBX', 'NTE', 'OBX', 'ZZZ']);
    expect(seg('OBX', 0).slice(1, 9)).toStrictEqual(['1', '', 'GLU', '', '5.4', '', '', 'H']);
    expect(seg('OBX', 1).slice(1)).toStrictEqual(['2', '', 'K', '', '4.1']);
    expect(seg('NTE')).toStrictEqual(['NTE', '1', '', 'a\\b']);
    expect(seg('ZZZ')).toStrictEqual(['ZZZ', 'x y', 'none']);
  });

  it('renders the same text for the same push (retries) and another MSH-10 for another push', () => {
    expect(renderTemplate(ORU, DATA, { now: NOW, pushId: 'p-1' }).text).toBe(out.text);
    expect(readMessage(renderTemplate(ORU, DATA, { now: NOW, pushId: 'p-2' }).text).segments[0][10]).not.toBe(controlIdForPush('p-1'));
  });
});

describe('bad data: a clear error naming the rule and the data path', () => {
  const err = (data: unknown): MappingError => {
    try {
      renderTemplate(ORU, data, { now: NOW, controlId: 'X' });
    } catch (e) {
      if (e instanceof MappingError) return e;
      throw e;
    }
    throw new Error('rendered');
  };

  it.each([
    ['no data', undefined, 'MISSING_DATA', 'data'],
    ['data is text', 'hello', 'WRONG_DATA_TYPE', 'data'],
    ['a required value is missing', { ...DATA, collected: undefined }, 'MISSING_DATA', 'segments[1].fields[7]'],
    ['an object where text goes', { ...DATA, sex: { code: 'male' } }, 'WRONG_DATA_TYPE', 'segments[0].fields[8]'],
    ['not a date', { ...DATA, born: 'yesterday' }, 'WRONG_DATA_TYPE', 'segments[0].fields[7]'],
    ['a date-time without an offset', { ...DATA, collected: '2024-03-31T02:30:00' }, 'WRONG_DATA_TYPE', 'segments[1].fields[7]'],
    ['a name that is text', { ...DATA, name: 'Hans' }, 'WRONG_DATA_TYPE', 'segments[0].fields[5]'],
  ])('%s', (_name, data, code, at) => {
    const e = err(data);
    expect(e.code).toBe(code);
    expect(e.at).toBe(at);
  });
});

describe('ASTM templates', () => {
  it('writes H and L, escapes with ASTM delimiters, and repeats fields', () => {
    const doc: TemplateDocument = {
      target: 'astm',
      header: { sender: 'HOST', receiver: { path: '$.analyser' } },
      records: [
        { record: 'P', fields: { '2': '1', '6': [{ path: '$.family' }, { path: '$.given' }] } },
        {
          record: 'O',
          each: '$.orders',
          fields: { '2': { setId: true }, '3': { path: '@.sid' }, '5': { each: '@.tests', value: ['', '', '', { path: '@' }] } },
        },
      ],
    };
    const out = renderTemplate(
      doc,
      {
        analyser: 'AU|480',
        family: 'Doe^J',
        given: 'A&B',
        orders: [
          { sid: 'S1', tests: ['GLU', 'NA'] },
          { sid: 'S\\2', tests: ['K'] },
        ],
      },
      { now: NOW, controlId: 'C1' },
    );
    const { delimiters, records } = parseMessage(out.text);
    expect(records.map((r) => r.type)).toStrictEqual(['H', 'P', 'O', 'O', 'L']);
    expect(readField(records[0], 3, delimiters)).toStrictEqual([['C1']]);
    expect(readField(records[0], 10, delimiters)).toStrictEqual([['AU|480']]);
    expect(readField(records[1], 6, delimiters)).toStrictEqual([['Doe^J', 'A&B']]);
    expect(readField(records[2], 5, delimiters)).toStrictEqual([
      ['', '', '', 'GLU'],
      ['', '', '', 'NA'],
    ]);
    expect(readField(records[3], 2, delimiters)).toStrictEqual([['2']]);
    expect(readField(records[3], 3, delimiters)).toStrictEqual([['S\\2']]);
  });
});

describe('path expressions', () => {
  const data = {
    a: [
      { s: 'phone', v: '1' },
      { s: 'email', v: '2' },
      { s: 'phone', v: '3' },
    ],
    'odd key': { x: 0 },
  };
  it.each([
    ['$.a[0].v', ['1']],
    ['$.a[*].v', ['1', '2', '3']],
    ["$.a[?(@.s=='phone')].v", ['1', '3']],
    ['$.a[?(@.v)].s', ['phone', 'email', 'phone']],
    ["$['odd key'].x", [0]],
    ['$.a[9].v', []],
    ['$.nothing.here', []],
  ])('%s', (p, expected) => {
    expect(evaluate(parsePath(p), data, undefined)).toStrictEqual(expected);
  });
});
