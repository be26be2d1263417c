/**
 * Sealing a secret the server must use later (a FHIR hook's bearer token): AES-256-GCM under a
 * key derived from the server-side SecretKey, so a leaked table or data dir holds no usable
 * token. Unlike agent secrets it cannot be hashed: it is sent to the FHIR server.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

const VERSION = 'v1';

function derive(key: Buffer, purpose: string): Buffer {
  return createHmac('sha256', key).update(`edgepush seal ${purpose}`).digest();
}

export function seal(plain: string, key: Buffer, purpose: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', derive(key, purpose), iv);
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return [VERSION, iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
}

/** Throws when the text was not sealed with this key and purpose (or was altered). */
export function unseal(sealed: string, key: Buffer, purpose: string): string {
  const [version, iv, body, tag] = sealed.split('.');
  if (version !== VERSION || iv === undefined || body === undefined || tag === undefined) throw new Error('not a sealed value');
  const decipher = createDecipheriv('aes-256-gcm', derive(key, purpose), Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
}
