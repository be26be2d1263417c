import { MappingError } from '../../../mapping/mapping-errors';
import { validateTemplate } from '../../../mapping/template';

const ok = {
  target: 'hl7v2',
  messageType: 'ORU^R01^ORU_R01',
  lookups: { sex: { male: 'M' } },
  segments: [
    { segment: 'PID', fields: { '3': { path: '$.mrn', required: true }, '8': { path: '$.sex', lookup: 'sex' } } },
    { segment: 'OBX', each: '$.results', fields: { '1': { setId: true }, '5': { path: '@.value' } } },
  ],
};

function errorOf(doc: unknown): MappingError {
  try {
    validateTemplate(doc);
  } catch (err) {
    if (err instanceof MappingError) return err;
    throw err;
  }
  throw new Error('the template was accepted');
}

const withSegments = (segments: unknown[]) => ({ ...ok, segments });

describe('a template is checked when stored, and the error names the bad rule', () => {
  it('accepts a valid template', () => {
    expect(validateTemplate(ok)).toBe(ok);
  });

  it.each([
    ['not an object', [], '', 'a template is a JSON object'],
    ['unknown target', { ...ok, target: 'fhir' }, 'target', 'must be "hl7v2" or "astm"'],
    ['bad message type', { ...ok, messageType: 'ORM-O01' }, 'messageType', 'ORM^O01^ORM_O01'],
    ['a typo in a key', { ...ok, segmnts: [] }, 'segmnts', 'unknown key'],
    ['no segments', { ...ok, segments: [] }, 'segments', 'non-empty array'],
    ['bad zone', { ...ok, timeZone: 'Mars/Olympus' }, 'timeZone', 'IANA'],
    [
      'a bad path in field 5 of the 4th segment',
      withSegments([...ok.segments, { segment: 'NTE', fields: {} }, { segment: 'OBX', fields: { '5': { path: 'results[0]' } } }]),
      'segments[3].fields[5].path',
      'starts with $',
    ],
    [
      'an unclosed bracket',
      withSegments([{ segment: 'PID', fields: { '3': { path: '$.a[0' } } }]),
      'segments[0].fields[3].path',
      'unclosed',
    ],
    ['a field number 0', withSegments([{ segment: 'PID', fields: { '0': 'x' } }]), 'segments[0].fields[0]', 'field numbers'],
    ['MSH as a segment', withSegments([{ segment: 'MSH', fields: {} }]), 'segments[0].segment', 'MSH comes from "header"'],
    ['a lower-case segment', withSegments([{ segment: 'pid', fields: {} }]), 'segments[0].segment', 'segment name'],
    [
      'an unknown lookup',
      withSegments([{ segment: 'PID', fields: { '8': { path: '$.s', lookup: 'gender' } } }]),
      'segments[0].fields[8].lookup',
      'no lookup table',
    ],
    [
      'an unknown format',
      withSegments([{ segment: 'PID', fields: { '7': { path: '$.d', format: 'iso' } } }]),
      'segments[0].fields[7].format',
      'must be one of',
    ],
    [
      'a name format inside a component',
      withSegments([{ segment: 'PID', fields: { '5': [{ path: '$.n', format: 'name' }] } }]),
      'segments[0].fields[5][1].format',
      'whole field',
    ],
    ['a number as a value', withSegments([{ segment: 'PID', fields: { '1': 1 } }]), 'segments[0].fields[1]', 'constant string'],
    [
      'a repeat without value',
      withSegments([{ segment: 'PID', fields: { '3': { each: '$.ids' } } }]),
      'segments[0].fields[3].value',
      'value rule',
    ],
    ['a bad each on a group', withSegments([{ group: [{ segment: 'PID', fields: {} }], each: 'x' }]), 'segments[0].each', 'starts with $'],
    [
      'a bad filter',
      withSegments([{ segment: 'PID', fields: { '3': { path: "$.a[?(@.b='x')]" } } }]),
      'segments[0].fields[3].path',
      'filter',
    ],
    ['ASTM with segments', { target: 'astm', segments: ok.segments }, 'segments', 'has records'],
    ['ASTM H record', { target: 'astm', records: [{ record: 'H', fields: {} }] }, 'records[0].record', 'H and L are written'],
    [
      'ASTM subcomponents',
      { target: 'astm', records: [{ record: 'P', fields: { '6': [['a', 'b']] } }] },
      'records[0].fields[6][1]',
      'no subcomponents',
    ],
    ['ASTM field 1', { target: 'astm', records: [{ record: 'P', fields: { '1': 'P' } }] }, 'records[0].fields[1]', 'field numbers are 2'],
  ])('%s', (_name, doc, at, text) => {
    const err = errorOf(doc);
    expect(err.code).toBe('INVALID_TEMPLATE');
    expect(err.at).toBe(at);
    expect(err.message).toContain(text);
  });
});
