/**
 * ASTM E1381 / CLSI LIS01-A2 frames:
 *
 *   <STX> FN text <ETB|ETX> C1 C2 <CR><LF>
 *
 * FN is one ASCII digit, 1..7 then 0, 1, … across one transfer. C1 C2 is the byte sum, mod 256,
 * of FN through ETB/ETX inclusive, as two uppercase hex digits. A frame carries at most 240 text
 * bytes; a record longer than that continues in ETB (intermediate) frames, and the frame that ends
 * a record (its text ends with the record's CR) is an ETX frame. Different records never share a
 * frame. All of it is computed over encoded bytes: the caller encodes text (latin1 by default).
 */
import { RESTRICTED_BYTES } from '../../astm/records';

export const STX = 0x02;
export const ETX = 0x03;
export const EOT = 0x04;
export const ENQ = 0x05;
export const ACK = 0x06;
export const NAK = 0x15;
export const ETB = 0x17;
export const CR = 0x0d;
export const LF = 0x0a;

/** LIS01-A2 §6.3.1: at most 240 text characters per frame. */
export const MAX_FRAME_TEXT = 240;

const RESTRICTED = RESTRICTED_BYTES;

export function checksum(bytes: Buffer, start: number, end: number): string {
  let sum = 0;
  for (let i = start; i < end; i++) sum = (sum + bytes[i]) & 0xff;
  return sum.toString(16).toUpperCase().padStart(2, '0');
}

/** One frame's bytes. `fn` is the frame number 0..7. */
export function encodeFrame(fn: number, text: Buffer, final: boolean): Buffer {
  const frame = Buffer.allocUnsafe(text.length + 7);
  frame[0] = STX;
  frame[1] = 0x30 + (fn & 7);
  text.copy(frame, 2);
  const end = 2 + text.length;
  frame[end] = final ? ETX : ETB;
  frame.write(checksum(frame, 1, end + 1), end + 1, 'latin1');
  frame[end + 3] = CR;
  frame[end + 4] = LF;
  return frame;
}

export class AstmMessageError extends Error {
  readonly code = 'INVALID_MESSAGE';
  constructor(message: string) {
    super(message);
    this.name = 'AstmMessageError';
  }
}

/**
 * Splits an encoded message (records, each ending in CR; a missing last CR is added) into frame
 * texts: one or more per record, at most `maxText` bytes each. Throws AstmMessageError on a
 * restricted character or an empty message.
 */
export function splitFrames(message: Buffer, maxText = MAX_FRAME_TEXT): { text: Buffer; final: boolean }[] {
  const out: { text: Buffer; final: boolean }[] = [];
  let start = 0;
  for (let i = 0; i < message.length; i++) {
    const b = message[i];
    if (RESTRICTED.has(b)) {
      throw new AstmMessageError(`message holds a restricted control character 0x${b.toString(16).padStart(2, '0')} at byte ${i}`);
    }
    if (b === CR) {
      pushRecord(out, message.subarray(start, i + 1), maxText);
      start = i + 1;
    }
  }
  if (start < message.length) pushRecord(out, Buffer.concat([message.subarray(start), Buffer.of(CR)]), maxText);
  if (out.length === 0) throw new AstmMessageError('message is empty');
  return out;
}

function pushRecord(out: { text: Buffer; final: boolean }[], record: Buffer, maxText: number): void {
  if (record.length === 1) return; // a blank line between records carries nothing
  for (let at = 0; at < record.length; at += maxText) {
    const end = Math.min(at + maxText, record.length);
    out.push({ text: record.subarray(at, end), final: end === record.length });
  }
}

export type FrameCheck =
  { ok: true; fn: number; text: Buffer; final: boolean } | { ok: false; reason: 'STRUCTURE' | 'FRAME_NUMBER' | 'CHECKSUM' };

/**
 * Checks one complete frame, from STX through LF. A frame that fails is answered with NAK; the
 * reason is for logs and counters only.
 */
export function checkFrame(frame: Buffer): FrameCheck {
  const n = frame.length;
  if (n < 7 || frame[0] !== STX || frame[n - 2] !== CR || frame[n - 1] !== LF) return { ok: false, reason: 'STRUCTURE' };
  const terminator = frame[n - 5];
  if (terminator !== ETX && terminator !== ETB) return { ok: false, reason: 'STRUCTURE' };
  const fnByte = frame[1];
  if (fnByte < 0x30 || fnByte > 0x37) return { ok: false, reason: 'FRAME_NUMBER' };
  const sent = frame.toString('latin1', n - 4, n - 2).toUpperCase();
  if (sent !== checksum(frame, 1, n - 4)) return { ok: false, reason: 'CHECKSUM' };
  return { ok: true, fn: fnByte - 0x30, text: frame.subarray(2, n - 5), final: terminator === ETX };
}
