/**
 * From a FHIR R4 resource or Bundle to the data the built-in templates read: the focus resource
 * (ServiceRequest, Patient or Encounter) and the resources it references, found in the Bundle
 * (by fullUrl, `Type/id` or an absolute URL ending in it) or among its contained resources
 * (`#id`). A few values are derived here because a path cannot choose between alternatives:
 * the placer order number and the ADT trigger.
 */
import { MappingError } from './mapping-errors';

export type Resource = { resourceType: string; id?: string } & Record<string, unknown>;

export interface FhirContext {
  focus: Resource;
  serviceRequest?: Resource;
  patient?: Resource;
  practitioner?: Resource;
  encounter?: Resource;
  /** ORC-2 / OBR-2 / ASTM O-3: the PLAC identifier, else the first identifier, else the resource id. */
  order?: { placerNumber?: string; placerSystem?: string };
  /** ADT: A04 for a first version (registration), A08 for a later one (update). */
  adtTrigger?: 'A04' | 'A08';
  /** EVN-2: meta.lastUpdated of the focus, else the render time. */
  recordedAt: string;
}

export const MAPPED_TYPES = ['ServiceRequest', 'Patient', 'Encounter'] as const;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function isResource(v: unknown): v is Resource {
  return isObj(v) && typeof v.resourceType === 'string' && v.resourceType.length > 0;
}

export function fhirContext(input: unknown, now: Date): FhirContext {
  if (!isResource(input)) {
    throw new MappingError('UNSUPPORTED_RESOURCE', 'data', 'expected a FHIR resource or Bundle (a JSON object with resourceType)');
  }
  const pool: { fullUrl?: string; resource: Resource }[] = [];
  let focus: Resource | undefined;
  if (input.resourceType === 'Bundle') {
    for (const e of Array.isArray(input.entry) ? input.entry : []) {
      if (isObj(e) && isResource(e.resource))
        pool.push({ fullUrl: typeof e.fullUrl === 'string' ? e.fullUrl : undefined, resource: e.resource });
    }
    for (const type of MAPPED_TYPES) {
      focus = pool.find((p) => p.resource.resourceType === type)?.resource;
      if (focus) break;
    }
    if (!focus) {
      const types = [...new Set(pool.map((p) => p.resource.resourceType))].join(', ') || 'nothing';
      throw new MappingError(
        'UNSUPPORTED_RESOURCE',
        'data',
        `the Bundle holds ${types}; a built-in mapping needs a ${MAPPED_TYPES.join(', ')}`,
      );
    }
  } else {
    focus = input;
    if (!(MAPPED_TYPES as readonly string[]).includes(focus.resourceType)) {
      throw new MappingError(
        'UNSUPPORTED_RESOURCE',
        'data.resourceType',
        `no built-in mapping for ${focus.resourceType}; built in: ${MAPPED_TYPES.join(', ')} (or store a template)`,
      );
    }
  }
  const resolve = (ref: unknown, type: string, from: Resource): Resource | undefined => {
    if (!isObj(ref) || typeof ref.reference !== 'string') return undefined;
    const r = ref.reference;
    if (r.startsWith('#')) {
      const contained: unknown[] = Array.isArray(from.contained) ? from.contained : [];
      const hit = contained.find((c) => isResource(c) && c.id === r.slice(1) && c.resourceType === type);
      return hit as Resource | undefined;
    }
    const hit = pool.find(
      (p) =>
        p.resource.resourceType === type &&
        (p.fullUrl === r || (p.resource.id !== undefined && (r === `${type}/${p.resource.id}` || r.endsWith(`/${type}/${p.resource.id}`)))),
    );
    return hit?.resource;
  };

  const ctx: FhirContext = { focus, recordedAt: metaLastUpdated(focus) ?? now.toISOString() };
  if (focus.resourceType === 'ServiceRequest') {
    ctx.serviceRequest = focus;
    ctx.patient = resolve(focus.subject, 'Patient', focus);
    ctx.practitioner = resolve(focus.requester, 'Practitioner', focus);
    ctx.encounter = resolve(focus.encounter, 'Encounter', focus);
    if (!ctx.patient) {
      const ref = isObj(focus.subject) ? JSON.stringify(focus.subject.reference) : 'none';
      throw new MappingError(
        'MISSING_DATA',
        'ServiceRequest.subject',
        `the Patient it references (${ref}) is not in the Bundle or contained`,
      );
    }
    ctx.order = placer(focus);
  } else if (focus.resourceType === 'Patient') {
    ctx.patient = focus;
    ctx.encounter = pool.find((p) => p.resource.resourceType === 'Encounter')?.resource;
  } else {
    ctx.encounter = focus;
    ctx.patient = resolve(focus.subject, 'Patient', focus);
    if (!ctx.patient)
      throw new MappingError('MISSING_DATA', 'Encounter.subject', 'the Patient it references is not in the Bundle or contained');
  }
  if (focus.resourceType !== 'ServiceRequest') {
    const versionId = isObj(focus.meta) && typeof focus.meta.versionId === 'string' ? focus.meta.versionId : undefined;
    ctx.adtTrigger = versionId === undefined || versionId === '1' ? 'A04' : 'A08';
  }
  return ctx;
}

function metaLastUpdated(r: Resource): string | undefined {
  return isObj(r.meta) && typeof r.meta.lastUpdated === 'string' ? r.meta.lastUpdated : undefined;
}

function placer(sr: Resource): FhirContext['order'] {
  const ids = (Array.isArray(sr.identifier) ? sr.identifier : []).filter(isObj);
  const plac = ids.find((i) => isObj(i.type) && Array.isArray(i.type.coding) && i.type.coding.some((c) => isObj(c) && c.code === 'PLAC'));
  const id = plac ?? ids[0];
  if (id && typeof id.value === 'string')
    return { placerNumber: id.value, placerSystem: typeof id.system === 'string' ? id.system : undefined };
  return { placerNumber: sr.id };
}
