import {
  astmDateTime,
  buildOrderMessage,
  buildRecord,
  DEFAULT_DELIMITERS,
  escapeValue,
  messageToJson,
  parseMessage,
  readDelimiters,
  readField,
  readHostQuery,
  unescapeValue,
} from '../../../astm/records';

describe('ASTM records (LIS02-A2)', () => {
  it('reads the delimiters the H record declares, including non-default ones', () => {
    expect(readDelimiters('H|\\^&|||LIS')).toEqual(DEFAULT_DELIMITERS);
    expect(readDelimiters('H!@#$!!!LIS')).toEqual({ field: '!', repeat: '@', component: '#', escape: '$' });
    expect(() => readDelimiters('P|1')).toThrow(/must start with an H record/);
    expect(() => readDelimiters('H||^&')).toThrow(/four distinct/);
  });

  it('splits records on CR, LF or CRLF and keeps H-2 as written', () => {
    const { records } = parseMessage('H|\\^&|||Analyser^1.0\r\nP|1||PID7\nL|1|N\r');
    expect(records.map((r) => r.type)).toEqual(['H', 'P', 'L']);
    expect(records[0].fields.slice(0, 5)).toEqual(['H', '\\^&', '', '', 'Analyser^1.0']);
  });

  it('reads fields as repeats of unescaped components', () => {
    const { records, delimiters } = parseMessage('H|\\^&\rO|1|S&F&1||^^^GLU\\^^^NA^2|R\rL|1\r');
    const order = records[1];
    expect(readField(order, 3, delimiters)).toEqual([['S|1']]);
    expect(readField(order, 5, delimiters)).toEqual([
      ['', '', '', 'GLU'],
      ['', '', '', 'NA', '2'],
    ]);
    expect(readField(order, 4, delimiters)).toEqual([]);
    expect(readField(order, 40, delimiters)).toEqual([]);
  });

  it('escapes and unescapes every delimiter, and leaves other escape sequences alone', () => {
    const d = DEFAULT_DELIMITERS;
    const value = 'a|b\\c^d&e';
    const escaped = escapeValue(value, d);
    expect(escaped).toBe('a&F&b&R&c&S&d&E&e');
    expect(unescapeValue(escaped, d)).toBe(value);
    expect(unescapeValue('x&H&y&Z', d)).toBe('x&H&y&Z');
    expect(escapeValue('line1\rline2', d)).toBe('line1 line2');
  });

  it('gives the message as JSON, results included', () => {
    const json = messageToJson('H|\\^&|||Cobas\rP|1\rO|1|S1||^^^GLU\rR|1|^^^GLU|5.1|mmol/L|3.9-6.1|N||F\rC|1|I|hemolysed|G\rL|1|N\r');
    expect(json.map((r) => r.type)).toEqual(['H', 'P', 'O', 'R', 'C', 'L']);
    const result = json[3];
    expect(result.fields[2]).toEqual([['', '', '', 'GLU']]);
    expect(result.fields[3]).toEqual([['5.1']]);
    expect(result.fields[8]).toEqual([['F']]);
    expect(json[5].fields).toEqual([[['L']], [['1']], [['N']]]);
  });

  it('builds a record, escaping values and dropping trailing empty fields and components', () => {
    expect(buildRecord('P', ['1', undefined, 'ID|7', undefined, ['Doe', 'Jane', undefined], undefined, undefined])).toBe(
      'P|1||ID&F&7||Doe^Jane',
    );
  });

  it('builds an order message (H, P, O, L) that parses back to the same values', () => {
    const text = buildOrderMessage({
      sender: { name: 'EdgePush', version: '1' },
      receiver: 'Cobas',
      timestamp: new Date('2026-03-01T10:20:30Z'),
      timeZone: 'Europe/Berlin',
      patients: [
        {
          practiceId: 'MRN^1',
          name: { family: "O'Brien|Smith", given: 'José' },
          birthDate: '19800101',
          sex: 'F',
          orders: [
            { specimenId: 'S-100', tests: [{ code: 'GLU' }, { code: 'NA' }], priority: 'S', collectedAt: new Date('2026-03-01T09:00:00Z') },
          ],
        },
      ],
    });
    expect(text.split('\r').slice(0, -1)).toEqual([
      'H|\\^&|||EdgePush^1|||||Cobas||P|LIS2-A2|20260301112030',
      "P|1|MRN&S&1|||O'Brien&F&Smith^José||19800101|F",
      'O|1|S-100||^^^GLU\\^^^NA|S||20260301100000||||N||||||||||||||O',
      'L|1|N',
    ]);
    const { records, delimiters } = parseMessage(text);
    expect(readField(records[1], 3, delimiters)).toEqual([['MRN^1']]);
    expect(readField(records[1], 6, delimiters)).toEqual([["O'Brien|Smith", 'José']]);
    expect(readField(records[2], 5, delimiters).map((r) => r[3])).toEqual(['GLU', 'NA']);
    expect(readField(records[2], 26, delimiters)).toEqual([['O']]);
  });

  it('writes date/times in the site time zone', () => {
    const at = new Date('2026-07-01T23:30:00Z');
    expect(astmDateTime(at)).toBe('20260701233000');
    expect(astmDateTime(at, 'Europe/Berlin')).toBe('20260702013000');
    expect(astmDateTime(at, 'America/New_York')).toBe('20260701193000');
  });
});

describe('readHostQuery', () => {
  it('reads the specimen ids, tests and status of each Q record (LIS02-A2 §12)', () => {
    const text = 'H|\\^&|||Analyser\rQ|1|^S-1\\^S-2||^^^GLU\\^^^NA||||||||O\rQ|2|P7^S-3||ALL\rL|1|N\r';
    expect(readHostQuery(text)).toStrictEqual([
      {
        sequence: '1',
        specimenIds: ['S-1', 'S-2'],
        startRange: [
          ['', 'S-1'],
          ['', 'S-2'],
        ],
        tests: ['GLU', 'NA'],
        status: 'O',
      },
      { sequence: '2', specimenIds: ['S-3'], startRange: [['P7', 'S-3']], tests: ['ALL'] },
    ]);
  });

  it('follows the delimiters the H record declares, and unescapes values', () => {
    const text = 'H!~#$\rQ!1!#S$F$9!!ALL\rL!1\r';
    expect(readHostQuery(text)[0].specimenIds).toStrictEqual(['S!9']);
  });

  it('is empty for a message that is not a query (results), and throws without an H record', () => {
    expect(readHostQuery('H|\\^&\rP|1\rR|1|^^^GLU|5.1\rL|1|N\r')).toStrictEqual([]);
    expect(() => readHostQuery('Q|1|^S-1\rL|1\r')).toThrow(/start with an H record/);
  });

  it('keeps a vendor layout readable: the specimen id outside component 2 stays in startRange', () => {
    const [q] = readHostQuery('H|\\^&\rQ|1|^^SID-5^1^R2^P3||ALL\rL|1\r');
    expect(q.specimenIds).toStrictEqual([]);
    expect(q.startRange).toStrictEqual([['', '', 'SID-5', '1', 'R2', 'P3']]);
  });
});
