/** The HTTP routes, matched on method and path, with the scope each needs. */

export type Scope = 'edgepush/push' | 'edgepush/receive' | 'edgepush/admin';

export type RouteName =
  | 'health'
  | 'createAgent'
  | 'getAgent'
  | 'push'
  | 'getPush'
  | 'listAgents'
  | 'patchAgent'
  | 'rotateSecret'
  | 'deleteAgent'
  | 'listPushes'
  | 'cancelPush'
  | 'resendPush'
  | 'medplumPush'
  | 'putWebhook'
  | 'getWebhook'
  | 'deleteWebhook'
  | 'listMessages'
  | 'getMessage'
  | 'listTemplates'
  | 'getTemplate'
  | 'putTemplate'
  | 'deleteTemplate'
  | 'renderTemplate'
  | 'putFhirHook'
  | 'getFhirHook'
  | 'fhirHook';

/**
 * Which agent a route acts on, for tokens restricted to agents (the `agents` claim): `path`, the
 * {agentId} path parameter; `push`, the agent of the push named by {pushId}; `message`, the agent of
 * the inbound message named by {messageId}; `body`, the agentId
 * in the JSON body (creating an agent); `list`, a list the router filters; null, no agent.
 */
export type AgentTarget = 'path' | 'push' | 'message' | 'body' | 'list' | null;

export interface RouteMatch {
  name: RouteName;
  scope: Scope | null;
  agent: AgentTarget;
  params: Record<string, string>;
}

interface RouteDef {
  /** As API Gateway spells it, e.g. `POST /agents/{agentId}/push`; the matcher is built from it. */
  routeKey: string;
  method: string;
  pattern: RegExp;
  name: RouteName;
  scope: Scope | null;
  agent: AgentTarget;
  keys: string[];
}

/** `{name}` path parts become a capture group; the rest must match literally. */
function route(routeKey: string, name: RouteName, scope: Scope | null, agent: AgentTarget): RouteDef {
  const [method, path] = routeKey.split(' ');
  const keys: string[] = [];
  const parts = path.split('/').map((part) => {
    const param = /^\{(\w+)\}$/.exec(part);
    if (!param) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    keys.push(param[1]);
    return '([^/]+)';
  });
  return { routeKey, method, pattern: new RegExp(`^${parts.join('/')}$`), name, scope, agent, keys };
}

/**
 * The one route table: the hub, the Lambda and the CDK stack all read it. API Gateway rejects
 * a route key path part like `$push` (parts must match `^(\{[\w.-]+\+?\}|[a-zA-Z0-9._-]+)$`),
 * so the Medplum operation is a parameter and the router checks it is `$push`.
 */
const ROUTES: RouteDef[] = [
  route('GET /health', 'health', null, null),
  route('POST /agents', 'createAgent', 'edgepush/admin', 'body'),
  route('GET /agents', 'listAgents', 'edgepush/admin', 'list'),
  route('GET /agents/{agentId}', 'getAgent', 'edgepush/admin', 'path'),
  route('PATCH /agents/{agentId}', 'patchAgent', 'edgepush/admin', 'path'),
  route('DELETE /agents/{agentId}', 'deleteAgent', 'edgepush/admin', 'path'),
  route('POST /agents/{agentId}/secret', 'rotateSecret', 'edgepush/admin', 'path'),
  route('POST /agents/{agentId}/push', 'push', 'edgepush/push', 'path'),
  route('GET /pushes', 'listPushes', 'edgepush/push', 'list'),
  route('GET /pushes/{pushId}', 'getPush', 'edgepush/push', 'push'),
  route('POST /pushes/{pushId}/cancel', 'cancelPush', 'edgepush/push', 'push'),
  route('POST /pushes/{pushId}/resend', 'resendPush', 'edgepush/push', 'push'),
  route('POST /fhir/R4/Agent/{agentId}/{operation}', 'medplumPush', 'edgepush/push', 'path'),
  route('PUT /agents/{agentId}/webhook', 'putWebhook', 'edgepush/admin', 'path'),
  route('GET /agents/{agentId}/webhook', 'getWebhook', 'edgepush/admin', 'path'),
  route('DELETE /agents/{agentId}/webhook', 'deleteWebhook', 'edgepush/admin', 'path'),
  route('GET /agents/{agentId}/messages', 'listMessages', 'edgepush/receive', 'path'),
  route('GET /messages/{messageId}', 'getMessage', 'edgepush/receive', 'message'),
  // Mapping: templates are configuration (admin); reading and previewing them serves pushers.
  route('GET /templates', 'listTemplates', 'edgepush/push', null),
  route('GET /templates/{name}', 'getTemplate', 'edgepush/push', null),
  route('PUT /templates/{name}', 'putTemplate', 'edgepush/admin', null),
  route('DELETE /templates/{name}', 'deleteTemplate', 'edgepush/admin', null),
  route('POST /templates/{name}/render', 'renderTemplate', 'edgepush/push', null),
  route('PUT /agents/{agentId}/fhir-hook/{destination}', 'putFhirHook', 'edgepush/admin', 'path'),
  route('GET /agents/{agentId}/fhir-hook/{destination}', 'getFhirHook', 'edgepush/admin', 'path'),
  // What a FHIR server's Subscription posts: it pushes, so it needs the push scope.
  route('POST /agents/{agentId}/fhir-hook/{destination}', 'fhirHook', 'edgepush/push', 'path'),
];

/**
 * The web console's static files (console/, built to dist/console/): public like /health, since
 * they hold no data; the token stays in the browser and goes only to the API routes above. The
 * hub serves them itself (hub/http-server.ts); on AWS a small function bundles them
 * (lib/console-site.ts). API Gateway spells "the rest of the path" as `{proxy+}`.
 */
export const CONSOLE_PATH = '/console';
export const CONSOLE_ROUTE_KEYS: readonly string[] = [`GET ${CONSOLE_PATH}`, `GET ${CONSOLE_PATH}/{proxy+}`];

/** true for `/console` and everything under `/console/`. */
export function isConsolePath(path: string): boolean {
  return path === CONSOLE_PATH || path.startsWith(`${CONSOLE_PATH}/`);
}

/** The only operation the Medplum route serves. */
export const MEDPLUM_PUSH_OPERATION = '$push';

function stripTrailingSlash(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

/** A match, 'method' when the path exists with another method, or undefined. */
export function matchRoute(method: string, rawPath: string): RouteMatch | 'method' | undefined {
  const path = stripTrailingSlash(rawPath);
  let pathMatched = false;
  for (const route of ROUTES) {
    const m = route.pattern.exec(path);
    if (!m) continue;
    if (route.method !== method.toUpperCase()) {
      pathMatched = true;
      continue;
    }
    const params: Record<string, string> = {};
    try {
      route.keys.forEach((key, i) => {
        params[key] = decodeURIComponent(m[i + 1]);
      });
    } catch {
      // Malformed percent-encoding (`%E0%A4%A`): no id can be spelled that way, so no route.
      return undefined;
    }
    return { name: route.name, scope: route.scope, agent: route.agent, params };
  }
  return pathMatched ? 'method' : undefined;
}

/** The scope a route needs, null for /health, undefined for an unknown route. */
export function requiredScope(method: string, path: string): Scope | null | undefined {
  const match = matchRoute(method, path);
  return match === undefined || match === 'method' ? undefined : match.scope;
}

/** Route keys as API Gateway spells them, for the CDK stack. */
export const API_GATEWAY_ROUTES: readonly { routeKey: string; scope: Scope | null; agent: AgentTarget }[] = ROUTES.map(
  ({ routeKey, scope, agent }) => ({ routeKey, scope, agent }),
);
