/**
 * Renders a compiled template over JSON data: HL7 v2 through the hl7/ builder (so values are
 * escaped and MSH is exact), or ASTM records through astm/records.ts. Pure: the time, the push id
 * (MSH-10 / H-3) and the site's zone come in as options.
 */
import { ASTM_CONTENT_TYPE, HL7_V2_CONTENT_TYPE } from '../protocol/content-types';
import { buildHeader, buildRecord, buildRecordAt, type FieldValue } from '../astm/records';
import { formatDtm } from '../hl7/datetime';
import { buildMessage } from '../hl7/builder';
import { controlIdForPush } from '../hl7/control-id';
import type { Hl7Component, Hl7Field, Hl7Leaf, Hl7Repetition, Hl7Segment } from '../hl7/er7-model';
import { mshSegment, type AckCondition } from '../hl7/msh-header';
import type { CField, CGroup, CompiledTemplate, CRepetition, CSegment, CValue } from './compiled';
import { MappingError } from './mapping-errors';
import { evaluate, type ParsedPath } from './path';
import { formatAddress, formatDate, formatName } from './value-format';

export interface RenderOptions {
  /** MSH-7 / H-14. */
  now: Date;
  /** MSH-10 / H-3 = controlIdForPush(pushId); or `controlId` as given (a preview). Exactly one. */
  pushId?: string;
  controlId?: string;
  /** The site's zone, used when the template names none; default UTC. */
  timeZone?: string;
}

export interface Rendered {
  text: string;
  contentType: string;
  controlId: string;
}

interface Scope {
  data: unknown;
  current: unknown;
  setId: number;
}

export function renderCompiled(t: CompiledTemplate, data: unknown, options: RenderOptions): Rendered {
  if (data === undefined || data === null) throw new MappingError('MISSING_DATA', 'data', 'no data to render the template with');
  if (typeof data !== 'object') throw new MappingError('WRONG_DATA_TYPE', 'data', `must be a JSON object or array, got ${typeof data}`);
  const controlId = options.controlId ?? controlIdForPush(requirePushId(options.pushId));
  const r = new Renderer(t, options.timeZone ?? 'UTC');
  const root: Scope = { data, current: data, setId: 1 };
  return t.target === 'hl7v2' ? r.hl7(root, controlId, options.now) : r.astm(root, controlId, options.now);
}

function requirePushId(pushId: string | undefined): string {
  if (pushId === undefined) throw new Error('renderCompiled needs a pushId or a controlId');
  return pushId;
}

type Produced = Hl7Leaf | string[];

class Renderer {
  private readonly zone: string;
  constructor(
    private readonly t: CompiledTemplate,
    siteZone: string,
  ) {
    this.zone = t.timeZone ?? siteZone;
  }

  hl7(root: Scope, controlId: string, now: Date): Rendered {
    const h = (key: string): Hl7Field => {
      const rule = this.t.header[key];
      return rule === undefined ? '' : this.leaf(rule, root);
    };
    const segments: Hl7Segment[] = [];
    this.emit(this.t.body, root, (seg, scope) => segments.push(this.segment(seg, scope)));
    const msh = (characterSet: string | undefined): Hl7Segment =>
      mshSegment({
        sendingApplication: h('sendingApplication'),
        sendingFacility: h('sendingFacility'),
        receivingApplication: h('receivingApplication'),
        receivingFacility: h('receivingFacility'),
        time: now,
        timeZone: this.zone,
        messageType: this.t.messageType!,
        controlId,
        processingId: this.choice(h('processingId'), ['P', 'T', 'D'], 'header.processingId') as 'P' | 'T' | 'D' | undefined,
        version: this.t.version,
        acceptAckType: this.choice(h('acceptAckType'), ACK_CONDITIONS, 'header.acceptAckType') as AckCondition | undefined,
        applicationAckType: this.choice(h('applicationAckType'), ACK_CONDITIONS, 'header.applicationAckType') as AckCondition | undefined,
        characterSet,
      });
    const declared = h('characterSet');
    let text = buildMessage([msh(typeof declared === 'string' && declared !== '' ? declared : undefined), ...segments]);
    // Non-ASCII values need MSH-18 so receivers do not read UTF-8 bytes as Latin-1.
    // eslint-disable-next-line no-control-regex
    if ((declared === '' || declared === undefined) && /[^\x00-\x7f]/.test(text)) text = buildMessage([msh('UNICODE UTF-8'), ...segments]);
    return { text, contentType: HL7_V2_CONTENT_TYPE, controlId };
  }

  astm(root: Scope, controlId: string, now: Date): Rendered {
    const h = (key: string): string | undefined => {
      const rule = this.t.header[key];
      const v = rule === undefined ? undefined : this.leaf(rule, root);
      return typeof v === 'string' && v !== '' ? v : undefined;
    };
    // H: 3 message control id, 5 sender, 10 receiver, 12 processing id, 13 version, 14 date-time.
    const records = [
      buildHeader([
        controlId,
        undefined,
        h('sender'),
        undefined,
        undefined,
        undefined,
        undefined,
        h('receiver'),
        undefined,
        this.choice(h('processingId'), ['P', 'T', 'D', 'Q'], 'header.processingId') ?? 'P',
        this.t.version,
        // H-14 as astmDateTime writes it (local, no offset), through datetime.ts's cached formatters.
        formatDtm(now, { timeZone: this.zone, offset: false }),
      ]),
    ];
    this.emit(this.t.body, root, (seg, scope) => records.push(this.record(seg, scope)));
    records.push(buildRecord('L', ['1', 'N']));
    return { text: records.map((r) => r + '\r').join(''), contentType: ASTM_CONTENT_TYPE, controlId };
  }

  private choice(v: Hl7Field | undefined, allowed: readonly string[], at: string): string | undefined {
    if (v === undefined || v === '') return undefined;
    if (typeof v !== 'string' || !allowed.includes(v))
      throw new MappingError('WRONG_DATA_TYPE', at, `must be one of ${allowed.join(', ')}`);
    return v;
  }

  /** Walks segment rules and groups, expanding `when` and `each`. */
  private emit(entries: (CSegment | CGroup)[], scope: Scope, out: (seg: CSegment, scope: Scope) => void): void {
    for (const entry of entries) {
      if (entry.when && this.found(entry.when, scope).length === 0) continue;
      const scopes = entry.each ? this.items(entry.each, scope) : [scope];
      for (const s of scopes) {
        if (entry.kind === 'segment') out(entry, s);
        else this.emit(entry.children, s, out);
      }
    }
  }

  private found(path: ParsedPath, scope: Scope): unknown[] {
    return evaluate(path, scope.data, scope.current).filter((v) => v !== null && v !== undefined);
  }

  /** The items an `each` runs over: a path that reaches one array runs over its elements. */
  private items(path: ParsedPath, scope: Scope): Scope[] {
    let values = this.found(path, scope);
    if (values.length === 1 && Array.isArray(values[0])) values = values[0] as unknown[];
    return values.filter((v) => v !== null && v !== undefined).map((current, i) => ({ data: scope.data, current, setId: i + 1 }));
  }

  private segment(seg: CSegment, scope: Scope): Hl7Segment {
    const out: Hl7Segment = [seg.name];
    for (const [n, rule] of seg.fields) {
      while (out.length < n) out.push('');
      out[n] = this.field(rule, scope);
    }
    return out;
  }

  private field(rule: CField, scope: Scope): Hl7Field {
    if (rule.kind !== 'repeat') return this.repetition(rule, scope);
    const reps = this.items(rule.each, scope).map((s) => this.repetition(rule.value, s));
    return reps.length === 0 ? '' : reps.length === 1 ? reps[0] : { repeat: reps };
  }

  private repetition(rule: CRepetition, scope: Scope): Hl7Repetition {
    if (rule.kind === 'value') return this.value(rule.value, scope);
    return rule.components.map((c): Hl7Component => (Array.isArray(c) ? c.map((s) => this.leaf(s, scope)) : this.leaf(c, scope)));
  }

  private record(rec: CSegment, scope: Scope): string {
    const fields: Record<number, FieldValue> = {};
    for (const [n, rule] of rec.fields) fields[n] = this.astmField(rule, scope);
    return buildRecordAt(rec.name, fields);
  }

  private astmField(rule: CField, scope: Scope): FieldValue {
    const one = (r: CRepetition, s: Scope): (string | undefined)[] => {
      const v = this.repetition(r, s);
      return Array.isArray(v) ? v.map((c) => (typeof c === 'string' ? c : undefined)) : [v ?? undefined];
    };
    if (rule.kind !== 'repeat') {
      const v = this.repetition(rule, scope);
      return Array.isArray(v) ? one(rule, scope) : (v ?? undefined);
    }
    const reps = this.items(rule.each, scope).map((s) => one(rule.value, s));
    return reps.length === 0 ? undefined : reps;
  }

  /** A value where only a leaf fits (a component, a subcomponent, a header field). */
  private leaf(rule: CValue, scope: Scope): Hl7Leaf {
    const v = this.value(rule, scope);
    return Array.isArray(v) ? v.find((x) => x !== '') : v;
  }

  private value(rule: CValue, scope: Scope): Produced {
    if (rule.kind === 'const') return rule.value;
    if (rule.kind === 'setId') return String(scope.setId);
    const found = this.found(rule.path, scope);
    if (found.length === 0) {
      if (rule.default !== undefined) return rule.default;
      if (rule.required) throw new MappingError('MISSING_DATA', rule.at, `the data has no value at ${rule.path.text}`);
      return undefined;
    }
    if (rule.format === 'name') return formatName(found[0], rule.at);
    if (rule.format === 'address') return formatAddress(found[0], this.t.target, rule.at);
    const scalars = found.map((v) => scalar(v, rule.at, rule.path.text));
    let text = rule.join !== undefined ? scalars.join(rule.join) : scalars[0];
    if (rule.format === 'date' || rule.format === 'datetime') text = formatDate(text, rule.format, this.t.target, this.zone, rule.at);
    else if (rule.format === 'upper') text = text.toUpperCase();
    else if (rule.format === 'lower') text = text.toLowerCase();
    if (rule.lookup) text = rule.lookup[text] ?? rule.lookup['*'] ?? text;
    return text;
  }
}

const ACK_CONDITIONS = ['AL', 'NE', 'ER', 'SU'];

function scalar(v: unknown, at: string, path: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'boolean') return v ? 'Y' : 'N';
  const what = Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : typeof v;
  throw new MappingError(
    'WRONG_DATA_TYPE',
    at,
    `${path} is ${what}; this rule needs text, a number or a boolean (point the path at a value inside it)`,
  );
}
