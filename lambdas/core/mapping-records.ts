/** What the mapping routes store: templates (mapping/template-model.ts) and per-hook settings. */
import type { TemplateRecord } from '../../mapping/template-model';

export type { TemplateRecord } from '../../mapping/template-model';

/** A stored template without its document, for GET /templates. */
export interface TemplateSummary {
  name: string;
  target: TemplateRecord['document']['target'];
  messageType?: string;
  description?: string;
  updatedAt: number;
}

export function toTemplateSummary(t: TemplateRecord): TemplateSummary {
  const s: TemplateSummary = { name: t.name, target: t.document.target, updatedAt: t.updatedAt };
  if (t.document.messageType !== undefined) s.messageType = t.document.messageType;
  if (t.document.description !== undefined) s.description = t.document.description;
  return s;
}

/**
 * The settings of one FHIR hook (agent, destination): where to read id-only notifications'
 * resources, which template renders them, and what the destination speaks.
 */
export interface FhirHookRecord {
  agentId: string;
  destination: string;
  /** FHIR server base URL, e.g. https://api.medplum.com/fhir/R4 (needed for id-only notifications). */
  fhirBaseUrl?: string;
  /** The bearer token for fhirBaseUrl, sealed (lambdas/core/sealed.ts); never returned. */
  sealedToken?: string;
  /** A stored template to render with; absent: the built-in mapping for the resource type. */
  template?: string;
  /** What the destination speaks: HL7 v2 (default) or ASTM (built-in ServiceRequest -> H/P/O/L). */
  contentType?: string;
  /** IANA zone the built-in mappings write dates in (default UTC); a template names its own. */
  timeZone?: string;
  updatedAt: number;
}
