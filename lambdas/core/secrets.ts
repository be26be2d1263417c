/**
 * Agent secrets: 256 random bits, stored only as HMAC-SHA-256 under a server-side key, and
 * compared in constant time. A slow KDF (scrypt, used before) protects guessable passwords;
 * a 256-bit random secret cannot be guessed, so a keyed hash is as strong here and costs
 * microseconds instead of ~190 ms of CPU on every connect, good or bad. The key (AWS: a
 * Secrets Manager secret; hub: a file in the data dir) keeps a leaked table from being
 * useful even for offline checks.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { isLegacyHash, verifyLegacyHash } from './legacy-scrypt';

const PREFIX = 'hmac-sha256$';

export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function hashSecret(secret: string, key: Buffer): string {
  return PREFIX + createHmac('sha256', key).update(secret, 'utf8').digest('base64url');
}

/** `rehash`: it matched an old scrypt hash, which the caller should replace with hashSecret(). */
export type Verdict = { ok: false } | { ok: true; rehash: boolean };

export async function verifySecret(secret: string, stored: string, key: Buffer): Promise<Verdict> {
  if (stored.startsWith(PREFIX)) {
    const expected = Buffer.from(stored.slice(PREFIX.length), 'base64url');
    const actual = createHmac('sha256', key).update(secret, 'utf8').digest();
    return actual.length === expected.length && timingSafeEqual(actual, expected) ? { ok: true, rehash: false } : { ok: false };
  }
  if (isLegacyHash(stored) && (await verifyLegacyHash(secret, stored))) return { ok: true, rehash: true };
  return { ok: false };
}
