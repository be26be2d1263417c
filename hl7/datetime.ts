/**
 * HL7 v2 date/time values in a site's time zone.
 *
 * DTM is `YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ]`. We always write the UTC offset (unless
 * told not to), so a receiver never has to guess the zone, and we write the local wall-clock time
 * of the site's zone (an IANA name such as 'Europe/Berlin'), because that is what clinicians and
 * most receivers expect. The offset is the zone's offset at that instant, taken from
 * Intl.DateTimeFormat (the ICU time-zone database bundled with Node), so DST transitions are
 * right on both sides. Fractions are zero-padded and truncated, never rounded (rounding could
 * carry into the next second): 5 ms is `.005` at millisecond precision, `.0` at tenths. A Date
 * holds milliseconds, so three fractional digits is the finest precision offered (HL7 allows four).
 *
 * Offsets are written in whole minutes. For the few historical zones with second-level offsets
 * (local mean time before ~1900) the offset is rounded to the minute and the wall-clock time is
 * computed from that rounded offset, so the value still names the exact instant.
 *
 * DT is `YYYY[MM[DD]]`: the site's local date, no offset (DT has none).
 */
import { Hl7Error } from './hl7-errors';

export type DtmPrecision = 'year' | 'month' | 'day' | 'hour' | 'minute' | 'second' | 'tenth' | 'hundredth' | 'millisecond';
export type DtPrecision = 'year' | 'month' | 'day';

export interface DtmOptions {
  /** IANA time zone of the site, e.g. 'Europe/Berlin'; default 'UTC'. */
  timeZone?: string;
  /** Default 'second'. */
  precision?: DtmPrecision;
  /** Append the +/-ZZZZ offset; default true. */
  offset?: boolean;
}

export interface DtOptions {
  timeZone?: string;
  /** Default 'day'. */
  precision?: DtPrecision;
}

/** Characters of `YYYYMMDDHHMMSS.sss` kept per precision. */
const LENGTH: Record<DtmPrecision, number> = {
  year: 4,
  month: 6,
  day: 8,
  hour: 10,
  minute: 12,
  second: 14,
  tenth: 16,
  hundredth: 17,
  millisecond: 18,
};

// Years 1..9999 in every zone: DTM has four year digits.
const MIN_INSTANT = (() => {
  const d = new Date(0);
  d.setUTCFullYear(1, 0, 2);
  d.setUTCHours(0, 0, 0, 0);
  return d.getTime();
})();
const MAX_INSTANT = Date.UTC(9999, 11, 30);

export function formatDtm(date: Date, options: DtmOptions = {}): string {
  const precision = options.precision ?? 'second';
  const length = LENGTH[precision];
  if (length === undefined) throw new Hl7Error('INVALID_VALUE', `unknown DTM precision ${JSON.stringify(precision)}`);
  const ms = checkInstant(date);
  const offset = offsetMinutesAt(ms, options.timeZone ?? 'UTC');
  const text = wallClock(ms + offset * 60_000).slice(0, length);
  return options.offset === false ? text : text + formatOffset(offset);
}

export function formatDt(date: Date, options: DtOptions = {}): string {
  const precision = options.precision ?? 'day';
  const length = LENGTH[precision];
  if (length === undefined || length > 8)
    throw new Hl7Error('INVALID_VALUE', `DT precision must be year, month or day, got ${JSON.stringify(precision)}`);
  const ms = checkInstant(date);
  return wallClock(ms + offsetMinutesAt(ms, options.timeZone ?? 'UTC') * 60_000).slice(0, length);
}

/** The zone's UTC offset at that instant, in whole minutes (east positive: Kolkata +330). */
export function timeZoneOffsetMinutes(date: Date, timeZone: string): number {
  return offsetMinutesAt(checkInstant(date), timeZone);
}

/** Throws INVALID_TIME_ZONE unless the name is a zone Intl knows (IANA names, 'UTC'). */
export function checkTimeZone(timeZone: string): void {
  formatterFor(timeZone);
}

/** `+HHMM` / `-HHMM`. */
export function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return sign + pad2(Math.floor(abs / 60)) + pad2(abs % 60);
}

export interface ParsedDtm {
  /** The instant. Missing parts are the start of the period (20240301 → 1 March 00:00). */
  date: Date;
  /** As written, or the zone's offset when the value had none. */
  offsetMinutes: number;
  precision: DtmPrecision;
}

const DTM = /^(\d{4})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:\.(\d{1,4}))?)?)?)?)?)?([+-]\d{4})?$/;

/**
 * Reads a DTM (or DT, or TS's first component). A value without an offset is local time in
 * `timeZone` (default 'UTC'); in a DST gap or overlap the offset in force just before the
 * transition is used. Throws INVALID_DATE for anything else.
 */
export function parseDtm(text: string, options: { timeZone?: string } = {}): ParsedDtm {
  const m = DTM.exec(text);
  if (!m) throw new Hl7Error('INVALID_DATE', `not an HL7 DTM value: ${JSON.stringify(text)}`);
  const [, y, mo, d, h, mi, s, frac, off] = m;
  const fields = [Number(y), Number(mo ?? 1), Number(d ?? 1), Number(h ?? 0), Number(mi ?? 0), Number(s ?? 0)];
  // Digits, not floating point: '57' is 570 ms exactly; a fourth digit is below a Date's resolution.
  const millis = frac === undefined ? 0 : Number(frac.padEnd(3, '0').slice(0, 3));
  const local = utcMs(fields[0], fields[1], fields[2], fields[3], fields[4], fields[5], millis);
  const back = new Date(local);
  if (back.getUTCMonth() + 1 !== fields[1] || back.getUTCDate() !== fields[2] || fields[3] > 23 || fields[4] > 59 || fields[5] > 59) {
    throw new Hl7Error('INVALID_DATE', `not a valid date/time: ${JSON.stringify(text)}`);
  }
  const precision = precisionOf(text.length - (off ? 5 : 0), frac?.length ?? 0);
  let offsetMinutes: number;
  if (off) {
    const sign = off[0] === '-' ? -1 : 1;
    const hh = Number(off.slice(1, 3));
    const mm = Number(off.slice(3, 5));
    if (hh > 23 || mm > 59) throw new Hl7Error('INVALID_DATE', `not a valid UTC offset: ${JSON.stringify(off)}`);
    offsetMinutes = sign * (hh * 60 + mm);
  } else {
    // Local time in the zone: guess from the offset in force a day earlier, then check the guess.
    // A consistent guess is right (in an overlap it is the earlier, pre-transition reading); an
    // inconsistent one means a gap, read with the pre-transition offset (02:30 → 03:30 summer time).
    const zone = options.timeZone ?? 'UTC';
    const before = offsetMinutesAt(local - 86_400_000, zone);
    const guess = offsetMinutesAt(local - before * 60_000, zone);
    offsetMinutes = offsetMinutesAt(local - guess * 60_000, zone) === guess ? guess : before;
  }
  return { date: new Date(local - offsetMinutes * 60_000), offsetMinutes, precision };
}

function precisionOf(digitsAndDot: number, fracDigits: number): DtmPrecision {
  if (fracDigits >= 3) return 'millisecond';
  if (fracDigits === 2) return 'hundredth';
  if (fracDigits === 1) return 'tenth';
  const byLength: Record<number, DtmPrecision> = { 4: 'year', 6: 'month', 8: 'day', 10: 'hour', 12: 'minute', 14: 'second' };
  return byLength[digitsAndDot] ?? 'second';
}

function checkInstant(date: Date): number {
  const ms = date instanceof Date ? date.getTime() : NaN;
  if (!Number.isFinite(ms) || ms < MIN_INSTANT || ms > MAX_INSTANT) {
    throw new Hl7Error('INVALID_DATE', 'a DTM needs a valid Date between the years 1 and 9999');
  }
  return ms;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f) return f;
  try {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      era: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    throw new Hl7Error('INVALID_TIME_ZONE', `unknown time zone ${JSON.stringify(timeZone)}: use an IANA name such as "Europe/Berlin"`);
  }
  formatters.set(timeZone, f);
  return f;
}

/** The zone's offset at instant `ms`, rounded to whole minutes. */
function offsetMinutesAt(ms: number, timeZone: string): number {
  if (timeZone === 'UTC') return 0;
  const parts = formatterFor(timeZone).formatToParts(new Date(ms));
  let year = 0;
  let month = 1;
  let day = 1;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let bc = false;
  for (const p of parts) {
    if (p.type === 'year') year = Number(p.value);
    else if (p.type === 'month') month = Number(p.value);
    else if (p.type === 'day') day = Number(p.value);
    else if (p.type === 'hour') hour = Number(p.value);
    else if (p.type === 'minute') minute = Number(p.value);
    else if (p.type === 'second') second = Number(p.value);
    else if (p.type === 'era') bc = p.value.startsWith('B');
  }
  if (bc) year = 1 - year;
  const wall = utcMs(year, month, day, hour, minute, second, 0);
  const wholeSecond = Math.floor(ms / 1000) * 1000;
  return Math.round((wall - wholeSecond) / 60_000);
}

/** Date.UTC without its 0..99 → 1900..1999 year mapping. */
function utcMs(year: number, month: number, day: number, hour: number, minute: number, second: number, ms: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, ms);
  return d.getTime();
}

/** `YYYYMMDDHHMMSS.sss` of a UTC-shifted instant. */
function wallClock(ms: number): string {
  const d = new Date(ms);
  return (
    String(d.getUTCFullYear()).padStart(4, '0') +
    pad2(d.getUTCMonth() + 1) +
    pad2(d.getUTCDate()) +
    pad2(d.getUTCHours()) +
    pad2(d.getUTCMinutes()) +
    pad2(d.getUTCSeconds()) +
    '.' +
    String(d.getUTCMilliseconds()).padStart(3, '0')
  );
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}
