/**
 * Proposes a template from a sample ER7 message and a JSON example of the data (Retrohook's
 * "start from a sample" UX): every value of the sample that is found in the JSON becomes a path
 * rule, ISO dates found as HL7 dates a path with `format: date`, everything else a constant.
 * Consecutive segments of one name whose values come from the elements of one array become a
 * single rule with `each` (paths relative to `@`, set ids counted). A starting point for a
 * person to edit, not a finished mapping: the result is a valid template, checked as stored.
 */
import { isRepeat, type Hl7Component, type Hl7Field, type Hl7Repetition, type Hl7Segment } from '../hl7/er7-model';
import { readMessage } from '../hl7/reader';
import type { ComponentRule, FieldRule, SegmentRule, TemplateDocument, ValueRule } from './template-model';
import { validateTemplate } from './template';

/** A leaf of the JSON: its text and its path, split into steps so arrays can be generalised. */
interface Leaf {
  text: string;
  steps: (string | number)[];
}

export function templateFromSample(er7: string, example: unknown): TemplateDocument {
  const { segments } = readMessage(er7);
  const msh = segments[0];
  if (!msh || msh[0] !== 'MSH') throw new Error('the sample must start with an MSH segment');
  const leaves = collect(example, []);
  const byText = new Map<string, Leaf[]>();
  for (const leaf of leaves) byText.set(leaf.text, [...(byText.get(leaf.text) ?? []), leaf]);

  const type = msh[9];
  const parts = Array.isArray(type) ? type.map((c) => (typeof c === 'string' ? c : '')) : [typeof type === 'string' ? type : ''];
  const doc: TemplateDocument = {
    target: 'hl7v2',
    messageType: parts.filter((p) => p !== '').join('^'),
    version: typeof msh[12] === 'string' ? msh[12] : '2.5.1',
    segments: [],
  };
  const header: NonNullable<TemplateDocument['header']> = {};
  (['sendingApplication', 'sendingFacility', 'receivingApplication', 'receivingFacility'] as const).forEach((key, i) => {
    const v = firstLeaf(msh[3 + i]);
    if (v) header[key] = v;
  });
  if (Object.keys(header).length > 0) doc.header = header;

  const body = segments.slice(1);
  for (let i = 0; i < body.length;) {
    let j = i + 1;
    while (j < body.length && body[j][0] === body[i][0]) j++;
    doc.segments!.push(...proposeRun(body.slice(i, j), byText));
    i = j;
  }
  return validateTemplate(doc);
}

function collect(value: unknown, steps: (string | number)[]): Leaf[] {
  if (typeof value === 'string') return value === '' ? [] : [{ text: value, steps }];
  if (typeof value === 'number' || typeof value === 'boolean') return [{ text: String(value), steps }];
  if (Array.isArray(value)) return value.flatMap((v, i) => collect(v, [...steps, i]));
  if (typeof value === 'object' && value !== null) return Object.entries(value).flatMap(([k, v]) => collect(v, [...steps, k]));
  return [];
}

function pathOf(root: '$' | '@', steps: (string | number)[]): string {
  return (
    root +
    steps
      .map((s) => (typeof s === 'number' ? `[${s}]` : /^[A-Za-z_][A-Za-z0-9_-]*$/.test(s) ? `.${s}` : `['${s.replace(/'/g, '')}']`))
      .join('')
  );
}

function firstLeaf(f: Hl7Field | undefined): string | undefined {
  if (typeof f === 'string') return f;
  if (f && !isRepeat(f) && Array.isArray(f) && typeof f[0] === 'string') return f[0];
  return undefined;
}

/** `field`: the field number the value is in (set ids are field 1). */
type Matcher = (text: string, field: number) => ValueRule;

/** A run of same-named segments: one `each` rule when an array drives them, else one rule each. */
function proposeRun(run: Hl7Segment[], byText: Map<string, Leaf[]>): SegmentRule[] {
  if (run.length > 1) {
    const driven = arrayDriving(run, byText);
    if (driven) {
      const { prefix, index } = driven;
      const relative: Matcher = (text, field) => {
        if (field === 1 && text === '1') return { setId: true };
        const hit = (byText.get(text) ?? []).find((l) => startsWith(l.steps, prefix) && l.steps[prefix.length] === index);
        if (hit) return { path: pathOf('@', hit.steps.slice(prefix.length + 1)) };
        return matchAbsolute(byText)(text, field);
      };
      return [{ segment: run[0][0], each: pathOf('$', prefix), fields: fieldsOf(run[0], relative) }];
    }
  }
  return run.map((seg) => ({ segment: seg[0], fields: fieldsOf(seg, matchAbsolute(byText)) }));
}

/** The array whose element k holds values of the k-th segment of the run, if there is one. */
function arrayDriving(run: Hl7Segment[], byText: Map<string, Leaf[]>): { prefix: (string | number)[]; index: number } | undefined {
  const texts = leafTexts(run[0]);
  for (const text of texts) {
    for (const leaf of byText.get(text) ?? []) {
      const at = leaf.steps.findIndex((s) => typeof s === 'number');
      if (at < 0 || leaf.steps[at] !== 0) continue;
      const prefix = leaf.steps.slice(0, at);
      const rest = leaf.steps.slice(at + 1);
      // Each later segment must hold the same field's value of the next element.
      const ok = run.every((seg, k) =>
        leafTexts(seg).some((t) => (byText.get(t) ?? []).some((l) => same(l.steps, [...prefix, k, ...rest]))),
      );
      if (ok) return { prefix, index: 0 };
    }
  }
  return undefined;
}

function leafTexts(seg: Hl7Segment): string[] {
  const out: string[] = [];
  const add = (v: unknown): void => {
    if (typeof v === 'string' && v !== '') out.push(v);
    else if (Array.isArray(v)) v.forEach(add);
    else if (v && typeof v === 'object' && 'repeat' in v) (v as { repeat: unknown[] }).repeat.forEach(add);
  };
  seg.slice(1).forEach(add);
  return out;
}

const same = (a: (string | number)[], b: (string | number)[]): boolean => a.length === b.length && a.every((s, i) => s === b[i]);
const startsWith = (a: (string | number)[], prefix: (string | number)[]): boolean => prefix.every((s, i) => a[i] === s);

function matchAbsolute(byText: Map<string, Leaf[]>): Matcher {
  return (text) => {
    const hit = byText.get(text)?.[0];
    if (hit) return { path: pathOf('$', hit.steps) };
    // An HL7 date (YYYYMMDD) whose ISO form is in the JSON.
    if (/^\d{8}$/.test(text)) {
      const iso = `${text.slice(0, 4)}-${text.slice(4, 6)}-${text.slice(6, 8)}`;
      const date = byText.get(iso)?.[0];
      if (date) return { path: pathOf('$', date.steps), format: 'date' };
    }
    return text;
  };
}

function fieldsOf(seg: Hl7Segment, match: Matcher): Record<string, FieldRule> {
  const fields: Record<string, FieldRule> = {};
  seg.forEach((field, n) => {
    if (n === 0 || field === '' || field === undefined) return;
    if (field === null) {
      fields[String(n)] = null;
      return;
    }
    // Repetitions are kept as they are in the sample: the first repetition proposes the rule.
    const rep: Hl7Repetition = isRepeat(field) ? field.repeat[0] : field;
    fields[String(n)] = repetitionRule(rep, (text) => match(text, n));
  });
  return fields;
}

function repetitionRule(rep: Hl7Repetition, match: (text: string) => ValueRule): FieldRule {
  if (!Array.isArray(rep)) return leafRule(rep, match);
  return rep.map((c: Hl7Component): ComponentRule => (Array.isArray(c) ? c.map((s) => leafRule(s, match)) : leafRule(c, match)));
}

function leafRule(v: string | null | undefined, match: (text: string) => ValueRule): ValueRule {
  if (v === null) return null;
  if (v === undefined || v === '') return '';
  return match(v);
}
