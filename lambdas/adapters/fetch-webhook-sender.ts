/**
 * WebhookSender on Node's fetch, for both adapter sets (the hub, and the AWS delivery Lambda).
 * - One timeout covers the whole exchange, connect to the last byte read.
 * - Redirects are not followed: a 3xx is a failed delivery, so a signed PHI body only ever goes
 *   to the URL the admin set.
 * - At most MAX_ANSWER_BYTES of the answer is read (an HL7 ACK is far smaller); the rest is
 *   dropped, so a hostile or broken endpoint cannot make us buffer megabytes.
 */
import type { WebhookResponse, WebhookSender } from '../core/ports';

export const MAX_ANSWER_BYTES = 64 * 1024;

export class FetchWebhookSender implements WebhookSender {
  async post(url: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<WebhookResponse> {
    const signal = AbortSignal.timeout(timeoutMs);
    let res: Response;
    try {
      res = await fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal });
    } catch (err) {
      throw new Error(describe(err, timeoutMs));
    }
    let text: string;
    try {
      text = await readCapped(res, MAX_ANSWER_BYTES);
    } catch (err) {
      throw new Error(describe(err, timeoutMs));
    }
    const answer: WebhookResponse = { status: res.status, body: text };
    const contentType = res.headers.get('content-type');
    if (contentType !== null) answer.contentType = contentType;
    return answer;
  }
}

async function readCapped(res: Response, max: number): Promise<string> {
  if (!res.body) return '';
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const room = max - size;
    parts.push(value.length > room ? value.subarray(0, room) : value);
    size += Math.min(value.length, room);
    if (size >= max) {
      await reader.cancel();
      break;
    }
  }
  return Buffer.concat(parts).toString('utf8');
}

/** fetch says "fetch failed"; the cause has the reason (ECONNREFUSED, a TLS error...). */
function describe(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `timed out after ${timeoutMs} ms`;
  return e.cause?.code ?? e.cause?.message ?? e.message ?? 'request failed';
}
