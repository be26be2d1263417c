/**
 * New MSH-10 values. HL7 2.3–2.6 limit MSH-10 to 20 characters, so ids are short: a prefix
 * (up to 3 characters), the time in base 36, a per-process tag so two processes started in the
 * same millisecond still differ, and a per-process counter. The time part is cached per
 * millisecond: this runs once per ACK.
 */
import { randomBytes } from 'node:crypto';

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
