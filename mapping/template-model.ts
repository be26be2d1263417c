/**
 * A mapping template: a JSON document that says how to render a message from JSON data.
 * docs/MAPPING.md describes it for users; validate-template.ts enforces it when it is stored.
 *
 *   { "target": "hl7v2", "messageType": "ORM^O01^ORM_O01", "version": "2.5.1",
 *     "timeZone": "Europe/Berlin",
 *     "header": { "sendingApplication": "EDGEPUSH", "receivingFacility": { "path": "$.site" } },
 *     "lookups": { "sex": { "male": "M", "female": "F", "*": "U" } },
 *     "segments": [
 *       { "segment": "PID", "fields": { "1": "1", "5": [{ "path": "$.family" }, { "path": "$.given" }] } },
 *       { "segment": "OBX", "each": "$.results", "fields": { "1": { "setId": true }, "5": { "path": "@.value" } } } ] }
 *
 * `records` replaces `segments` for `astm` (H and L are written by the renderer).
 */

export type Target = 'hl7v2' | 'astm';

/** Formats a path value: dates in the site's zone, a FHIR HumanName or address as components. */
export type ValueFormat = 'date' | 'datetime' | 'upper' | 'lower' | 'name' | 'address';

export interface PathRule {
  path: string;
  format?: ValueFormat;
  /** A table of `lookups`: the value is replaced by its entry, else the table's `*`, else kept. */
  lookup?: string;
  /** Used when the path finds nothing. */
  default?: string;
  /** The path must find a value (MISSING_DATA otherwise). */
  required?: boolean;
  /** When the path finds several values: join them with this text (else the first is used). */
  join?: string;
}

/**
 * One value: a string is a constant, null is HL7's explicit null (`""`), `{ setId: true }` is the
 * 1-based position in the nearest repeat, `{ const }` a constant spelled out.
 */
export type ValueRule = string | null | PathRule | { setId: true } | { const: string };

/** A component: a value, or (HL7 only) its subcomponents. */
export type ComponentRule = ValueRule | ValueRule[];

/** Repetitions of a field, one per item of `each` (evaluated with `@` = the item). */
export interface RepeatRule {
  each: string;
  value: ValueRule | ComponentRule[];
}

/** A field: a value, its components (an array), or repetitions. */
export type FieldRule = ValueRule | ComponentRule[] | RepeatRule;

interface Repeatable {
  /** Emit once per item of this array (`@` = the item); `{ setId: true }` counts them. */
  each?: string;
  /** Emit only when this path finds a value. */
  when?: string;
}

export interface SegmentRule extends Repeatable {
  /** HL7: the segment name (not MSH: the header is built from `header`). */
  segment: string;
  /** Field number (as the standard numbers them) -> rule. */
  fields: Record<string, FieldRule>;
}

export interface RecordRule extends Repeatable {
  /** ASTM: the record type letter (P, O, R, C, M, S, Q; H and L are written by the renderer). */
  record: string;
  /** Field number (2 and up; 1 is the type) -> rule. */
  fields: Record<string, FieldRule>;
}

export interface GroupRule<T> extends Repeatable {
  group: (T | GroupRule<T>)[];
}

export type HeaderKey =
  | 'sendingApplication'
  | 'sendingFacility'
  | 'receivingApplication'
  | 'receivingFacility'
  | 'processingId'
  | 'acceptAckType'
  | 'applicationAckType'
  | 'characterSet'
  | 'sender'
  | 'receiver';

export interface TemplateDocument {
  target: Target;
  /** HL7: MSH-9 as `code^trigger^structure` (structure optional). */
  messageType?: string;
  /** HL7: MSH-12 (default 2.5.1). ASTM: H-13 (default LIS2-A2). */
  version?: string;
  /** IANA zone dates and MSH-7 are written in (default: the caller's site zone, else UTC). */
  timeZone?: string;
  description?: string;
  header?: Partial<Record<HeaderKey, ValueRule>>;
  lookups?: Record<string, Record<string, string>>;
  segments?: (SegmentRule | GroupRule<SegmentRule>)[];
  records?: (RecordRule | GroupRule<RecordRule>)[];
}

/** A stored template. */
export interface TemplateRecord {
  name: string;
  document: TemplateDocument;
  /** sha256 hex of the document's JSON: part of a templated push's idempotency hash. */
  hash: string;
  createdAt: number;
  updatedAt: number;
}

export const TEMPLATE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const TEMPLATE_NAME_RULE = '1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit';

export const HL7_HEADER_KEYS: readonly HeaderKey[] = [
  'sendingApplication',
  'sendingFacility',
  'receivingApplication',
  'receivingFacility',
  'processingId',
  'acceptAckType',
  'applicationAckType',
  'characterSet',
];
export const ASTM_HEADER_KEYS: readonly HeaderKey[] = ['sender', 'receiver', 'processingId'];
