/**
 * The built-in FHIR mappings against golden files (test/golden/mapping): values with every
 * delimiter and `\`, non-ASCII names, and missing optional fields. UPDATE_GOLDEN=1 rewrites the
 * files; review the diff before committing.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseMessage, readField } from '../../../astm/records';
import { readMessage } from '../../../hl7/reader';
import { renderFhir } from '../../../mapping/fhir-mapping';
import { MappingError } from '../../../mapping/mapping-errors';
import { GOLDEN_CASES, GOLDEN_DIR, GOLDEN_OPTIONS, goldenInput, goldenOutput } from '../../golden/mapping/cases';

describe('built-in mappings render the golden files', () => {
  it.each(GOLDEN_CASES.map((c) => [`${c.input} -> ${c.target}`, c] as const))('%s', (_name, c) => {
    const { text } = renderFhir(goldenInput(c.input), c.target, GOLDEN_OPTIONS);
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(join(GOLDEN_DIR, c.output), text.replace(/\r/g, '\n'));
    expect(text).toBe(goldenOutput(c.output));
  });
});

describe('what the ORM carries, read back by our reader (values unescaped)', () => {
  const { text } = renderFhir(goldenInput('service-request-bundle.json'), 'hl7v2', GOLDEN_OPTIONS);
  const segs = readMessage(text).segments;
  const seg = (name: string) => segs.find((s) => s[0] === name)!;

  it('has the ORM^O01 structure', () => {
    expect(segs.map((s) => s[0])).toStrictEqual(['MSH', 'PID', 'PV1', 'ORC', 'TQ1', 'OBR', 'NTE', 'NTE']);
  });

  it('keeps every delimiter and non-ASCII character of the values', () => {
    expect(seg('ORC')[2]).toStrictEqual(['ORD|1^2~3\\4&5', 'urn:oid:1.2.3']);
    expect(seg('PID')[5]).toStrictEqual(['Müller-Lüdenscheidt', 'Zoë', 'Ångström ^Jr', '', 'Dr.']);
    expect(seg('PID')[3]).toStrictEqual({
      repeat: [
        ['MRN|0001', '', '', 'urn:oid:2.16.840.1.113883.3.1', 'MR'],
        ['A&B', '', '', 'urn:oid:2.16.840.1.113883.3.2'],
      ],
    });
    expect(seg('OBR')[4]).toStrictEqual(['2345-7', 'Glucose [Mass/volume] in Serum|Plasma', 'LN']);
    expect(seg('NTE')[3]).toBe('fasting ~12h & no meds\\coffee');
    expect(seg('ORC')[12]).toStrictEqual(['1234567893', "O'Brien\\Smith", 'Seán']);
  });

  it('writes dates in the site zone with its offset and exact fractions', () => {
    expect(seg('MSH')[7]).toBe('20240701120000+0200');
    expect(seg('ORC')[9]).toBe('20240701093000.005+0200');
    expect(seg('TQ1')[7]).toBe('20240702100000+0200');
    expect(seg('PID')[7]).toBe('19800229');
  });
});

describe('the ASTM order, read back', () => {
  it('keeps the values through ASTM escaping', () => {
    const { text } = renderFhir(goldenInput('service-request-bundle.json'), 'astm', GOLDEN_OPTIONS);
    const { delimiters: d, records } = parseMessage(text);
    expect(records.map((r) => r.type)).toStrictEqual(['H', 'P', 'O', 'C', 'C', 'L']);
    const o = records[2];
    expect(readField(o, 3, d)).toStrictEqual([['ORD|1^2~3\\4&5']]);
    expect(readField(o, 5, d)).toStrictEqual([['', '', '', '2345-7']]);
    expect(readField(o, 6, d)).toStrictEqual([['S']]);
    expect(readField(records[1], 6, d)).toStrictEqual([['Müller-Lüdenscheidt', 'Zoë', 'Ångström ^Jr', '', 'Dr.']]);
    expect(readField(records[3], 4, d)).toStrictEqual([['fasting ~12h & no meds\\coffee']]);
  });
});

describe('FHIR input the built-ins refuse', () => {
  const err = (input: unknown, target: 'hl7v2' | 'astm' = 'hl7v2'): MappingError => {
    try {
      renderFhir(input, target, GOLDEN_OPTIONS);
    } catch (e) {
      if (e instanceof MappingError) return e;
      throw e;
    }
    throw new Error('rendered');
  };
  it.each([
    ['an Observation', { resourceType: 'Observation', id: 'o' }, 'UNSUPPORTED_RESOURCE'],
    ['no resourceType', { id: 'x' }, 'UNSUPPORTED_RESOURCE'],
    [
      'a Bundle of Observations',
      { resourceType: 'Bundle', entry: [{ resource: { resourceType: 'Observation' } }] },
      'UNSUPPORTED_RESOURCE',
    ],
    [
      'a ServiceRequest whose Patient is elsewhere',
      { resourceType: 'ServiceRequest', subject: { reference: 'Patient/9' }, code: { coding: [{ code: 'X' }] } },
      'MISSING_DATA',
    ],
    [
      'a ServiceRequest without a code',
      { resourceType: 'ServiceRequest', id: 's', contained: [{ resourceType: 'Patient', id: 'p' }], subject: { reference: '#p' } },
      'MISSING_DATA',
    ],
  ])('%s', (_name, input, code) => {
    expect(err(input).code).toBe(code);
  });

  it('a Patient to an ASTM device', () => {
    expect(err({ resourceType: 'Patient', id: 'p' }, 'astm').code).toBe('UNSUPPORTED_RESOURCE');
  });
});
