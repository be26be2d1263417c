/**
 * The built-in FHIR mappings: ServiceRequest -> ORM^O01 (or ASTM order records for an ASTM
 * device), Patient / Encounter -> ADT^A04 (first version) or ADT^A08 (later versions).
 */
import { ADT_A04, ADT_A08, ASTM_ORDER, ORM_O01 } from './builtin-templates';
import { fhirContext, isResource, type FhirContext } from './fhir-context';
import { MappingError } from './mapping-errors';
import { renderTemplate, type Rendered, type RenderOptions } from './template';
import type { Target, TemplateDocument } from './template-model';

export function builtinTemplateFor(ctx: FhirContext, target: Target): TemplateDocument {
  if (ctx.focus.resourceType === 'ServiceRequest') return target === 'astm' ? ASTM_ORDER : ORM_O01;
  if (target === 'astm') {
    throw new MappingError(
      'UNSUPPORTED_RESOURCE',
      'data.resourceType',
      `no built-in ASTM mapping for ${ctx.focus.resourceType}: ASTM devices take orders (ServiceRequest)`,
    );
  }
  return ctx.adtTrigger === 'A08' ? ADT_A08 : ADT_A04;
}

/** Renders a FHIR resource or Bundle with the built-in mapping for its type. */
export function renderFhir(input: unknown, target: Target, options: RenderOptions): Rendered {
  const ctx = fhirContext(input, options.now);
  return renderTemplate(builtinTemplateFor(ctx, target), ctx, options);
}

/**
 * The data a stored template gets for a FHIR input: the same context as the built-ins
 * (`$.patient`, `$.serviceRequest`, ...; `$.focus` is the resource itself), or only `$.focus`
 * for a resource type the built-ins do not know.
 */
export function fhirTemplateData(input: unknown, now: Date): unknown {
  try {
    return fhirContext(input, now);
  } catch (err) {
    if (err instanceof MappingError && err.code === 'UNSUPPORTED_RESOURCE' && isResource(input) && input.resourceType !== 'Bundle') {
      return { focus: input, recordedAt: now.toISOString() };
    }
    throw err;
  }
}
