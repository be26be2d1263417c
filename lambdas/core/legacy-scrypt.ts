/**
 * The scrypt hashes agents were stored with before HMAC (`scrypt$N$r$p$salt$hash`). Only
 * verified, once per agent: a successful connect re-stores the secret as HMAC (agent-service).
 */
import { scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const KEY_LEN = 32;
/** Bounds on stored parameters, so a corrupt item cannot make a verify take forever. */
const MAX_N = 1 << 17;

function scrypt(secret: string, salt: Buffer, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(secret, salt, KEY_LEN, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

export function isLegacyHash(stored: string): boolean {
  return stored.startsWith('scrypt$') && stored.split('$').length === 6;
}

export async function verifyLegacyHash(secret: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  const [n, r, p] = parts.slice(1, 4).map(Number);
  if (![n, r, p].every(Number.isInteger) || n < 2 || n > MAX_N || r < 1 || r > 32 || p < 1 || p > 16) return false;
  const salt = Buffer.from(parts[4], 'base64url');
  const expected = Buffer.from(parts[5], 'base64url');
  try {
    const actual = await scrypt(secret, salt, { N: n, r, p, maxmem: 256 * n * r + 1024 * 1024 });
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  } catch {
    return false;
  }
}
