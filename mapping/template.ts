/** The mapping layer's entry points: check a template document, and render one over data. */
import { createHash } from 'node:crypto';
import type { CompiledTemplate } from './compiled';
import { renderCompiled, type Rendered, type RenderOptions } from './render-template';
import type { TemplateDocument } from './template-model';
import { compileTemplate } from './validate-template';

export type { Rendered, RenderOptions } from './render-template';

/** Compiled templates by document object: a stored template is checked once, not per render. */
const compiled = new WeakMap<object, CompiledTemplate>();

/** Throws MappingError INVALID_TEMPLATE naming the bad rule; returns the document as typed. */
export function validateTemplate(doc: unknown): TemplateDocument {
  compile(doc);
  return doc as TemplateDocument;
}

export function renderTemplate(doc: TemplateDocument, data: unknown, options: RenderOptions): Rendered {
  return renderCompiled(compile(doc), data, options);
}

function compile(doc: unknown): CompiledTemplate {
  if (typeof doc === 'object' && doc !== null) {
    const hit = compiled.get(doc);
    if (hit) return hit;
  }
  const c = compileTemplate(doc);
  compiled.set(doc as object, c);
  return c;
}

/** sha256 hex of the document's JSON, keys sorted, so an equal document hashes equally. */
export function documentHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
