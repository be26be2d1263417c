/**
 * Formats of path values: FHIR/ISO 8601 dates to HL7 DT/DTM (in the site's zone, with its UTC
 * offset) or ASTM date-times (local, no offset: LIS02-A2 has none), and HumanName / Address to
 * components. A value that cannot be read as asked is WRONG_DATA_TYPE, naming the rule.
 */
import { formatDt, formatDtm } from '../hl7/datetime';
import { MappingError } from './mapping-errors';
import type { Target } from './template-model';

const DATE_ONLY = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

export function formatDate(value: string, kind: 'date' | 'datetime', target: Target, timeZone: string, at: string): string {
  const dateOnly = DATE_ONLY.exec(value);
  // A date without a time names a calendar day, not an instant: written as given, in any zone.
  if (dateOnly) return dateOnly[1] + (dateOnly[2] ?? '') + (dateOnly[3] ?? '');
  const m = DATE_TIME.exec(value);
  const instant = m ? new Date(value) : undefined;
  if (!m || !instant || Number.isNaN(instant.getTime())) {
    throw new MappingError(
      'WRONG_DATA_TYPE',
      at,
      `${JSON.stringify(value.slice(0, 40))} is not an ISO 8601 date (2024-07-01) or date-time with a UTC offset (2024-07-01T12:00:00+02:00)`,
    );
  }
  if (kind === 'date') return formatDt(instant, { timeZone });
  // ASTM: local wall-clock time, no offset (LIS02-A2 has none).
  if (target === 'astm') return formatDtm(instant, { timeZone, offset: false });
  return formatDtm(instant, { timeZone, precision: m[7] ? 'millisecond' : m[6] ? 'second' : 'minute' });
}

type Obj = Record<string, unknown>;

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const texts = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

function one(value: unknown, what: string, at: string): Obj {
  const list: unknown[] | undefined = Array.isArray(value) ? value : undefined;
  const v = list ? (list.find((x) => (x as Obj | null)?.use === 'official') ?? list[0]) : value;
  if (typeof v !== 'object' || v === null) throw new MappingError('WRONG_DATA_TYPE', at, `expected a ${what} object, got ${typeof v}`);
  return v as Obj;
}

/** FHIR HumanName (or the official one of a list) -> XPN family^given^middle^suffix^prefix (ASTM P-6: the same order). */
export function formatName(value: unknown, at: string): string[] {
  const n = one(value, 'HumanName ({family, given})', at);
  const given = texts(n.given);
  const family = text(n.family) ?? (given.length === 0 ? text(n.text) : undefined);
  return [family ?? '', given[0] ?? '', given.slice(1).join(' '), texts(n.suffix)[0] ?? '', texts(n.prefix)[0] ?? ''];
}

/**
 * FHIR Address -> HL7 XAD street^other^city^state^zip^country, or ASTM (P-11)
 * street^city^state^zip^country.
 */
export function formatAddress(value: unknown, target: Target, at: string): string[] {
  const a = one(value, 'Address ({line, city, ...})', at);
  const line = texts(a.line);
  const tail = [text(a.city) ?? '', text(a.state) ?? '', text(a.postalCode) ?? '', text(a.country) ?? ''];
  return target === 'astm' ? [line.join(' '), ...tail] : [line[0] ?? '', line.slice(1).join(' '), ...tail];
}
