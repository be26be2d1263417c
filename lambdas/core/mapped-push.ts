/**
 * Pushes whose body EdgePush renders: `template` + `data` (a stored template), or
 * `contentType: application/fhir+json` (a FHIR resource or Bundle, mapped by the destination's
 * hook settings or the built-in mapping). The body is rendered once, for the push id it will be
 * stored under, so MSH-10 is controlIdForPush(pushId) and retries resend the same bytes.
 *
 * Idempotency compares what the caller sent, not the rendered text (which carries the render
 * time and the push id): the request's hash is the template's hash plus the data.
 */
import { createHash, randomUUID } from 'node:crypto';
import { ASTM_CONTENT_TYPE } from '../../protocol/content-types';
import { fhirTemplateData, renderFhir } from '../../mapping/fhir-mapping';
import { canonicalJson, renderTemplate, type Rendered } from '../../mapping/template';
import type { Target } from '../../mapping/template-model';
import { DomainError } from './domain-errors';
import type { FhirHookRecord } from './mapping-records';
import type { Ports } from './ports';
import { deviceName, parsePushRequest, type PushRequest } from './push-request';
import { getTemplate, mapping, templateStore, validateTemplateName } from './template-service';

export const FHIR_JSON_CONTENT_TYPE = 'application/fhir+json';

/** The push request when EdgePush renders the body; undefined for a plain `body` push. */
export async function mappedPushRequest(
  ports: Ports,
  agentId: string,
  obj: Record<string, unknown>,
  maxBodyBytes: number,
): Promise<PushRequest | undefined> {
  if (obj.template !== undefined) {
    if (obj.body !== undefined) throw new DomainError('BODY_AND_TEMPLATE', 'send either body or template + data, not both');
    const template = await getTemplate(ports, validateTemplateName(obj.template));
    if (!('data' in obj))
      throw new DomainError('MISSING_DATA', 'a push with template needs data: the JSON the template takes its values from');
    const pushId = randomUUID();
    const rendered = mapping(() =>
      renderTemplate(template.document, obj.data, { now: new Date(ports.clock.now()), pushId }, template.hash),
    );
    return finish(obj, rendered, pushId, maxBodyBytes, { template: template.name, hash: template.hash, data: obj.data });
  }
  if (obj.contentType !== FHIR_JSON_CONTENT_TYPE) return undefined;
  const destination = deviceName(obj.destination);
  let resource = obj.body;
  if (typeof resource === 'string') {
    try {
      resource = JSON.parse(resource);
    } catch {
      throw new DomainError('UNSUPPORTED_RESOURCE', 'body is not JSON: send the FHIR resource or Bundle as JSON');
    }
  }
  if (resource === undefined) throw new DomainError('MISSING_BODY', 'body is required: the FHIR resource or Bundle');
  const hook = await templateStore(ports).getHook(agentId, destination);
  const pushId = randomUUID();
  const { rendered, identity } = await renderForHook(ports, hook, resource, pushId);
  return finish(obj, rendered, pushId, maxBodyBytes, { ...identity, data: resource });
}

/** Renders a FHIR resource or Bundle as a hook (agent, destination) is configured to. */
export async function renderForHook(
  ports: Ports,
  hook: FhirHookRecord | undefined,
  input: unknown,
  pushId: string,
): Promise<{ rendered: Rendered; identity: Record<string, string> }> {
  const now = new Date(ports.clock.now());
  if (hook?.template !== undefined) {
    const template = await getTemplate(ports, hook.template);
    const rendered = mapping(() => renderTemplate(template.document, fhirTemplateData(input, now), { now, pushId }, template.hash));
    return { rendered, identity: { template: template.name, hash: template.hash } };
  }
  const target: Target = hook?.contentType === ASTM_CONTENT_TYPE ? 'astm' : 'hl7v2';
  const rendered = mapping(() => renderFhir(input, target, { now, pushId, timeZone: hook?.timeZone }));
  return { rendered, identity: { builtin: target, timeZone: hook?.timeZone ?? 'UTC' } };
}

/** The rendered body through the normal checks (size, MSH), keyed to the push id it was rendered for. */
export function finish(
  obj: Record<string, unknown>,
  rendered: Rendered,
  pushId: string,
  maxBodyBytes: number,
  identity: unknown,
): PushRequest {
  const { template: _t, data: _d, ...rest } = obj;
  const request = parsePushRequest({ ...rest, body: rendered.text, contentType: rendered.contentType }, maxBodyBytes);
  return { ...request, pushId, bodyHash: createHash('sha256').update(canonicalJson(identity)).digest('hex') };
}
