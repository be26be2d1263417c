/**
 * What a FHIR server's rest-hook Subscription posts, read into the resources to map:
 * - R4 (Medplum, classic Subscriptions): the resource itself (or nothing for an empty payload);
 * - R4B/R5 topic-based subscriptions (and the R4 backport): a Bundle of type `history` or
 *   `subscription-notification` whose first entry is the SubscriptionStatus (Parameters in the
 *   R4 backport), followed by the focus resources (full-resource content) or only their
 *   fullUrls (id-only content). Handshakes and heartbeats carry no event.
 */
import { isResource, type Resource } from './fhir-context';
import { MappingError } from './mapping-errors';

export type HookEvent =
  /** The resource came with the notification; `bundle` holds it and the other resources sent along. */
  | { kind: 'resource'; resource: Resource; bundle?: Resource }
  /** id-only: the resource must be read from the FHIR server. */
  | { kind: 'reference'; reference: string };

export interface HookNotification {
  /** handshake / heartbeat: nothing to push. */
  type: 'event-notification' | 'handshake' | 'heartbeat' | 'query-status' | 'query-event' | 'resource';
  events: HookEvent[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function readHookBody(body: unknown): HookNotification {
  if (!isResource(body)) {
    throw new MappingError(
      'UNSUPPORTED_RESOURCE',
      'body',
      'expected a FHIR resource or a subscription-notification Bundle (a JSON object with resourceType)',
    );
  }
  const entries = body.resourceType === 'Bundle' && Array.isArray(body.entry) ? body.entry.filter(isObj) : [];
  const status = entries[0]?.resource;
  const isNotification =
    body.resourceType === 'Bundle' &&
    (body.type === 'history' || body.type === 'subscription-notification') &&
    isResource(status) &&
    (status.resourceType === 'SubscriptionStatus' || status.resourceType === 'Parameters');
  if (!isNotification) return { type: 'resource', events: [{ kind: 'resource', resource: body }] };

  const type = notificationType(status);
  if (type === 'handshake' || type === 'heartbeat') return { type, events: [] };
  const rest = entries.slice(1);
  const others: Obj[] = rest.filter((e) => isResource(e.resource)).map((e) => ({ fullUrl: e.fullUrl, resource: e.resource }));
  const bundle: Resource = { resourceType: 'Bundle', type: 'collection', entry: others };
  const focuses = focusReferences(status);
  // Without event focuses, every entry after the status is an event (some servers omit them).
  const targets = focuses.length > 0 ? focuses : rest.map((e) => (typeof e.fullUrl === 'string' ? e.fullUrl : '')).filter(Boolean);
  const events: HookEvent[] = targets.map((ref) => {
    const hit = rest.find((e) => isResource(e.resource) && matches(ref, e.fullUrl, e.resource));
    return hit ? { kind: 'resource', resource: hit.resource as Resource, bundle } : { kind: 'reference', reference: ref };
  });
  return { type, events };
}

function notificationType(status: Resource): HookNotification['type'] {
  let t: unknown = status.type;
  if (status.resourceType === 'Parameters') t = parameters(status).find((p) => p.name === 'type')?.valueCode;
  return t === 'handshake' || t === 'heartbeat' || t === 'query-status' || t === 'query-event' ? t : 'event-notification';
}

function parameters(p: Resource): Obj[] {
  return Array.isArray(p.parameter) ? p.parameter.filter(isObj) : [];
}

function focusReferences(status: Resource): string[] {
  const refs: unknown[] = [];
  if (status.resourceType === 'SubscriptionStatus') {
    for (const e of Array.isArray(status.notificationEvent) ? status.notificationEvent.filter(isObj) : []) {
      if (isObj(e.focus)) refs.push(e.focus.reference);
    }
  } else {
    for (const p of parameters(status).filter((x) => x.name === 'notification-event')) {
      const parts = Array.isArray(p.part) ? p.part.filter(isObj) : [];
      const focus = parts.find((x) => x.name === 'focus');
      if (focus && isObj(focus.valueReference)) refs.push(focus.valueReference.reference);
    }
  }
  return refs.filter((r): r is string => typeof r === 'string' && r.length > 0);
}

function matches(ref: string, fullUrl: unknown, resource: unknown): boolean {
  if (fullUrl === ref) return true;
  const r = resource as Resource;
  if (r.id === undefined) return false;
  const rel = `${r.resourceType}/${r.id}`;
  return ref === rel || ref.endsWith(`/${rel}`) || (typeof fullUrl === 'string' && fullUrl.endsWith(`/${rel}`) && ref.endsWith(rel));
}

/** `Type/id` of a reference (relative, absolute or versioned); undefined for urn:/contained ones. */
export function relativeReference(ref: string): { type: string; id: string } | undefined {
  const m = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9.-]{1,64})(?:\/_history\/[A-Za-z0-9.-]{1,64})?$/.exec(ref);
  return m ? { type: m[1], id: m[2] } : undefined;
}
