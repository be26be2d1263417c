/**
 * The webhook signature, as the application checks it (docs/PROTOCOL.md, README):
 * `EdgePush-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.
 * The timestamp is signed with the body so a captured delivery cannot be replayed later.
 */
import { createHmac } from 'node:crypto';

export const SIGNATURE_HEADER = 'EdgePush-Signature';
export const MESSAGE_ID_HEADER = 'EdgePush-Message-Id';

export function signatureHeader(secret: string, rawBody: string, unixSeconds: number): string {
  const v1 = createHmac('sha256', secret).update(`${unixSeconds}.${rawBody}`, 'utf8').digest('hex');
  return `t=${unixSeconds},v1=${v1}`;
}
