/**
 * FHIR rest-hook triggers: `POST /agents/{agentId}/fhir-hook/{destination}` takes what a FHIR
 * server's Subscription posts and pushes the mapped message; `PUT` on the same path stores the
 * hook's settings. Every event of a notification is rendered before anything is pushed, so a bad
 * one pushes nothing. Each push's idempotency key is the resource version
 * (`fhir-hook/<destination>/<Type>/<id>/_history/<versionId>`): a re-sent notification returns
 * the earlier push instead of pushing twice.
 */
import { createHash, randomUUID } from 'node:crypto';
import { ASTM_CONTENT_TYPE, HL7_V2_CONTENT_TYPE } from '../../protocol/content-types';
import { checkTimeZone } from '../../hl7/datetime';
import { isResource, type Resource } from '../../mapping/fhir-context';
import { readHookBody, relativeReference, type HookEvent } from '../../mapping/fhir-notification';
import type { Rendered } from '../../mapping/template';
import { DomainError } from './domain-errors';
import { finish, renderForHook } from './mapped-push';
import type { FhirHookRecord } from './mapping-records';
import type { Ports } from './ports';
import { deviceName } from './push-request';
import { acceptPush } from './push-service';
import type { CoreConfig } from './core-config';
import type { PushRecord } from './records';
import { seal, unseal } from './sealed';
import { mapping, templateStore, validateTemplateName } from './template-service';

const TOKEN_PURPOSE = 'fhir-hook-token';

/** The settings as shown: the token never, only whether one is set. */
export interface FhirHookView {
  agentId: string;
  destination: string;
  fhirBaseUrl?: string;
  tokenSet: boolean;
  template?: string;
  contentType: string;
  timeZone?: string;
  updatedAt: string;
}

export function hookView(h: FhirHookRecord): FhirHookView {
  const v: FhirHookView = {
    agentId: h.agentId,
    destination: h.destination,
    tokenSet: h.sealedToken !== undefined,
    contentType: h.contentType ?? HL7_V2_CONTENT_TYPE,
    updatedAt: new Date(h.updatedAt).toISOString(),
  };
  if (h.fhirBaseUrl !== undefined) v.fhirBaseUrl = h.fhirBaseUrl;
  if (h.template !== undefined) v.template = h.template;
  if (h.timeZone !== undefined) v.timeZone = h.timeZone;
  return v;
}

export async function putHook(ports: Ports, agentId: string, destination: string, body: Record<string, unknown>): Promise<FhirHookRecord> {
  const store = templateStore(ports);
  const hook: FhirHookRecord = { agentId, destination: deviceName(destination), updatedAt: ports.clock.now() };
  const known = ['fhirBaseUrl', 'token', 'template', 'contentType', 'timeZone'];
  const unknown = Object.keys(body).find((k) => !known.includes(k));
  if (unknown) throw new DomainError('INVALID_HOOK', `unknown setting ${unknown}; settings are ${known.join(', ')}`);
  if (body.fhirBaseUrl !== undefined) {
    if (typeof body.fhirBaseUrl !== 'string' || !/^https?:\/\/[^\s]+$/.test(body.fhirBaseUrl)) {
      throw new DomainError('INVALID_HOOK', 'fhirBaseUrl must be the FHIR server base URL, e.g. https://api.medplum.com/fhir/R4');
    }
    hook.fhirBaseUrl = body.fhirBaseUrl;
  }
  if (body.token !== undefined) {
    if (typeof body.token !== 'string' || body.token.length === 0 || body.token.length > 8192) {
      throw new DomainError('INVALID_HOOK', 'token must be the FHIR server bearer token (1 to 8192 characters)');
    }
    hook.sealedToken = seal(body.token, await ports.secretKey.get(), TOKEN_PURPOSE);
  }
  if (body.template !== undefined) {
    if (typeof body.template !== 'string') throw new DomainError('INVALID_HOOK', 'template must be a template name');
    hook.template = validateTemplateName(body.template);
    if (!(await store.get(hook.template))) throw new DomainError('TEMPLATE_NOT_FOUND', `no template named ${hook.template}`);
  }
  if (body.contentType !== undefined) {
    if (body.contentType !== HL7_V2_CONTENT_TYPE && body.contentType !== ASTM_CONTENT_TYPE) {
      throw new DomainError(
        'INVALID_HOOK',
        `contentType must be ${HL7_V2_CONTENT_TYPE} or ${ASTM_CONTENT_TYPE} (what the destination speaks)`,
      );
    }
    hook.contentType = body.contentType;
  }
  if (body.timeZone !== undefined) {
    try {
      if (typeof body.timeZone !== 'string') throw new Error();
      checkTimeZone(body.timeZone);
    } catch {
      throw new DomainError('INVALID_HOOK', 'timeZone must be an IANA zone name such as Europe/Berlin');
    }
    hook.timeZone = body.timeZone;
  }
  await store.putHook(hook);
  return hook;
}

export async function getHook(ports: Ports, agentId: string, destination: string): Promise<FhirHookRecord | undefined> {
  return templateStore(ports).getHook(agentId, deviceName(destination));
}

export interface HookOutcome {
  /** The notification's type; handshakes and heartbeats push nothing. */
  type: string;
  pushes: { push: PushRecord; created: boolean }[];
}

export async function receiveHook(
  ports: Ports,
  config: CoreConfig,
  agentId: string,
  rawDestination: string,
  body: unknown,
): Promise<HookOutcome> {
  const destination = deviceName(rawDestination);
  // Refuse an unknown agent or destination before reading anything from a FHIR server.
  const agent = await ports.agents.get(agentId);
  if (!agent) throw new DomainError('AGENT_NOT_FOUND', `agent ${agentId} does not exist`);
  if (agent.devices.length > 0 && !agent.devices.includes(destination)) {
    throw new DomainError('DESTINATION_NOT_FOUND', `agent ${agentId} has no device named ${destination}`);
  }
  const hook = await templateStore(ports).getHook(agentId, destination);
  const notification = mapping(() => readHookBody(body));

  const prepared: { rendered: Rendered; pushId: string; identity: Record<string, string>; key?: string }[] = [];
  for (const event of notification.events) {
    const input = await eventInput(ports, hook, event);
    const pushId = randomUUID();
    const { rendered, identity } = await renderForHook(ports, hook, input.data, pushId);
    prepared.push({ rendered, pushId, identity, key: versionKey(destination, input.focus) });
  }

  const pushes: HookOutcome['pushes'] = [];
  for (const p of prepared) {
    const obj: Record<string, unknown> = { destination, waitForResponse: false };
    if (p.key !== undefined) obj.idempotencyKey = p.key;
    // The resource version and the mapping: a re-sent notification hashes the same.
    const request = finish(obj, p.rendered, p.pushId, config.maxBodyBytes, { version: p.key ?? p.pushId, ...p.identity });
    pushes.push(await acceptPush(ports, agentId, request, config));
  }
  return { type: notification.type, pushes };
}

/** The idempotency key of a resource version, or none when the resource has no versionId. */
function versionKey(destination: string, focus: Resource): string | undefined {
  const version = (focus.meta as { versionId?: unknown } | undefined)?.versionId;
  if (typeof focus.id !== 'string' || typeof version !== 'string') return undefined;
  const key = `fhir-hook/${destination}/${focus.resourceType}/${focus.id}/_history/${version}`;
  // idempotencyKey is at most 128 characters.
  return key.length <= 128 ? key : `fhir-hook/sha256/${createHash('sha256').update(key).digest('hex')}`;
}

/**
 * The resource to map with what it references: sent along (full-resource), or read from the
 * hook's FHIR server (id-only), and the referenced Patient, Practitioner and Encounter read too
 * when they did not come with it and the hook has a server.
 */
async function eventInput(ports: Ports, hook: FhirHookRecord | undefined, event: HookEvent): Promise<{ focus: Resource; data: unknown }> {
  let focus: Resource;
  let entries: { fullUrl?: string; resource: Resource }[] = [];
  if (event.kind === 'resource') {
    focus = event.resource;
    if (focus.resourceType === 'Bundle') return { focus, data: focus };
    const bundleEntries = (event.bundle?.entry as { fullUrl?: string; resource: Resource }[] | undefined) ?? [];
    entries = bundleEntries.filter((e) => e.resource !== focus);
  } else {
    const ref = relativeReference(event.reference);
    if (!ref)
      throw new DomainError(
        'UNSUPPORTED_RESOURCE',
        `cannot read the notification's focus ${JSON.stringify(event.reference)}: not a Type/id reference`,
      );
    focus = await read(ports, hook, ref.type, ref.id);
  }
  const present = (reference: string): boolean =>
    reference.startsWith('#') ||
    entries.some(
      (e) => e.fullUrl === reference || (e.resource.id !== undefined && reference.endsWith(`${e.resource.resourceType}/${e.resource.id}`)),
    );
  if (hook?.fhirBaseUrl !== undefined && ports.fhir !== undefined) {
    for (const field of ['subject', 'requester', 'encounter']) {
      const reference = (focus[field] as { reference?: unknown } | undefined)?.reference;
      if (typeof reference !== 'string' || present(reference)) continue;
      const ref = relativeReference(reference);
      if (!ref || !['Patient', 'Practitioner', 'Encounter'].includes(ref.type)) continue;
      entries.push({ fullUrl: `${ref.type}/${ref.id}`, resource: await read(ports, hook, ref.type, ref.id) });
    }
  }
  const data = entries.length === 0 ? focus : { resourceType: 'Bundle', type: 'collection', entry: [{ resource: focus }, ...entries] };
  return { focus, data };
}

async function read(ports: Ports, hook: FhirHookRecord | undefined, type: string, id: string): Promise<Resource> {
  if (hook?.fhirBaseUrl === undefined || ports.fhir === undefined) {
    throw new DomainError(
      'HOOK_NOT_CONFIGURED',
      `an id-only notification needs the FHIR server to read ${type}/${id} from: set fhirBaseUrl (and token) on this hook`,
    );
  }
  const token = hook.sealedToken === undefined ? undefined : unseal(hook.sealedToken, await ports.secretKey.get(), TOKEN_PURPOSE);
  let resource: unknown;
  try {
    resource = await ports.fhir.read(hook.fhirBaseUrl, token, type, id);
  } catch (err) {
    throw new DomainError('FHIR_SERVER_FAILED', `reading from ${hook.fhirBaseUrl} failed: ${(err as Error).message}`);
  }
  if (!isResource(resource) || resource.resourceType !== type) {
    throw new DomainError('FHIR_SERVER_FAILED', `${hook.fhirBaseUrl} answered ${type}/${id} with something that is not a ${type}`);
  }
  return resource;
}
