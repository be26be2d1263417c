/**
 * The `agents` claim as each cloud hands it over: the hub's jose payload (a JSON array), and
 * API Gateway's JWT authorizer context (array claims arrive as text, `[a b]` or JSON).
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { agentsClaim, mayActOn } from '../../../lambdas/http/agent-access';
import { agentsOf } from '../../../lambdas/handlers/http';

const eventWith = (claims: Record<string, unknown> | undefined) =>
  ({ requestContext: claims === undefined ? {} : { authorizer: { jwt: { claims, scopes: null } } } }) as unknown as APIGatewayProxyEventV2;

describe('the agents claim', () => {
  it('reads an array, API Gateway text forms, and no claim as unrestricted', () => {
    expect(agentsClaim(['a', 'b'])).toStrictEqual(['a', 'b']);
    expect(agentsClaim('[a b]')).toStrictEqual(['a', 'b']);
    expect(agentsClaim('["a","b"]')).toStrictEqual(['a', 'b']);
    expect(agentsClaim('a')).toStrictEqual(['a']);
    expect(agentsClaim(undefined)).toBeUndefined();
  });

  it('restricts to nothing, not to everything, when the claim has another shape', () => {
    expect(agentsClaim(42)).toStrictEqual([]);
    expect(agentsClaim({ a: 1 })).toStrictEqual([]);
    expect(mayActOn([], 'a')).toBe(false);
    expect(mayActOn(undefined, 'a')).toBe(true);
  });

  it('takes it from the JWT authorizer context; IAM auth (no jwt) is unrestricted', () => {
    expect(agentsOf(eventWith({ scope: 'edgepush/push', agents: '[site-1 site-2]' }))).toStrictEqual(['site-1', 'site-2']);
    expect(agentsOf(eventWith({ scope: 'edgepush/push' }))).toBeUndefined();
    expect(agentsOf(eventWith(undefined))).toBeUndefined();
  });
});
