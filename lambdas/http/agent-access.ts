/**
 * Tokens restricted to agents (DESIGN.md: a token with an `agents` claim acts only on those
 * agents; others get 403 and lists are filtered). The route table says which agent each route
 * acts on (routes.ts, AgentTarget); this resolves it and decides. Both clouds run it: the hub
 * passes the verified claim, the Lambda the JWT authorizer's.
 */
import type { Ports } from '../core/ports';
import type { RouteMatch } from './routes';
import type { HttpRequest } from './http-types';

/** true when a token restricted to `agents` (undefined: unrestricted) may act on `agentId`. */
export function mayActOn(agents: readonly string[] | undefined, agentId: string): boolean {
  return agents === undefined || agents.includes(agentId);
}

/**
 * The reason to refuse the request with 403, or undefined to go on. Lists (`list`) are not
 * refused here: their handlers filter them. An unknown push or a body without an agentId goes
 * on, so the handler answers it as it would anyone (404, 400).
 */
export async function agentRefusal(ports: Ports, route: RouteMatch, req: HttpRequest): Promise<string | undefined> {
  const agents = req.agents;
  if (agents === undefined) return undefined;
  const refuse = (agentId: string) =>
    mayActOn(agents, agentId)
      ? undefined
      : `this token acts only on agent${agents.length === 1 ? '' : 's'} ${agents.join(', ') || '(none)'}`;
  switch (route.agent) {
    case 'path':
      return refuse(route.params.agentId);
    case 'push': {
      const push = await ports.pushes.get(route.params.pushId);
      return push ? refuse(push.agentId) : undefined;
    }
    case 'message': {
      const message = await ports.inbound.store.get(route.params.messageId);
      return message ? refuse(message.agentId) : undefined;
    }
    case 'body': {
      const agentId = bodyAgentId(req.body);
      return agentId === undefined ? undefined : refuse(agentId);
    }
    case 'list': {
      const asked = req.query?.agentId;
      return asked ? refuse(asked) : undefined;
    }
    default:
      return undefined;
  }
}

function bodyAgentId(body: string | undefined): string | undefined {
  try {
    const agentId = (JSON.parse(body ?? '') as { agentId?: unknown } | null)?.agentId;
    return typeof agentId === 'string' ? agentId : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The `agents` claim of a verified token: undefined when absent (unrestricted). API Gateway's
 * JWT authorizer hands array claims to the Lambda as a string, `[a b]` or JSON; both are read.
 * A claim of any other shape restricts to nothing rather than to everything.
 */
export function agentsClaim(claim: unknown): string[] | undefined {
  if (claim === undefined || claim === null) return undefined;
  if (Array.isArray(claim)) return claim.filter((a): a is string => typeof a === 'string');
  if (typeof claim !== 'string') return [];
  const text = claim.trim();
  if (text.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (Array.isArray(parsed)) return parsed.filter((a): a is string => typeof a === 'string');
    } catch {
      // API Gateway's own spelling: `[a b]`
    }
    return text
      .slice(1, -1)
      .split(/[\s,]+/)
      .filter(Boolean);
  }
  return text.split(/[\s,]+/).filter(Boolean);
}
