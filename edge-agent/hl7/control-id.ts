/**
 * New MSH-10 values. HL7 2.3–2.6 limit MSH-10 to 20 characters, so ids are short: a prefix,
 * the time in base 36, a per-process tag so two processes started in the same millisecond still
 * differ, and a per-process counter. The time parts are cached: this runs once per ACK.
 */
import { randomBytes } from 'node:crypto';

const PROCESS_TAG = randomBytes(2).toString('hex').toUpperCase();
let counter = 0;
let lastMs = -1;
let lastMsText = '';

export function newControlId(prefix = 'EP'): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastMsText = now.toString(36).toUpperCase();
  }
  counter = (counter + 1) % 1_679_616; // 36^4 keeps the counter to 4 characters
  return `${prefix}${lastMsText}${PROCESS_TAG}${counter.toString(36).toUpperCase().padStart(4, '0')}`;
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
