/** The mapping routes: templates, previews and FHIR hooks. Thin: parse, call the core, answer. */
import { validateAgentId } from '../core/agent-service';
import type { CoreConfig } from '../core/core-config';
import { getHook, hookView, putHook, receiveHook } from '../core/fhir-hook-service';
import type { TemplateRecord } from '../core/mapping-records';
import type { Ports } from '../core/ports';
import { parseJsonBody } from '../core/push-request';
import { getTemplate, listTemplates, previewTemplate, putTemplate, templateStore, validateTemplateName } from '../core/template-service';
import { DomainError } from '../core/domain-errors';
import { pushView } from '../core/views';
import type { HttpRequest, HttpResponse } from './http-types';
import { json } from './responses';

function templateView(t: TemplateRecord, withDocument: boolean): Record<string, unknown> {
  const view: Record<string, unknown> = {
    name: t.name,
    target: t.document.target,
    hash: t.hash,
    createdAt: new Date(t.createdAt).toISOString(),
    updatedAt: new Date(t.updatedAt).toISOString(),
  };
  if (t.document.messageType !== undefined) view.messageType = t.document.messageType;
  if (withDocument) view.document = t.document;
  return view;
}

/** PUT /templates/{name}: the body is the template document. 201 when new, 200 when replaced. */
export async function putTemplateRoute(ports: Ports, req: HttpRequest, name: string): Promise<HttpResponse> {
  const { template, created } = await putTemplate(ports, name, parseJsonBody(req.body));
  return json(created ? 201 : 200, templateView(template, false));
}

export async function getTemplateRoute(ports: Ports, name: string): Promise<HttpResponse> {
  return json(200, templateView(await getTemplate(ports, name), true));
}

export async function listTemplatesRoute(ports: Ports): Promise<HttpResponse> {
  const templates = await listTemplates(ports);
  return json(200, { templates: templates.map((t) => ({ ...t, updatedAt: new Date(t.updatedAt).toISOString() })) });
}

export async function deleteTemplateRoute(ports: Ports, name: string): Promise<HttpResponse> {
  if (!(await templateStore(ports).delete(validateTemplateName(name)))) {
    throw new DomainError('TEMPLATE_NOT_FOUND', `no template named ${name}`);
  }
  return { status: 204, headers: {}, body: '' };
}

/** POST /templates/{name}/render {data}: the text a push would carry, nothing pushed. */
export async function renderTemplateRoute(ports: Ports, req: HttpRequest, name: string): Promise<HttpResponse> {
  const rendered = await previewTemplate(ports, name, parseJsonBody(req.body));
  return json(200, { contentType: rendered.contentType, body: rendered.text, controlId: rendered.controlId });
}

export async function putHookRoute(ports: Ports, req: HttpRequest, agentId: string, destination: string): Promise<HttpResponse> {
  return json(200, hookView(await putHook(ports, validateAgentId(agentId), destination, parseJsonBody(req.body))));
}

export async function getHookRoute(ports: Ports, agentId: string, destination: string): Promise<HttpResponse> {
  const hook = await getHook(ports, validateAgentId(agentId), destination);
  // An unconfigured hook still works (built-in mapping, full-resource only): show its defaults.
  return json(200, hook ? hookView(hook) : { agentId, destination, tokenSet: false, contentType: 'x-application/hl7-v2+er7' });
}

/**
 * POST /agents/{agentId}/fhir-hook/{destination}: what a FHIR Subscription (rest-hook) posts.
 * 202 with the pushes (not waiting for the device: the FHIR server only needs a 2xx); 200 when
 * every push was already made by an earlier copy of the notification, or there was none.
 */
export async function fhirHookRoute(
  ports: Ports,
  config: CoreConfig,
  req: HttpRequest,
  agentId: string,
  destination: string,
): Promise<HttpResponse> {
  const outcome = await receiveHook(ports, config, validateAgentId(agentId), destination, parseJsonBody(req.body));
  const anyNew = outcome.pushes.some((p) => p.created);
  return json(anyNew ? 202 : 200, {
    type: outcome.type,
    pushes: outcome.pushes.map((p) => ({ ...pushView(p.push), duplicate: !p.created })),
  });
}
