/**
 * The built-in mappings' messages (the golden inputs: every delimiter, `\`, non-ASCII, missing
 * optional fields) read by peers we did not write: python-hl7 to the same unescaped values as
 * our reader, and @medplum/core's Hl7Message (no unescaping) to the escaped text the escaping
 * rules give for those values.
 */
import { Hl7Message } from '@medplum/core';
import { isRepeat, normalizeField, normalizeSegment, type Hl7Field } from '../../hl7/er7-model';
import { readMessage } from '../../hl7/reader';
import { renderFhir } from '../../mapping/fhir-mapping';
import { GOLDEN_CASES, GOLDEN_OPTIONS, goldenInput } from '../golden/mapping/cases';
import { parseWithPythonHl7 } from '../support/python-hl7';

const HL7_CASES = GOLDEN_CASES.filter((c) => c.target === 'hl7v2');
const rendered = HL7_CASES.map((c) => ({ name: c.output, text: renderFhir(goldenInput(c.input), 'hl7v2', GOLDEN_OPTIONS).text }));

describe('python-hl7 reads the built-in mappings to the values our reader reads', () => {
  const parsed = parseWithPythonHl7(rendered.map((r) => r.text));
  it.each(rendered.map((r, i) => [r.name, r.text, i] as const))('%s', (_name, text, i) => {
    const ours = readMessage(text).segments.map(normalizeSegment);
    expect(parsed[i].map(normalizeSegment)).toEqual(ours);
    // And the values are the data's, not escape sequences: spot-check one value per message.
    expect(JSON.stringify(ours)).not.toMatch(/\\\\[FSTRE]\\\\/);
  });
});

/** Escaping of one value by the rules (written independently of hl7/value-escape.ts). */
function oracleEscape(value: string | null): string {
  if (value === null) return '""';
  const named: Record<string, string> = { '\\': 'E', '|': 'F', '^': 'S', '&': 'T', '~': 'R' };
  return value.replace(/[\\|^&~]/g, (m) => `\\${named[m]}\\`);
}

function leaves(field: Hl7Field): (string | null)[][][] {
  const canonical = normalizeField(field);
  const reps = isRepeat(canonical) ? canonical.repeat : [canonical];
  return reps.map((rep) =>
    (Array.isArray(rep) ? rep : [rep]).map((c) => (Array.isArray(c) ? c : [c]).map((v) => (v === undefined ? '' : v))),
  );
}

describe('@medplum/core Hl7Message reads the built-in mappings to the escaped text of the same values', () => {
  it.each(rendered.map((r) => [r.name, r.text] as const))('%s', (_name, text) => {
    const ours = readMessage(text).segments.map(normalizeSegment);
    const theirs = Hl7Message.parse(text);
    const wrong: unknown[] = [];
    ours.forEach((segment, s) => {
      const seg = theirs.segments[s];
      if (seg.name !== segment[0]) wrong.push({ s, name: seg.name });
      for (let n = segment[0] === 'MSH' ? 3 : 1; n < segment.length; n++) {
        const field = seg.getField(n);
        leaves(segment[n]).forEach((components, r) =>
          components.forEach((subs, c) =>
            subs.forEach((v, sub) => {
              const got = field.getComponent(c + 1, sub, r);
              if (got !== oracleEscape(v))
                wrong.push({ at: `${segment[0]}-${n}[${r}].${c + 1}.${sub + 1}`, got, expected: oracleEscape(v) });
            }),
          ),
        );
      }
    });
    expect(wrong).toEqual([]);
    // Medplum's own view of the header.
    const msh = theirs.getSegment('MSH')!;
    expect(msh.getField(10).toString()).toBe(ours[0][10]);
    expect(msh.getComponent(9, 1)).toBe((ours[0][9] as string[])[0]);
  });
});
