/**
 * ASTM E1394 / CLSI LIS02-A2 records: small, exact helpers, not a full parser.
 *
 * A message is records separated by CR: H (header) first, L (terminator) last, and between them
 * P (patient), O (order), R (result), C (comment), Q (request / host query), M, S. The header
 * declares the delimiters in its first characters, `H|\^&`: field `|`, repeat `\`, component `^`,
 * escape `&`. Field 1 of every record is its type letter, so `fields[0]` is the type and
 * `fields[n - 1]` is field n, as the standard numbers them. In H, field 2 is the delimiter
 * definition itself and is kept as written.
 *
 * Escapes (LIS02-A2 §7.1.4): &F& field, &S& component, &R& repeat, &E& escape. Other escape
 * sequences (&H&, &N&, &Xhh&, …) are kept as they are.
 */

export interface AstmDelimiters {
  field: string;
  repeat: string;
  component: string;
  escape: string;
}

export const DEFAULT_DELIMITERS: AstmDelimiters = { field: '|', repeat: '\\', component: '^', escape: '&' };

export class AstmRecordError extends Error {
  readonly code = 'INVALID_ASTM';
  constructor(message: string) {
    super(message);
    this.name = 'AstmRecordError';
  }
}

/**
 * LIS01-A2 §6.6 restricted characters, never inside message text (CR is allowed: it ends a
 * record): SOH STX ETX EOT ENQ ACK DLE NAK SYN ETB LF DC1 DC2 DC3 DC4.
 */
export const RESTRICTED_BYTES: ReadonlySet<number> = new Set([
  0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x10, 0x15, 0x16, 0x17, 0x0a, 0x11, 0x12, 0x13, 0x14,
]);

/**
 * Checks a message a caller wants sent: H first (with its delimiters), L last, no restricted
 * control character. Line endings are normalised to CR first. Returns the normalised text and
 * H-3, the message control id, when there is one.
 */
export function checkAstmMessage(text: string): { text: string; controlId?: string } {
  const records = splitRecords(text);
  if (records.length === 0) throw new AstmRecordError('the message is empty');
  const d = readDelimiters(records[0]);
  if (!/^L(\||$)/.test(records[records.length - 1].replace(d.field, '|'))) {
    throw new AstmRecordError('the message must end with an L (terminator) record');
  }
  const normalised = records.map((r) => r + '\r').join('');
  for (let i = 0; i < normalised.length; i++) {
    const c = normalised.charCodeAt(i);
    if (RESTRICTED_BYTES.has(c))
      throw new AstmRecordError(`the message holds a restricted control character 0x${c.toString(16).padStart(2, '0')} at offset ${i}`);
  }
  const header = parseRecord(records[0], d);
  const controlId = header.fields[2];
  return controlId ? { text: normalised, controlId } : { text: normalised };
}

/** Reads the delimiters from the header record (`H|\^&…`). */
export function readDelimiters(header: string): AstmDelimiters {
  if (header[0] !== 'H' || header.length < 5)
    throw new AstmRecordError('the message must start with an H record declaring its delimiters (H|\\^&)');
  const [field, repeat, component, escape] = [header[1], header[2], header[3], header[4]];
  const set = new Set([field, repeat, component, escape]);
  if (set.size !== 4 || /[A-Za-z0-9\r\n]/.test(field + repeat + component + escape)) {
    throw new AstmRecordError(
      `the H record's delimiters ${JSON.stringify(header.slice(1, 5))} must be four distinct punctuation characters`,
    );
  }
  return { field, repeat, component, escape };
}

/** Splits message text into records; accepts CR, LF or CRLF endings and skips blank lines. */
export function splitRecords(text: string): string[] {
  return text.split(/\r\n|\r|\n/).filter((r) => r.length > 0);
}

export function unescapeValue(value: string, d: AstmDelimiters): string {
  if (!value.includes(d.escape)) return value;
  const e = d.escape;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch === e && value[i + 2] === e) {
      const code = value[i + 1];
      const mapped = code === 'F' ? d.field : code === 'S' ? d.component : code === 'R' ? d.repeat : code === 'E' ? d.escape : undefined;
      if (mapped !== undefined) {
        out += mapped;
        i += 2;
        continue;
      }
    }
    out += ch;
  }
  return out;
}

export function escapeValue(value: string, d: AstmDelimiters): string {
  let out = '';
  for (const ch of value) {
    if (ch === d.escape) out += `${d.escape}E${d.escape}`;
    else if (ch === d.field) out += `${d.escape}F${d.escape}`;
    else if (ch === d.component) out += `${d.escape}S${d.escape}`;
    else if (ch === d.repeat) out += `${d.escape}R${d.escape}`;
    else if (ch === '\r' || ch === '\n')
      out += ' '; // a record break inside a value would split the record
    else out += ch;
  }
  return out;
}

/** A field read structurally: repeats of components, each unescaped. */
export type AstmField = string[][];

export interface AstmRecord {
  /** H, P, O, R, C, Q, L, M, S. */
  type: string;
  /** The record as received (escaped), without its CR. */
  raw: string;
  /** Field n of the standard is fields[n - 1]; each field as written (escaped). */
  fields: string[];
}

export function parseRecord(raw: string, d: AstmDelimiters): AstmRecord {
  const fields = raw.split(d.field);
  if (fields[0] === 'H') {
    // H's second field is the delimiter definition: `\^&` would otherwise split as data.
    const rest = raw.slice(5);
    const after = rest.startsWith(d.field) ? rest.slice(1).split(d.field) : [];
    return { type: 'H', raw, fields: ['H', raw.slice(2, 5), ...after] };
  }
  return { type: fields[0].slice(-1), raw, fields };
}

/** Field n (1-based, as the standard numbers them) as repeats of unescaped components. */
export function readField(record: AstmRecord, n: number, d: AstmDelimiters): AstmField {
  const value = record.fields[n - 1];
  if (value === undefined || value === '') return [];
  if (record.type === 'H' && n === 2) return [[value]];
  return value.split(d.repeat).map((rep) => rep.split(d.component).map((c) => unescapeValue(c, d)));
}

/** The whole message, records parsed. Throws AstmRecordError when it does not start with H. */
export function parseMessage(text: string): { delimiters: AstmDelimiters; records: AstmRecord[] } {
  const lines = splitRecords(text);
  if (lines.length === 0) throw new AstmRecordError('the message is empty');
  const delimiters = readDelimiters(lines[0]);
  return { delimiters, records: lines.map((l) => parseRecord(l, delimiters)) };
}

/**
 * The message as JSON, for delivery beside the raw text: each record's type and its fields as
 * repeats of unescaped components (trailing empty fields dropped).
 */
export function messageToJson(text: string): { type: string; fields: AstmField[] }[] {
  const { delimiters, records } = parseMessage(text);
  return records.map((r) => {
    const fields: AstmField[] = [];
    for (let n = 1; n <= r.fields.length; n++) fields.push(readField(r, n, delimiters));
    while (fields.length > 1 && fields[fields.length - 1].length === 0) fields.pop();
    return { type: r.type, fields };
  });
}

/** What an analyser asks in a host query (one Q record, LIS02-A2 §12). */
export interface AstmHostQuery {
  /** Q-2, the record's sequence number. */
  sequence: string;
  /**
   * Q-3, each repeat's component 2: the specimen ids the analyser asks orders for, where
   * LIS02-A2 puts them. Instruments that put the id elsewhere: read `startRange`.
   */
  specimenIds: string[];
  /** Q-3 as written: repeats of components (patient id ^ specimen id ^ vendor parts…). */
  startRange: AstmField;
  /** Q-5, each repeat's test code (component 4), or `ALL`. */
  tests: string[];
  /** Q-13, the request information status code (O: orders, F: final results, …), if given. */
  status?: string;
}

/**
 * The host queries in a message an analyser sent: one entry per Q record, none when the message
 * is not a query (results, orders). Throws AstmRecordError when the text has no H record.
 */
export function readHostQuery(text: string): AstmHostQuery[] {
  const { delimiters: d, records } = parseMessage(text);
  return records
    .filter((r) => r.type === 'Q')
    .map((q) => {
      const startRange = readField(q, 3, d);
      const tests = readField(q, 5, d)
        .map((rep) => (rep.length >= 4 ? rep[3] : rep[0]))
        .filter((t): t is string => Boolean(t));
      const status = readField(q, 13, d)[0]?.[0];
      const query: AstmHostQuery = {
        sequence: readField(q, 2, d)[0]?.[0] ?? '',
        specimenIds: startRange.map((rep) => rep[1] ?? '').filter(Boolean),
        startRange,
        tests,
      };
      if (status) query.status = status;
      return query;
    });
}

// ---- building ----

/** A field value to build: a string, components, or repeats of components. */
export type FieldValue = string | undefined | null | (string | undefined)[] | (string | undefined)[][];

/** Builds one record from its type and fields 2..n (escaping every value). */
export function buildRecord(type: string, fields: FieldValue[], d: AstmDelimiters = DEFAULT_DELIMITERS): string {
  const parts = [type, ...fields.map((f) => buildField(f, d))];
  while (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  return parts.join(d.field);
}

function buildField(value: FieldValue, d: AstmDelimiters): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return escapeValue(value, d);
  const repeats: (string | undefined)[][] =
    value.length > 0 && Array.isArray(value[0]) ? (value as (string | undefined)[][]) : [value as (string | undefined)[]];
  return repeats
    .map((components) => {
      const parts = components.map((c) => (c === undefined ? '' : escapeValue(c, d)));
      while (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
      return parts.join(d.component);
    })
    .join(d.repeat);
}

/** Builds a record from fields named by their standard numbers (2 and up): `{ 2: '1', 26: 'O' }`. */
export function buildRecordAt(type: string, fields: Record<number, FieldValue>, d: AstmDelimiters = DEFAULT_DELIMITERS): string {
  const numbers = Object.keys(fields).map(Number);
  if (numbers.some((n) => !Number.isInteger(n) || n < 2))
    throw new AstmRecordError(`field numbers start at 2 (1 is the record type), got ${numbers.join(', ')}`);
  const list: FieldValue[] = [];
  for (let n = 2; n <= Math.max(1, ...numbers); n++) list.push(fields[n]);
  return buildRecord(type, list, d);
}

/** The H record: its delimiter definition as written, then fields 3..n (escaped). */
export function buildHeader(fieldsFrom3: FieldValue[], d: AstmDelimiters = DEFAULT_DELIMITERS): string {
  const rest = buildRecord('', fieldsFrom3, d);
  return `H${d.field}${d.repeat}${d.component}${d.escape}${rest}`;
}

/** ASTM date/time: YYYYMMDDHHMMSS in the site's local time as given (LIS02-A2 carries no offset). */
export function astmDateTime(date: Date, timeZone = 'UTC'): string {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(date);
  const get = (t: string) => parts.find((p) => p.type === t)!.value;
  return `${get('year')}${get('month')}${get('day')}${get('hour')}${get('minute')}${get('second')}`;
}

export interface AstmOrderTest {
  /** Universal test id: the instrument's test code (component 4 of the field). */
  code: string;
  /** Optional dilution or other instrument parameters (components 5+). */
  parameters?: string[];
}

export interface AstmOrderMessage {
  sender?: { name: string; version?: string };
  receiver?: string;
  /** P = production (default), T = training, D = debugging, Q = quality control. */
  processingId?: 'P' | 'T' | 'D' | 'Q';
  timestamp?: Date;
  timeZone?: string;
  patients: {
    practiceId?: string;
    labId?: string;
    name?: { family?: string; given?: string; middle?: string };
    birthDate?: string;
    sex?: 'M' | 'F' | 'U';
    orders: {
      specimenId: string;
      tests: AstmOrderTest[];
      /** S stat, A asap, R routine. */
      priority?: 'S' | 'A' | 'R';
      collectedAt?: Date;
      /** N new (default), A add, C cancel, P pending, Q quality control. */
      actionCode?: 'N' | 'A' | 'C' | 'P' | 'Q';
      specimenType?: string;
      physician?: string;
    }[];
  }[];
}

/**
 * Builds an order message: H, then P and its O records, then L, CR after every record.
 * Field positions follow LIS02-A2 §§7–9 (H: 5 sender, 10 receiver, 12 processing id, 13 version,
 * 14 date/time; P: 2 seq, 3 practice id, 4 lab id, 6 name, 8 birth date, 9 sex; O: 2 seq,
 * 3 specimen id, 5 universal test id, 6 priority, 8 collection time, 12 action code,
 * 16 specimen descriptor, 17 ordering physician, 26 report type O).
 */
export function buildOrderMessage(msg: AstmOrderMessage): string {
  const d = DEFAULT_DELIMITERS;
  const tz = msg.timeZone ?? 'UTC';
  const at = astmDateTime(msg.timestamp ?? new Date(), tz);
  const records: string[] = [
    buildHeader(
      [
        undefined,
        undefined,
        msg.sender ? [msg.sender.name, msg.sender.version] : undefined,
        undefined,
        undefined,
        undefined,
        undefined,
        msg.receiver,
        undefined,
        msg.processingId ?? 'P',
        'LIS2-A2',
        at,
      ],
      d,
    ),
  ];
  msg.patients.forEach((p, pi) => {
    records.push(
      buildRecordAt('P', {
        2: String(pi + 1),
        3: p.practiceId,
        4: p.labId,
        6: p.name ? [p.name.family, p.name.given, p.name.middle] : undefined,
        8: p.birthDate,
        9: p.sex,
      }),
    );
    p.orders.forEach((o, oi) => {
      records.push(
        buildRecordAt('O', {
          2: String(oi + 1),
          3: o.specimenId,
          5: o.tests.map((t) => ['', '', '', t.code, ...(t.parameters ?? [])]),
          6: o.priority ?? 'R',
          8: o.collectedAt ? astmDateTime(o.collectedAt, tz) : undefined,
          12: o.actionCode ?? 'N',
          16: o.specimenType,
          17: o.physician,
          26: 'O',
        }),
      );
    });
  });
  records.push(buildRecord('L', ['1', 'N'], d));
  return records.map((r) => r + '\r').join('');
}
