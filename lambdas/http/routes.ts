/** The HTTP routes, matched on method and path, with the scope each needs. */

export type Scope = 'edgepush/push' | 'edgepush/admin';

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
  | 'medplumPush';

export interface RouteMatch {
  name: RouteName;
  scope: Scope | null;
  params: Record<string, string>;
}

interface RouteDef {
  method: string;
  pattern: RegExp;
  name: RouteName;
  scope: Scope | null;
  keys: string[];
}

const SEGMENT = '([^/]+)';

const ROUTES: RouteDef[] = [
  { method: 'GET', pattern: /^\/health$/, name: 'health', scope: null, keys: [] },
  { method: 'POST', pattern: /^\/agents$/, name: 'createAgent', scope: 'edgepush/admin', keys: [] },
  { method: 'GET', pattern: new RegExp(`^/agents/${SEGMENT}$`), name: 'getAgent', scope: 'edgepush/admin', keys: ['agentId'] },
  { method: 'GET', pattern: /^\/agents$/, name: 'listAgents', scope: 'edgepush/admin', keys: [] },
  { method: 'PATCH', pattern: new RegExp(`^/agents/${SEGMENT}$`), name: 'patchAgent', scope: 'edgepush/admin', keys: ['agentId'] },
  { method: 'DELETE', pattern: new RegExp(`^/agents/${SEGMENT}$`), name: 'deleteAgent', scope: 'edgepush/admin', keys: ['agentId'] },
  { method: 'POST', pattern: new RegExp(`^/agents/${SEGMENT}/secret$`), name: 'rotateSecret', scope: 'edgepush/admin', keys: ['agentId'] },
  { method: 'POST', pattern: new RegExp(`^/agents/${SEGMENT}/push$`), name: 'push', scope: 'edgepush/push', keys: ['agentId'] },
  { method: 'GET', pattern: new RegExp(`^/pushes/${SEGMENT}$`), name: 'getPush', scope: 'edgepush/push', keys: ['pushId'] },
  { method: 'GET', pattern: /^\/pushes$/, name: 'listPushes', scope: 'edgepush/push', keys: [] },
  { method: 'POST', pattern: new RegExp(`^/pushes/${SEGMENT}/cancel$`), name: 'cancelPush', scope: 'edgepush/push', keys: ['pushId'] },
  { method: 'POST', pattern: new RegExp(`^/pushes/${SEGMENT}/resend$`), name: 'resendPush', scope: 'edgepush/push', keys: ['pushId'] },
  {
    method: 'POST',
    pattern: new RegExp(`^/fhir/R4/Agent/${SEGMENT}/\\$push$`),
    name: 'medplumPush',
    scope: 'edgepush/push',
    keys: ['agentId'],
  },
];

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
    return { name: route.name, scope: route.scope, params };
  }
  return pathMatched ? 'method' : undefined;
}

/** The scope a route needs, null for /health, undefined for an unknown route. */
export function requiredScope(method: string, path: string): Scope | null | undefined {
  const match = matchRoute(method, path);
  return match === undefined || match === 'method' ? undefined : match.scope;
}

/** Route keys as API Gateway spells them, for the CDK stack. */
export const API_GATEWAY_ROUTES: { routeKey: string; scope: Scope | null }[] = [
  { routeKey: 'GET /health', scope: null },
  { routeKey: 'POST /agents', scope: 'edgepush/admin' },
  { routeKey: 'GET /agents/{agentId}', scope: 'edgepush/admin' },
  { routeKey: 'GET /agents', scope: 'edgepush/admin' },
  { routeKey: 'PATCH /agents/{agentId}', scope: 'edgepush/admin' },
  { routeKey: 'DELETE /agents/{agentId}', scope: 'edgepush/admin' },
  { routeKey: 'POST /agents/{agentId}/secret', scope: 'edgepush/admin' },
  { routeKey: 'POST /agents/{agentId}/push', scope: 'edgepush/push' },
  { routeKey: 'GET /pushes/{pushId}', scope: 'edgepush/push' },
  { routeKey: 'GET /pushes', scope: 'edgepush/push' },
  { routeKey: 'POST /pushes/{pushId}/cancel', scope: 'edgepush/push' },
  { routeKey: 'POST /pushes/{pushId}/resend', scope: 'edgepush/push' },
  { routeKey: 'POST /fhir/R4/Agent/{agentId}/$push', scope: 'edgepush/push' },
];
