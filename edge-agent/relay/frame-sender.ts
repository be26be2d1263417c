/**
 * Sends one protocol message over a `ws` WebSocket without any frame exceeding API Gateway's
 * 32 KB frame limit. Messages up to 128 KB are split into continuation frames with
 * `send(chunk, { fin: false })`; larger ones are refused before anything is written.
 */
import type WebSocket from 'ws';
import { MAX_FRAME_BYTES, MAX_MESSAGE_BYTES } from '../../protocol/messages';

/** Largest frame header a client writes: 2 + 8 (64-bit length) + 4 (mask). */
const MAX_HEADER_BYTES = 14;
/** Payload per frame, so that header + payload stays within 32 KB. */
export const FRAME_PAYLOAD_BYTES = MAX_FRAME_BYTES - MAX_HEADER_BYTES;

export class MessageTooLargeError extends Error {
  readonly code = 'MESSAGE_TOO_LARGE';
  constructor(readonly bytes: number) {
    super(`message of ${bytes} bytes exceeds the ${MAX_MESSAGE_BYTES}-byte WebSocket message limit`);
    this.name = 'MessageTooLargeError';
  }
}

/** Splits `buf` into chunks of at most `size` bytes, never inside a UTF-8 sequence. */
export function splitUtf8(buf: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  let start = 0;
  while (buf.length - start > size) {
    let end = start + size;
    // Step back off continuation bytes (10xxxxxx) so each frame ends on a character boundary.
    while (end > start && (buf[end] & 0xc0) === 0x80) end--;
    chunks.push(buf.subarray(start, end));
    start = end;
  }
  chunks.push(buf.subarray(start));
  return chunks;
}

/**
 * Writes `text` as one WebSocket text message. The frames are queued synchronously, so no
 * other message (a heartbeat, say) can interleave with a fragmented one.
 */
export function sendText(ws: WebSocket, text: string): void {
  const buf = Buffer.from(text, 'utf8');
  if (buf.length > MAX_MESSAGE_BYTES) throw new MessageTooLargeError(buf.length);
  const chunks = splitUtf8(buf, FRAME_PAYLOAD_BYTES);
  chunks.forEach((chunk, i) => {
    ws.send(chunk, { binary: false, fin: i === chunks.length - 1, compress: false });
  });
}
