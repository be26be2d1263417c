/**
 * Checks a template document when it is stored (and before every render) and compiles it.
 * Every error names the rule it found wrong (`segments[3].fields[5][1]`), so a user can fix the
 * document without guessing. Unknown keys are errors too: a typo must not silently drop a rule.
 */
import { checkTimeZone } from '../hl7/datetime';
import type { CComponent, CField, CGroup, CompiledTemplate, CRepetition, CSegment, CValue } from './compiled';
import { MappingError } from './mapping-errors';
import { parsePath, PathSyntaxError, type ParsedPath } from './path';
import { ASTM_HEADER_KEYS, HL7_HEADER_KEYS, type TemplateDocument, type ValueFormat } from './template-model';

const TOP_KEYS = ['target', 'messageType', 'version', 'timeZone', 'description', 'header', 'lookups', 'segments', 'records'];
const PATH_KEYS = ['path', 'format', 'lookup', 'default', 'required', 'join'];
const FORMATS: readonly ValueFormat[] = ['date', 'datetime', 'upper', 'lower', 'name', 'address'];
const MESSAGE_TYPE = /^([A-Z0-9]{3})\^([A-Z0-9]{3})(?:\^([A-Z0-9]{3}_[A-Z0-9]{3}))?$/;
const SEGMENT_NAME = /^[A-Z][A-Z0-9]{2}$/;
const ASTM_RECORDS = /^[POCRMSQ]$/;
const MAX_FIELD = 999;

type Obj = Record<string, unknown>;

const bad = (at: string, message: string): MappingError => new MappingError('INVALID_TEMPLATE', at, message);
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function onlyKeys(o: Obj, allowed: readonly string[], at: string): void {
  for (const key of Object.keys(o)) {
    if (!allowed.includes(key)) throw bad(at ? `${at}.${key}` : key, `unknown key; expected one of ${allowed.join(', ')}`);
  }
}

export function compileTemplate(doc: unknown): CompiledTemplate {
  if (!isObj(doc)) throw bad('', 'a template is a JSON object');
  onlyKeys(doc, TOP_KEYS, '');
  const t = doc as unknown as TemplateDocument;
  if (t.target !== 'hl7v2' && t.target !== 'astm') throw bad('target', 'must be "hl7v2" or "astm"');
  const hl7 = t.target === 'hl7v2';
  if (t.description !== undefined && typeof t.description !== 'string') throw bad('description', 'must be text');
  if (t.version !== undefined && (typeof t.version !== 'string' || !/^[\w.-]{1,20}$/.test(t.version))) {
    throw bad('version', 'must be a version such as 2.5.1 (HL7) or LIS2-A2 (ASTM)');
  }
  if (t.timeZone !== undefined) {
    try {
      if (typeof t.timeZone !== 'string') throw new Error();
      checkTimeZone(t.timeZone);
    } catch {
      throw bad('timeZone', `must be an IANA time zone name such as Europe/Berlin, got ${JSON.stringify(t.timeZone)}`);
    }
  }
  let messageType: CompiledTemplate['messageType'];
  if (hl7) {
    const m = typeof t.messageType === 'string' ? MESSAGE_TYPE.exec(t.messageType) : null;
    if (!m) throw bad('messageType', 'must be like ORM^O01^ORM_O01 (code^trigger, structure optional)');
    messageType = m[3] === undefined ? { code: m[1], trigger: m[2] } : { code: m[1], trigger: m[2], structure: m[3] };
  } else if (t.messageType !== undefined) {
    throw bad('messageType', 'is for hl7v2 templates only');
  }

  const lookups = checkLookups(t.lookups);
  const ctx: Ctx = { hl7, lookups };

  const header: Record<string, CValue> = {};
  if (t.header !== undefined) {
    if (!isObj(t.header)) throw bad('header', 'must be an object');
    onlyKeys(t.header, hl7 ? HL7_HEADER_KEYS : ASTM_HEADER_KEYS, 'header');
    for (const [key, rule] of Object.entries(t.header)) header[key] = compileValue(rule, `header.${key}`, ctx, false);
  }

  const listKey = hl7 ? 'segments' : 'records';
  const other = hl7 ? 'records' : 'segments';
  if ((t as unknown as Obj)[other] !== undefined) throw bad(other, `a ${t.target} template has ${listKey}, not ${other}`);
  const list = (t as unknown as Obj)[listKey];
  if (!Array.isArray(list) || list.length === 0) throw bad(listKey, `must be a non-empty array of ${hl7 ? 'segment' : 'record'} rules`);
  const body = list.map((rule, i) => compileEntry(rule, `${listKey}[${i}]`, ctx));

  return { target: t.target, messageType, version: t.version ?? (hl7 ? '2.5.1' : 'LIS2-A2'), timeZone: t.timeZone, header, body };
}

interface Ctx {
  hl7: boolean;
  lookups: Record<string, Record<string, string>>;
}

function checkLookups(lookups: unknown): Record<string, Record<string, string>> {
  if (lookups === undefined) return {};
  if (!isObj(lookups)) throw bad('lookups', 'must be an object of tables');
  for (const [name, table] of Object.entries(lookups)) {
    if (!isObj(table)) throw bad(`lookups.${name}`, 'must be an object mapping codes to codes');
    for (const [k, v] of Object.entries(table)) if (typeof v !== 'string') throw bad(`lookups.${name}.${k}`, 'must be text');
  }
  return lookups as Record<string, Record<string, string>>;
}

function path(text: unknown, at: string): ParsedPath {
  if (typeof text !== 'string') throw bad(at, 'must be a path such as $.patient.name[0].family');
  try {
    return parsePath(text);
  } catch (err) {
    if (err instanceof PathSyntaxError) throw bad(at, err.message);
    throw err;
  }
}

function compileEntry(rule: unknown, at: string, ctx: Ctx): CSegment | CGroup {
  if (!isObj(rule)) throw bad(at, 'must be an object');
  const each = rule.each === undefined ? undefined : path(rule.each, `${at}.each`);
  const when = rule.when === undefined ? undefined : path(rule.when, `${at}.when`);
  if ('group' in rule) {
    onlyKeys(rule, ['group', 'each', 'when'], at);
    if (!Array.isArray(rule.group) || rule.group.length === 0) throw bad(`${at}.group`, 'must be a non-empty array');
    return { kind: 'group', children: rule.group.map((r, i) => compileEntry(r, `${at}.group[${i}]`, ctx)), each, when, at };
  }
  const nameKey = ctx.hl7 ? 'segment' : 'record';
  onlyKeys(rule, [nameKey, 'fields', 'each', 'when'], at);
  const name = rule[nameKey];
  if (ctx.hl7 && (typeof name !== 'string' || !SEGMENT_NAME.test(name) || name === 'MSH')) {
    throw bad(`${at}.segment`, 'must be a segment name such as PID (three upper-case letters or digits; MSH comes from "header")');
  }
  if (!ctx.hl7 && (typeof name !== 'string' || !ASTM_RECORDS.test(name))) {
    throw bad(`${at}.record`, 'must be one of P, O, R, C, M, S, Q (H and L are written by the renderer)');
  }
  if (!isObj(rule.fields)) throw bad(`${at}.fields`, 'must be an object from field numbers to rules');
  const fields: [number, CField][] = [];
  const min = ctx.hl7 ? 1 : 2;
  for (const [key, fieldRule] of Object.entries(rule.fields)) {
    const n = Number(key);
    const fat = `${at}.fields[${key}]`;
    if (!/^\d+$/.test(key) || n < min || n > MAX_FIELD) throw bad(fat, `field numbers are ${min} to ${MAX_FIELD}`);
    fields.push([n, compileField(fieldRule, fat, ctx)]);
  }
  fields.sort((a, b) => a[0] - b[0]);
  return { kind: 'segment', name: name as string, fields, each, when, at };
}

function compileField(rule: unknown, at: string, ctx: Ctx): CField {
  if (isObj(rule) && 'each' in rule) {
    onlyKeys(rule, ['each', 'value'], at);
    if (!('value' in rule)) throw bad(`${at}.value`, 'a repeat needs a value rule for each item');
    return { kind: 'repeat', each: path(rule.each, `${at}.each`), at, value: compileRepetition(rule.value, `${at}.value`, ctx) };
  }
  return compileRepetition(rule, at, ctx);
}

function compileRepetition(rule: unknown, at: string, ctx: Ctx): CRepetition {
  if (!Array.isArray(rule)) return { kind: 'value', value: compileValue(rule, at, ctx, true) };
  const components: CComponent[] = rule.map((c, i) => {
    const cat = `${at}[${i + 1}]`;
    if (!Array.isArray(c)) return compileValue(c, cat, ctx, false);
    if (!ctx.hl7) throw bad(cat, 'ASTM has no subcomponents: a component is a single value');
    return c.map((s, j) => compileValue(s, `${cat}[${j + 1}]`, ctx, false));
  });
  return { kind: 'components', components };
}

/** `whole`: the rule stands for a whole repetition, where `name`/`address` may spread into components. */
function compileValue(rule: unknown, at: string, ctx: Ctx, whole: boolean): CValue {
  if (rule === null) {
    if (!ctx.hl7) throw bad(at, 'null (HL7\'s explicit null "") has no ASTM equivalent');
    return { kind: 'const', value: null };
  }
  if (typeof rule === 'string') return { kind: 'const', value: rule };
  if (!isObj(rule)) throw bad(at, 'must be a constant string, null, {"path": ...}, {"setId": true} or {"const": ...}');
  if ('setId' in rule) {
    onlyKeys(rule, ['setId'], at);
    if (rule.setId !== true) throw bad(`${at}.setId`, 'must be true');
    return { kind: 'setId' };
  }
  if ('const' in rule) {
    onlyKeys(rule, ['const'], at);
    if (typeof rule.const !== 'string') throw bad(`${at}.const`, 'must be text');
    return { kind: 'const', value: rule.const };
  }
  onlyKeys(rule, PATH_KEYS, at);
  const out: CValue = { kind: 'path', path: path(rule.path, `${at}.path`), required: false, at };
  if (rule.format !== undefined) {
    if (!FORMATS.includes(rule.format as ValueFormat)) throw bad(`${at}.format`, `must be one of ${FORMATS.join(', ')}`);
    if ((rule.format === 'name' || rule.format === 'address') && !whole) {
      throw bad(`${at}.format`, `"${rule.format}" fills a whole field (its components): use it on a field or a repeat's value`);
    }
    out.format = rule.format as ValueFormat;
  }
  if (rule.lookup !== undefined) {
    if (typeof rule.lookup !== 'string' || !ctx.lookups[rule.lookup])
      throw bad(`${at}.lookup`, `no lookup table ${JSON.stringify(rule.lookup)} in "lookups"`);
    out.lookup = ctx.lookups[rule.lookup];
  }
  if (rule.default !== undefined) {
    if (typeof rule.default !== 'string') throw bad(`${at}.default`, 'must be text');
    out.default = rule.default;
  }
  if (rule.required !== undefined) {
    if (typeof rule.required !== 'boolean') throw bad(`${at}.required`, 'must be true or false');
    out.required = rule.required;
  }
  if (rule.join !== undefined) {
    if (typeof rule.join !== 'string') throw bad(`${at}.join`, 'must be text');
    out.join = rule.join;
  }
  return out;
}
