/**
 * New MSH-10 values. HL7 2.3–2.6 limit MSH-10 to 20 characters, so ids are short: a prefix
 * (up to 3 characters), the time in base 36, a per-process tag so two processes started in the
 * same millisecond still differ, and a per-process counter. The time part is cached per
 * millisecond: this runs once per ACK.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Hl7Error } from './hl7-errors';

const PROCESS_TAG = randomBytes(2).toString('hex').toUpperCase();
let counter = 0;
let lastMs = -1;
let lastMsText = '';

export function newControlId(prefix = 'EP'): string {
  next();
  return prefix + lastMsText + counter;
}

function next(): void {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    // Base-36 milliseconds are 8 characters until 2059, so the parts never run into each other.
    lastMsText = now.toString(36).toUpperCase() + PROCESS_TAG;
  }
  counter = counter === 99_999 ? 0 : counter + 1; // at most 5 digits: 3 + 8 + 4 + 5 = 20 characters
}

let lastSecond = -1;
let lastStamp = '';

/** HL7 DTM in UTC with an explicit offset, so no receiver has to guess the zone: YYYYMMDDHHMMSS+0000. */
export function hl7Timestamp(date?: Date): string {
  if (date) return formatTimestamp(date);
  const second = Math.floor(Date.now() / 1000);
  if (second !== lastSecond) {
    lastSecond = second;
    lastStamp = formatTimestamp(new Date(second * 1000));
  }
  return lastStamp;
}

function formatTimestamp(date: Date): string {
  const p = (n: number) => (n < 10 ? `0${n}` : String(n));
  return `${date.getUTCFullYear()}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}${p(date.getUTCHours())}${p(date.getUTCMinutes())}${p(date.getUTCSeconds())}+0000`;
}

/** Crockford base 32: upper-case letters and digits without I, L, O, U, so ids read back unambiguously. */
const BASE32 = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * The MSH-10 for a push: derived from the push id alone, so every retry of the same push carries
 * the same control id (receivers use it to spot duplicates) and different pushes differ. It is
 * always 20 characters, the MSH-10 length of HL7 2.1–2.6 (ST, 20; 2.7+ allows 199), so the
 * strictest receivers accept it: the optional prefix (up to 6 upper-case letters or digits), then
 * the SHA-256 of the push id in Crockford base 32. A push id is a UUID (128 bits), which cannot be
 * written in 20 case-insensitive characters, hence a hash: with no prefix that is 100 bits, so a
 * collision needs ~2^50 pushes.
 */
export function controlIdForPush(pushId: string, prefix = ''): string {
  if (pushId.length === 0) throw new Hl7Error('INVALID_VALUE', 'controlIdForPush needs a push id');
  if (!/^[A-Z0-9]{0,6}$/.test(prefix)) throw new Hl7Error('INVALID_VALUE', 'a control id prefix is up to 6 upper-case letters or digits');
  const digest = createHash('sha256').update(pushId, 'utf8').digest();
  let out = prefix;
  // 5 bits per character, read from the digest's bit string.
  for (let bit = 0; out.length < 20; bit += 5) {
    const byte = bit >> 3;
    const word = (digest[byte] << 8) | digest[byte + 1];
    out += BASE32[(word >> (11 - (bit & 7))) & 31];
  }
  return out;
}
