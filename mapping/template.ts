/** The mapping layer's entry points: check a template document, and render one over data. */
import { createHash } from 'node:crypto';
import type { CompiledTemplate } from './compiled';
import { renderCompiled, type Rendered, type RenderOptions } from './render-template';
import type { TemplateDocument } from './template-model';
import { compileTemplate } from './validate-template';

export type { Rendered, RenderOptions } from './render-template';

/** Compiled templates by document object: a template in memory (the built-ins) is compiled once. */
const compiled = new WeakMap<object, CompiledTemplate>();
/**
 * Compiled stored templates by their hash: a store hands back a new object on every read, so
 * the WeakMap would miss. Bounded: the oldest entry goes first.
 */
const byHash = new Map<string, CompiledTemplate>();
const MAX_BY_HASH = 256;

/** Throws MappingError INVALID_TEMPLATE naming the bad rule; returns the document as typed. */
export function validateTemplate(doc: unknown): TemplateDocument {
  compile(doc);
  return doc as TemplateDocument;
}

/** `hash`: the stored template's documentHash, so a re-read template is not compiled again. */
export function renderTemplate(doc: TemplateDocument, data: unknown, options: RenderOptions, hash?: string): Rendered {
  if (hash === undefined) return renderCompiled(compile(doc), data, options);
  let c = byHash.get(hash);
  if (!c) {
    c = compileTemplate(doc);
    if (byHash.size >= MAX_BY_HASH) byHash.delete(byHash.keys().next().value as string);
    byHash.set(hash, c);
  }
  return renderCompiled(c, data, options);
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
