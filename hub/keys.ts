/**
 * The hub's ES256 signing key, kept in its data dir (file mode 0600, dir 0700). Created on
 * first use by whichever comes first, `edgepush hub` or `edgepush token`; the `wx` flag makes
 * two racing processes agree on one key.
 */
import { createPublicKey, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportPKCS8, generateKeyPair, importPKCS8, importSPKI, type KeyLike } from 'jose';

export const JWT_ALG = 'ES256';
export const JWT_ISSUER = 'edgepush-hub';
export const JWT_AUDIENCE = 'edgepush';
const PRIVATE_FILE = 'jwt-es256.key.pem';
const AGENT_SECRET_KEY_FILE = 'agent-secret-hmac.key';

export interface HubKeys {
  privateKey: KeyLike;
  publicKey: KeyLike;
  privateKeyPath: string;
}

/** No signing key in the data dir, and the caller did not ask for one to be made. */
export class SigningKeyMissingError extends Error {}

/**
 * `create: false` (for `edgepush token`): a key made there would sign tokens no running hub
 * accepts when the data dir is mistyped, so only the hub (or `token --init`) creates one.
 */
export async function loadOrCreateKeys(dataDir: string, options: { create?: boolean } = {}): Promise<HubKeys> {
  const privateKeyPath = join(dataDir, PRIVATE_FILE);
  if (options.create === false && readIfExists(privateKeyPath) === undefined) {
    throw new SigningKeyMissingError(`no signing key at ${privateKeyPath}`);
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  let privatePem = readIfExists(privateKeyPath);
  if (privatePem === undefined) {
    const pair = await generateKeyPair(JWT_ALG, { extractable: true });
    try {
      writeFileSync(privateKeyPath, await exportPKCS8(pair.privateKey), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    privatePem = readFileSync(privateKeyPath, 'utf8');
  }
  const publicPem = createPublicKey(privatePem).export({ type: 'spki', format: 'pem' }).toString();
  return {
    privateKey: await importPKCS8(privatePem, JWT_ALG),
    publicKey: await importSPKI(publicPem, JWT_ALG),
    privateKeyPath,
  };
}

/**
 * The HMAC key agent secrets are hashed with (lambdas/core/secrets.ts): 32 random bytes, made
 * on first use like the signing key. Losing it invalidates every agent's secret.
 */
export function loadOrCreateAgentSecretKey(dataDir: string): Buffer {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, AGENT_SECRET_KEY_FILE);
  try {
    writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length < 32) throw new Error(`${file} is damaged: expected 32 bytes of base64`);
  return key;
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
