/**
 * Bearer-token auth for the hub's HTTP API, with the same route scopes as on AWS:
 * no or bad token -> 401, token without the route's scope -> 403, /health open.
 * Errors are JSON {error, code}, or a FHIR OperationOutcome on the /fhir route.
 */
import { errors, jwtVerify } from 'jose';
import { jsonError, operationOutcome } from '../lambdas/http/responses';
import { requiredScope } from '../lambdas/http/routes';
import { agentsClaim } from '../lambdas/http/agent-access';
import type { HttpResponse } from '../lambdas/http/http-types';
import { JWT_ALG, JWT_AUDIENCE, JWT_ISSUER, type HubKeys } from './keys';

/** `agents`: the token's `agents` claim (it acts only on those agents); undefined when it has none. */
export type AuthResult = { ok: true; scopes?: string[]; agents?: string[] } | { ok: false; response: HttpResponse };

/** Verified tokens, so a client reusing its token skips the ES256 check (about 0.1 ms of CPU). */
const CACHE_MAX = 1000;

export class HubAuth {
  private readonly verified = new Map<string, { scopes: string[]; agents?: string[]; exp: number }>();

  constructor(private readonly keys: HubKeys) {}

  async check(method: string, path: string, authorization: string | undefined): Promise<AuthResult> {
    const needed = requiredScope(method, path);
    // Public, or unknown (the core answers 404/405 without revealing anything).
    if (needed === null || needed === undefined) return { ok: true };
    const fail = path.startsWith('/fhir/') ? operationOutcome : jsonError;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) {
      return { ok: false, response: withChallenge(fail('UNAUTHORIZED', 'missing Authorization: Bearer <token> header')) };
    }
    const token = match[1];
    let scopes: string[];
    let agents: string[] | undefined;
    const cached = this.verified.get(token);
    if (cached && cached.exp > Date.now() / 1000) {
      scopes = cached.scopes;
      agents = cached.agents;
    } else {
      try {
        const { payload } = await jwtVerify(token, this.keys.publicKey, {
          algorithms: [JWT_ALG],
          issuer: JWT_ISSUER,
          audience: JWT_AUDIENCE,
          requiredClaims: ['exp'],
        });
        scopes = typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [];
        agents = agentsClaim(payload.agents);
        if (this.verified.size >= CACHE_MAX) this.verified.clear();
        this.verified.set(token, { scopes, agents, exp: payload.exp! });
      } catch (err) {
        this.verified.delete(token);
        // A valid token from another hub (another --data dir) is the usual mistake: say so.
        if (err instanceof errors.JWSSignatureVerificationFailed) {
          const why =
            "token signed by another key (its signature does not match this hub's key): mint it with `edgepush token --data <this hub's --data dir>`";
          return { ok: false, response: withChallenge(fail('TOKEN_WRONG_KEY', why)) };
        }
        const why = err instanceof errors.JWTExpired ? 'token expired' : 'invalid token';
        return { ok: false, response: withChallenge(fail('UNAUTHORIZED', why)) };
      }
    }
    if (!scopes.includes(needed)) {
      return { ok: false, response: fail('FORBIDDEN', `this route needs the ${needed} scope`) };
    }
    return { ok: true, scopes, agents };
  }
}

function withChallenge(res: HttpResponse): HttpResponse {
  res.headers['www-authenticate'] = 'Bearer realm="edgepush"';
  return res;
}
