/**
 * New MSH-10 values. HL7 2.3–2.6 limit MSH-10 to 20 characters, so ids are short: a prefix,
 * the time in base 36, a per-process counter and a little randomness so two processes started
 * in the same millisecond still differ.
 */
import { randomBytes } from 'node:crypto';

const PROCESS_TAG = randomBytes(3).toString('hex').toUpperCase();
let counter = 0;

export function newControlId(prefix = 'EP'): string {
  counter = (counter + 1) % 1_679_616; // 36^4 keeps the counter to 4 characters
  return `${prefix}${Date.now().toString(36).toUpperCase()}${PROCESS_TAG.slice(0, 4)}${counter.toString(36).toUpperCase().padStart(4, '0')}`;
}

/** HL7 DTM in UTC with an explicit offset, so no receiver has to guess the zone: YYYYMMDDHHMMSS+0000. */
export function hl7Timestamp(date = new Date()): string {
  const p = (n: number) => (n < 10 ? `0${n}` : String(n));
  return `${date.getUTCFullYear()}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}${p(date.getUTCHours())}${p(date.getUTCMinutes())}${p(date.getUTCSeconds())}+0000`;
}
