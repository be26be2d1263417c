/**
 * The built-in mappings, written as ordinary templates over the data fhir-context.ts builds
 * (`$.patient`, `$.serviceRequest`, `$.practitioner`, `$.encounter`, `$.order`). docs/MAPPING.md
 * has the same table for people; the golden files under test/golden/mapping pin the output.
 */
import type { FieldRule, SegmentRule, TemplateDocument } from './template-model';

const LOOKUPS = {
  // FHIR administrative-gender -> HL7 table 0001.
  sex: { male: 'M', female: 'F', other: 'O', unknown: 'U' },
  // ASTM P-9 knows M, F and U only.
  astmSex: { male: 'M', female: 'F', '*': 'U' },
  // ServiceRequest.status -> ORC-1 order control (table 0119).
  orderControl: { draft: 'NW', active: 'NW', 'on-hold': 'HD', revoked: 'CA', completed: 'SC', 'entered-in-error': 'CA', '*': 'NW' },
  // ServiceRequest.status -> ASTM O-12 action code (N new, C cancel).
  astmAction: { revoked: 'C', 'entered-in-error': 'C', '*': 'N' },
  // ServiceRequest.priority -> TQ1-9 (table 0485) and ASTM O-6.
  priority: { routine: 'R', urgent: 'A', asap: 'A', stat: 'S' },
  // Encounter.class (v3 ActCode) -> PV1-2 (table 0004).
  patientClass: { AMB: 'O', IMP: 'I', ACUTE: 'I', NONAC: 'I', EMER: 'E', PRENC: 'P', OBSENC: 'O', SS: 'O', HH: 'O', VR: 'O' },
  // Coding.system -> the HL7 coding system name (table 0396); any other URI is kept as is.
  codingSystem: {
    'http://loinc.org': 'LN',
    'http://snomed.info/sct': 'SCT',
    'http://www.ama-assn.org/go/cpt': 'C4',
    'http://unitsofmeasure.org': 'UCUM',
  },
  // ContactPoint.use -> XTN-2 (table 0201).
  telecomUse: { home: 'PRN', work: 'WPN', mobile: 'ORN', temp: 'PRN', old: 'PRN' },
};

const HEADER = { sendingApplication: 'EDGEPUSH' };

/** PID, the same in ORM and ADT. */
const PID: SegmentRule = {
  segment: 'PID',
  fields: {
    '1': '1',
    '3': { each: '$.patient.identifier', value: [{ path: '@.value' }, '', '', { path: '@.system' }, { path: '@.type.coding[0].code' }] },
    '5': { each: '$.patient.name', value: { path: '@', format: 'name' } },
    '7': { path: '$.patient.birthDate', format: 'date' },
    '8': { path: '$.patient.gender', lookup: 'sex' },
    '11': { each: '$.patient.address', value: { path: '@', format: 'address' } },
    '13': {
      each: "$.patient.telecom[?(@.system=='phone')]",
      value: [{ path: '@.value' }, { path: '@.use', lookup: 'telecomUse' }, 'PH'],
    },
    '14': {
      each: "$.patient.telecom[?(@.system=='email')]",
      value: ['', 'NET', 'Internet', { path: '@.value' }],
    },
  },
};

const PV1_FIELDS: Record<string, FieldRule> = {
  '1': '1',
  '2': { path: '$.encounter.class.code', lookup: 'patientClass' },
  '19': { path: '$.encounter.identifier[0].value' },
  '44': { path: '$.encounter.period.start', format: 'datetime' },
  '45': { path: '$.encounter.period.end', format: 'datetime' },
};

/** XCN: id^family^given. */
const ORDERING_PROVIDER: FieldRule = [
  { path: '$.practitioner.identifier[0].value' },
  { path: '$.practitioner.name[0].family' },
  { path: '$.practitioner.name[0].given[0]' },
];

/** EI: entity id^namespace id. */
const PLACER: FieldRule = [{ path: '$.order.placerNumber', required: true }, { path: '$.order.placerSystem' }];

/** CWE: code^text^coding system. */
const SERVICE: FieldRule = [
  { path: '$.serviceRequest.code.coding[0].code', required: true },
  { path: '$.serviceRequest.code.coding[0].display' },
  { path: '$.serviceRequest.code.coding[0].system', lookup: 'codingSystem' },
];

export const ORM_O01: TemplateDocument = {
  target: 'hl7v2',
  messageType: 'ORM^O01^ORM_O01',
  version: '2.5.1',
  description: 'FHIR R4 ServiceRequest (+ Patient, Practitioner, Encounter) -> ORM^O01',
  header: HEADER,
  lookups: LOOKUPS,
  segments: [
    PID,
    { segment: 'PV1', when: '$.encounter', fields: PV1_FIELDS },
    {
      segment: 'ORC',
      fields: {
        '1': { path: '$.serviceRequest.status', lookup: 'orderControl', default: 'NW' },
        '2': PLACER,
        '9': { path: '$.serviceRequest.authoredOn', format: 'datetime' },
        '12': ORDERING_PROVIDER,
      },
    },
    {
      segment: 'TQ1',
      fields: {
        '1': '1',
        '7': { path: '$.serviceRequest.occurrenceDateTime', format: 'datetime' },
        '9': [{ path: '$.serviceRequest.priority', lookup: 'priority', default: 'R' }],
      },
    },
    {
      segment: 'OBR',
      fields: { '1': '1', '2': PLACER, '4': SERVICE, '16': ORDERING_PROVIDER },
    },
    { segment: 'NTE', each: '$.serviceRequest.note', fields: { '1': { setId: true }, '2': 'P', '3': { path: '@.text' } } },
  ],
};

function adt(trigger: 'A04' | 'A08'): TemplateDocument {
  return {
    target: 'hl7v2',
    // A04 and A08 share the ADT_A01 structure.
    messageType: `ADT^${trigger}^ADT_A01`,
    version: '2.5.1',
    description: `FHIR R4 Patient (+ Encounter) -> ADT^${trigger}`,
    header: HEADER,
    lookups: LOOKUPS,
    segments: [
      { segment: 'EVN', fields: { '2': { path: '$.recordedAt', format: 'datetime', required: true } } },
      PID,
      // PV1 is required in ADT_A01: N (not applicable) when no Encounter came with the Patient.
      { segment: 'PV1', fields: { ...PV1_FIELDS, '2': { path: '$.encounter.class.code', lookup: 'patientClass', default: 'N' } } },
    ],
  };
}

export const ADT_A04 = adt('A04');
export const ADT_A08 = adt('A08');

/** ServiceRequest -> ASTM H, P, O, C (notes), L for an analyser (LIS02-A2). */
export const ASTM_ORDER: TemplateDocument = {
  target: 'astm',
  description: 'FHIR R4 ServiceRequest (+ Patient, Practitioner) -> ASTM order (H, P, O, C, L)',
  header: { sender: 'EDGEPUSH' },
  lookups: LOOKUPS,
  records: [
    {
      record: 'P',
      fields: {
        '2': '1',
        '3': { path: '$.patient.identifier[0].value' },
        '6': { path: '$.patient.name', format: 'name' },
        '8': { path: '$.patient.birthDate', format: 'date' },
        '9': { path: '$.patient.gender', lookup: 'astmSex' },
        '11': { path: '$.patient.address', format: 'address' },
      },
    },
    {
      record: 'O',
      fields: {
        '2': '1',
        '3': { path: '$.order.placerNumber', required: true },
        '5': { each: '$.serviceRequest.code.coding', value: ['', '', '', { path: '@.code', required: true }] },
        '6': { path: '$.serviceRequest.priority', lookup: 'priority', default: 'R' },
        '7': { path: '$.serviceRequest.authoredOn', format: 'datetime' },
        '12': { path: '$.serviceRequest.status', lookup: 'astmAction', default: 'N' },
        '17': [{ path: '$.practitioner.name[0].family' }, { path: '$.practitioner.name[0].given[0]' }],
        '26': 'O',
      },
    },
    { record: 'C', each: '$.serviceRequest.note', fields: { '2': { setId: true }, '3': 'L', '4': { path: '@.text' }, '5': 'G' } },
  ],
};
