/**
 * The listener's hot path: the framed ACK for a message, built straight from the bytes of its
 * MSH segment into one buffer, with no text decoding, no header object and no intermediate
 * strings. It covers the common case only and returns undefined for anything else, so the caller
 * falls back to encodeFrame(buildAckFor(readMsh(...))), whose output this matches byte for byte:
 *   - the MSH segment is pure ASCII (bytes < 0x80 decode and encode as themselves in every
 *     supported encoding, so copying bytes equals decoding, building text and encoding it);
 *   - it declares the standard component separator '^' (how MSH-9 is read then depends on no
 *     other rule);
 *   - MSH-10 is not empty (an empty one gets an AR with an explanation: the slow path).
 */
import { hl7Timestamp, writeControlId } from '../../hl7/control-id';
import * as framing from './constants';

// Module-local copies of the framing bytes: under a per-file CommonJS transform (tsx, ts-jest)
// every read of an imported binding is a getter call, and these are read per byte or per frame.
const { CR, FS, VT } = framing;

const M = 0x4d;
const S = 0x53;
const H = 0x48;
const A = 0x41;
const C = 0x43;
const K = 0x4b;
const CARET = 0x5e;
const LF = 0x0a;
/** Field boundaries: MSH-(n+2) is payload[bounds[2n], bounds[2n+1]); reused, single-threaded. */
const bounds = new Int32Array(22);
/** The new control id, written here first so its length is known before the frame is allocated. */
const idBytes = new Uint8Array(32);

/**
 * The ACK frame (<VT> ACK <FS><CR>) for the message in `payload`, or undefined. Its first segment
 * ends at the first CR or LF; a payload starting with a blank line is left to the general path.
 */
export function buildAckFrameFast(payload: Buffer, code: 'AA' | 'AE' | 'AR'): Buffer | undefined {
  let end = payload.length;
  if (end < 8 || payload[0] !== M || payload[1] !== S || payload[2] !== H) return undefined;
  const sep = payload[3];
  // The same separator rule as readMsh: printable, not alphanumeric.
  if (sep <= 32 || sep >= 127 || (sep >= 48 && sep <= 57) || (sep >= 65 && sep <= 90) || (sep >= 97 && sep <= 122)) return undefined;
  if (payload[4] !== CARET) return undefined; // component separator must be '^' (also rules out an empty MSH-2)
  let n = 0;
  let from = 4;
  let i = 4;
  for (; i < end; i++) {
    const c = payload[i];
    if (c >= 0x80) return undefined;
    if (c === CR || c === LF) {
      end = i;
      break;
    }
    if (c === sep) {
      if (n < 11) {
        bounds[2 * n] = from;
        bounds[2 * n + 1] = i;
        n++;
      }
      from = i + 1;
    }
  }
  if (n < 11) {
    bounds[2 * n] = from;
    bounds[2 * n + 1] = end;
    n++;
  }
  // readMsh wants 8 characters and a separator after MSH-2; without them the general path reports the error.
  if (end < 8 || n < 2) return undefined;
  for (let k = n; k < 11; k++) {
    bounds[2 * k] = 0;
    bounds[2 * k + 1] = 0;
  }
  // MSH-10, trimmed of the whitespace String.prototype.trim() removes in ASCII.
  let idFrom = bounds[16];
  let idTo = bounds[17];
  while (idFrom < idTo && isTrimmed(payload[idFrom])) idFrom++;
  while (idTo > idFrom && isTrimmed(payload[idTo - 1])) idTo--;
  if (idFrom === idTo) return undefined;
  // MSH-9's trigger: between its first and second '^'.
  let trigFrom = -1;
  let trigTo = -1;
  for (let j = bounds[14]; j < bounds[15]; j++) {
    if (payload[j] !== CARET) continue;
    if (trigFrom === -1) trigFrom = j + 1;
    else {
      trigTo = j;
      break;
    }
  }
  if (trigFrom !== -1 && trigTo === -1) trigTo = bounds[15];
  const trigLen = trigFrom === -1 ? 0 : trigTo - trigFrom;
  const stamp = hl7Timestamp();
  const idLen = writeControlId('ACK', idBytes, 0);
  const procLen = bounds[19] - bounds[18];
  const f = (k: number) => bounds[2 * k + 1] - bounds[2 * k];
  // MSH|enc|MSH-5|MSH-6|MSH-3|MSH-4|stamp||type|id|proc|ver CR MSA|code|ctl CR
  const total =
    3 +
    1 +
    f(0) +
    1 +
    f(3) +
    1 +
    f(4) +
    1 +
    f(1) +
    1 +
    f(2) +
    1 +
    stamp.length +
    2 +
    (trigLen > 0 ? 8 + trigLen : 3) +
    1 +
    idLen +
    1 +
    (procLen > 0 ? procLen : 1) +
    1 +
    f(10) +
    1 +
    3 +
    1 +
    2 +
    1 +
    (idTo - idFrom) +
    1;
  const out = Buffer.allocUnsafe(total + 3);
  out[0] = VT;
  let o = 1;
  out[o++] = M;
  out[o++] = S;
  out[o++] = H;
  out[o++] = sep;
  o = copy(payload, bounds[0], bounds[1], out, o);
  out[o++] = sep;
  o = copy(payload, bounds[6], bounds[7], out, o);
  out[o++] = sep;
  o = copy(payload, bounds[8], bounds[9], out, o);
  out[o++] = sep;
  o = copy(payload, bounds[2], bounds[3], out, o);
  out[o++] = sep;
  o = copy(payload, bounds[4], bounds[5], out, o);
  out[o++] = sep;
  o = ascii(stamp, out, o);
  out[o++] = sep;
  out[o++] = sep;
  out[o++] = A;
  out[o++] = C;
  out[o++] = K;
  if (trigLen > 0) {
    out[o++] = CARET;
    o = copy(payload, trigFrom, trigTo, out, o);
    out[o++] = CARET;
    out[o++] = A;
    out[o++] = C;
    out[o++] = K;
  }
  out[o++] = sep;
  for (let k = 0; k < idLen; k++) out[o++] = idBytes[k];
  out[o++] = sep;
  if (procLen > 0) o = copy(payload, bounds[18], bounds[19], out, o);
  else out[o++] = 0x50; // 'P'
  out[o++] = sep;
  o = copy(payload, bounds[20], bounds[21], out, o);
  out[o++] = CR;
  out[o++] = M;
  out[o++] = S;
  out[o++] = A;
  out[o++] = sep;
  out[o++] = code.charCodeAt(0);
  out[o++] = code.charCodeAt(1);
  out[o++] = sep;
  o = copy(payload, idFrom, idTo, out, o);
  out[o++] = CR;
  out[o++] = FS;
  out[o] = CR;
  return out;
}

function isTrimmed(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/** Short copies: a loop beats Buffer#copy's call overhead for a few dozen bytes. */
function copy(src: Buffer, from: number, to: number, dst: Buffer, at: number): number {
  for (let i = from; i < to; i++) dst[at++] = src[i];
  return at;
}

function ascii(text: string, dst: Buffer, at: number): number {
  for (let i = 0; i < text.length; i++) dst[at++] = text.charCodeAt(i);
  return at;
}
