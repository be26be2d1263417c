/**
 * The path expressions rules use to take values from the data: a small JSONPath subset, parsed
 * once when a template is stored and evaluated per render. No library: the subset is ~100 lines
 * and we control its errors (which must name the rule).
 *
 *   $            the data                     @            the current item of a repeat (`each`)
 *   .name        a member                     ['any key']  a member with any characters
 *   [2]          an array element (0-based)   [*]          every element (or every member value)
 *   [?(@.system=='phone')]   elements whose sub-path equals a string literal
 *   [?(@.value)]             elements where the sub-path is present
 */

export type Step =
  { kind: 'member'; name: string } | { kind: 'index'; index: number } | { kind: 'all' } | { kind: 'filter'; path: Step[]; equals?: string };

export interface ParsedPath {
  root: '$' | '@';
  steps: Step[];
  text: string;
}

export class PathSyntaxError extends Error {}

const IDENT = /^[A-Za-z_][A-Za-z0-9_-]*/;

export function parsePath(text: string): ParsedPath {
  if (typeof text !== 'string' || (text[0] !== '$' && text[0] !== '@')) {
    throw new PathSyntaxError(`a path starts with $ (the data) or @ (the current repeat item), got ${JSON.stringify(text)}`);
  }
  const { steps, end } = parseSteps(text, 1, false);
  if (end !== text.length) throw new PathSyntaxError(`unexpected ${JSON.stringify(text.slice(end))} in path ${text}`);
  return { root: text[0], steps, text };
}

/** Steps from `i`; inside a filter it stops at `==` or `)`. */
function parseSteps(text: string, start: number, inFilter: boolean): { steps: Step[]; end: number } {
  const steps: Step[] = [];
  let i = start;
  while (i < text.length) {
    const c = text[i];
    if (inFilter && (c === ')' || c === '=')) break;
    if (c === '.') {
      const m = IDENT.exec(text.slice(i + 1));
      if (!m) throw new PathSyntaxError(`expected a member name after "." at ${i} in ${text}`);
      steps.push({ kind: 'member', name: m[0] });
      i += 1 + m[0].length;
    } else if (c === '[') {
      const close = bracketEnd(text, i);
      steps.push(parseBracket(text.slice(i + 1, close), text));
      i = close + 1;
    } else {
      throw new PathSyntaxError(`unexpected ${JSON.stringify(c)} at ${i} in path ${text}`);
    }
  }
  return { steps, end: i };
}

function bracketEnd(text: string, open: number): number {
  let quote = '';
  for (let i = open + 1; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === "'" || c === '"') quote = c;
    else if (c === ']') return i;
  }
  throw new PathSyntaxError(`unclosed [ at ${open} in path ${text}`);
}

function parseBracket(inner: string, text: string): Step {
  if (inner === '*') return { kind: 'all' };
  if (/^\d+$/.test(inner)) return { kind: 'index', index: Number(inner) };
  const quoted = /^'([^']*)'$|^"([^"]*)"$/.exec(inner);
  if (quoted) return { kind: 'member', name: quoted[1] ?? quoted[2] };
  const filter = /^\?\(@(.*)\)$/.exec(inner);
  if (filter) {
    const body = filter[1];
    const { steps, end } = parseSteps(body, 0, true);
    if (end === body.length) return { kind: 'filter', path: steps };
    const literal = /^\s*==\s*(?:'([^']*)'|"([^"]*)")\s*$/.exec(body.slice(end));
    if (!literal) throw new PathSyntaxError(`a filter is [?(@.path)] or [?(@.path=='text')], got [${inner}] in ${text}`);
    return { kind: 'filter', path: steps, equals: literal[1] ?? literal[2] };
  }
  throw new PathSyntaxError(`[${inner}] is not [n], [*], ['name'] or a filter, in path ${text}`);
}

/** Every value the path reaches (none when a step finds nothing). */
export function evaluate(path: ParsedPath, data: unknown, current: unknown): unknown[] {
  return walk(path.steps, [path.root === '$' ? data : current]);
}

function walk(steps: Step[], start: unknown[]): unknown[] {
  let values = start;
  for (const step of steps) {
    const next: unknown[] = [];
    for (const v of values) apply(step, v, next);
    values = next;
    if (values.length === 0) break;
  }
  return values;
}

function apply(step: Step, v: unknown, out: unknown[]): void {
  if (v === null || typeof v !== 'object') return;
  switch (step.kind) {
    case 'member': {
      if (Array.isArray(v) || !Object.prototype.hasOwnProperty.call(v, step.name)) return;
      const value = (v as Record<string, unknown>)[step.name];
      if (value !== undefined) out.push(value);
      return;
    }
    case 'index':
      if (Array.isArray(v) && step.index < v.length) out.push(v[step.index]);
      return;
    case 'all':
      out.push(...(Array.isArray(v) ? (v as unknown[]) : (Object.values(v) as unknown[])));
      return;
    case 'filter':
      if (!Array.isArray(v)) return;
      for (const item of v) {
        const found = walk(step.path, [item]);
        if (step.equals === undefined ? found.length > 0 : found.some((f) => f === step.equals)) out.push(item);
      }
      return;
  }
}
