/** The golden cases of the built-in mappings: input file, target, and the output file they must render to. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Target } from '../../../mapping/template-model';

export const GOLDEN_DIR = __dirname;

export const GOLDEN_CASES: { input: string; target: Target; output: string }[] = [
  { input: 'service-request-bundle.json', target: 'hl7v2', output: 'service-request-bundle.orm.er7' },
  { input: 'service-request-bundle.json', target: 'astm', output: 'service-request-bundle.astm' },
  { input: 'service-request-contained.json', target: 'hl7v2', output: 'service-request-contained.orm.er7' },
  { input: 'service-request-contained.json', target: 'astm', output: 'service-request-contained.astm' },
  { input: 'patient-encounter-bundle.json', target: 'hl7v2', output: 'patient-encounter-bundle.adt-a08.er7' },
  { input: 'patient-minimal.json', target: 'hl7v2', output: 'patient-minimal.adt-a04.er7' },
];

/** Fixed so the files are stable: MSH-7 / H-14, MSH-10 / H-3 and the site's zone. */
export const GOLDEN_OPTIONS = { now: new Date('2024-07-01T10:00:00.123Z'), pushId: 'golden-push-1', timeZone: 'Europe/Berlin' };

export function goldenInput(name: string): unknown {
  return JSON.parse(readFileSync(join(GOLDEN_DIR, name), 'utf8'));
}

/** Stored with LF line ends for readable diffs; messages use CR. */
export function goldenOutput(name: string): string {
  return readFileSync(join(GOLDEN_DIR, name), 'utf8').replace(/\n/g, '\r');
}
