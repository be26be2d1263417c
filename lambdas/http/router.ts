/** Routes an HttpRequest to its handler and turns every error into a clear response. */
import type { EdgePushCore } from '../core/core';
import { DomainError } from '../core/domain-errors';
import { VERSION } from '../../protocol/version';
import { medplumPush } from './medplum-api';
import { putWebhook, readMessage, readMessages, readWebhook, removeWebhook } from './inbound-api';
import {
  patchAgent,
  postAgent,
  postCancel,
  postPush,
  postResend,
  postSecret,
  readAgent,
  readAgents,
  readPush,
  readPushes,
  removeAgent,
} from './push-api';
import {
  deleteTemplateRoute,
  fhirHookRoute,
  getHookRoute,
  getTemplateRoute,
  listTemplatesRoute,
  putHookRoute,
  putTemplateRoute,
  renderTemplateRoute,
} from './mapping-api';
import { json, jsonError, operationOutcome } from './responses';
import { MEDPLUM_PUSH_OPERATION, matchRoute, type RouteName } from './routes';
import { isJsonContentType } from './content-type';
import { agentRefusal } from './agent-access';
import type { HttpRequest, HttpResponse } from './http-types';

const JSON_ROUTES: ReadonlySet<RouteName> = new Set<RouteName>([
  'createAgent',
  'push',
  'medplumPush',
  'putWebhook',
  'putTemplate',
  'renderTemplate',
  'putFhirHook',
  'fhirHook',
]);

/** Every HTTP route of DESIGN.md, answered by the core's services. Never throws. */
export async function handleHttp(core: Pick<EdgePushCore, 'ports' | 'config'>, req: HttpRequest): Promise<HttpResponse> {
  const { ports, config } = core;
  const route = matchRoute(req.method, req.path);
  const fhir = req.path.startsWith('/fhir/');
  const fail = fhir ? operationOutcome : jsonError;
  if (route === undefined) return fail('NOT_FOUND', `no route for ${req.method} ${req.path}`);
  if (route === 'method') return fail('METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${req.path}`);
  // Defence in depth: the hub and API Gateway check scopes first; the core checks again.
  if (route.scope && req.scopes !== undefined && !req.scopes.includes(route.scope)) {
    return fail('FORBIDDEN', `this route needs the ${route.scope} scope`);
  }
  const takesJson = JSON_ROUTES.has(route.name);
  if (takesJson && !isJsonContentType(req.headers['content-type'])) {
    return fail('UNSUPPORTED_MEDIA_TYPE', 'this route takes a JSON body: send Content-Type: application/json');
  }
  try {
    const refusal = await agentRefusal(ports, route, req);
    if (refusal) return fail('FORBIDDEN', refusal);
    switch (route.name) {
      case 'health':
        return json(200, { status: 'ok', version: VERSION });
      case 'createAgent':
        return await postAgent(ports, req);
      case 'getAgent':
        return await readAgent(ports, route.params.agentId);
      case 'push':
        return await postPush(ports, config, req, route.params.agentId);
      case 'getPush':
        return await readPush(ports, route.params.pushId);
      case 'listAgents':
        return await readAgents(ports, req.agents);
      case 'patchAgent':
        return await patchAgent(ports, req, route.params.agentId);
      case 'rotateSecret':
        return await postSecret(ports, route.params.agentId);
      case 'deleteAgent':
        return await removeAgent(ports, route.params.agentId);
      case 'listPushes':
        return await readPushes(ports, req);
      case 'cancelPush':
        return await postCancel(ports, route.params.pushId);
      case 'resendPush':
        return await postResend(ports, config, req, route.params.pushId);
      case 'medplumPush':
        if (route.params.operation !== MEDPLUM_PUSH_OPERATION) {
          return fail('NOT_FOUND', `no operation ${route.params.operation} on Agent`);
        }
        return await medplumPush(ports, config, req, route.params.agentId);
      case 'putWebhook':
        return await putWebhook(ports, config, req, route.params.agentId);
      case 'getWebhook':
        return await readWebhook(ports, route.params.agentId);
      case 'deleteWebhook':
        return await removeWebhook(ports, route.params.agentId);
      case 'listMessages':
        return await readMessages(ports, req, route.params.agentId);
      case 'getMessage':
        return await readMessage(ports, route.params.messageId);
      case 'listTemplates':
        return await listTemplatesRoute(ports);
      case 'getTemplate':
        return await getTemplateRoute(ports, route.params.name);
      case 'putTemplate':
        return await putTemplateRoute(ports, req, route.params.name);
      case 'deleteTemplate':
        return await deleteTemplateRoute(ports, route.params.name);
      case 'renderTemplate':
        return await renderTemplateRoute(ports, req, route.params.name);
      case 'putFhirHook':
        return await putHookRoute(ports, req, route.params.agentId, route.params.destination);
      case 'getFhirHook':
        return await getHookRoute(ports, route.params.agentId, route.params.destination);
      case 'fhirHook':
        return await fhirHookRoute(ports, config, req, route.params.agentId, route.params.destination);
    }
  } catch (err) {
    if (err instanceof DomainError) return fail(err.code, err.message);
    ports.log?.error('request failed', { route: route.name, error: (err as Error).message });
    return fail('INTERNAL', 'internal error');
  }
}
