/** Minting the hub's access tokens (`edgepush token`). Verification is in auth.ts. */
import { SignJWT } from 'jose';
import type { Scope } from '../lambdas/http/routes';
import { JWT_ALG, JWT_AUDIENCE, JWT_ISSUER, type HubKeys } from './keys';

export const ALL_SCOPES: readonly Scope[] = ['edgepush/push', 'edgepush/receive', 'edgepush/admin'];

export interface TokenOptions {
  scopes?: readonly string[];
  /** jose time span, e.g. '1h', '30d'. Default '24h'. */
  ttl?: string;
  subject?: string;
  /** Restricts the token to these agents (the `agents` claim); absent: any agent. */
  agents?: readonly string[];
}

export async function mintToken(keys: HubKeys, options: TokenOptions = {}): Promise<string> {
  const scopes = options.scopes && options.scopes.length > 0 ? options.scopes : ALL_SCOPES;
  for (const s of scopes) {
    if (!ALL_SCOPES.includes(s as Scope)) throw new Error(`unknown scope ${s}; use ${ALL_SCOPES.join(' or ')}`);
  }
  const claims: { scope: string; agents?: string[] } = { scope: scopes.join(' ') };
  if (options.agents !== undefined) claims.agents = [...options.agents];
  return new SignJWT(claims)
    .setProtectedHeader({ alg: JWT_ALG, typ: 'JWT' })
    .setIssuer(JWT_ISSUER)
    .setAudience(JWT_AUDIENCE)
    .setSubject(options.subject ?? 'edgepush-cli')
    .setIssuedAt()
    .setExpirationTime(options.ttl ?? '24h')
    .sign(keys.privateKey);
}
