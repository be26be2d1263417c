/**
 * Webhook signing secrets. Unlike an agent secret, the cloud must use this one (to sign every
 * delivery), so it cannot be hashed: it is sealed with AES-256-GCM under a key derived (HKDF)
 * from the server-side SecretKey, with the agent id as associated data so a sealed secret copied
 * onto another agent does not open. A leaked table alone reveals no secret.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const INFO = 'edgepush webhook secret v1';
/** Shown to the user once; the prefix says what it is when it turns up in a config file. */
const SECRET_PREFIX = 'whsec_';

export function generateWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64url');
}

function sealingKey(serverKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', serverKey, Buffer.alloc(0), INFO, 32));
}

export function sealSecret(secret: string, agentId: string, serverKey: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', sealingKey(serverKey), iv);
  cipher.setAAD(Buffer.from(agentId, 'utf8'));
  const data = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return [VERSION, iv.toString('base64url'), data.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
}

/** Throws when the sealed value was altered, belongs to another agent, or was sealed under another key. */
export function openSecret(sealed: string, agentId: string, serverKey: Buffer): string {
  const [version, iv, data, tag] = sealed.split('.');
  if (version !== VERSION || iv === undefined || data === undefined || tag === undefined) {
    throw new Error('sealed webhook secret has an unknown format');
  }
  const decipher = createDecipheriv('aes-256-gcm', sealingKey(serverKey), Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(agentId, 'utf8'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
}
