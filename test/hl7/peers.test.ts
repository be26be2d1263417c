/**
 * Peers we did not write read what the builder renders:
 * - python-hl7 (Debian python3-hl7) must yield the same unescaped values, nulls included;
 * - @medplum/core's Hl7Message does no unescaping, so it must yield the same escaped text for
 *   every repetition and component.
 * CI must have python3-hl7 installed; without it this suite fails (it does not skip).
 */
import { Hl7Message } from '@medplum/core';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { buildMessage } from '../../hl7/builder';
import { DEFAULT_DELIMITERS, type Delimiters } from '../../hl7/delimiters';
import { isRepeat, normalizeField, normalizeSegment, type Hl7Field, type Hl7Segment } from '../../hl7/er7-model';
import { generateMessage, rng } from '../support/hl7-generate';

const SCRIPT = join(__dirname, 'peers', 'python_hl7_read.py');

/** The first interpreter that can import hl7; PYTHON_HL7 overrides (pyenv shims often shadow /usr/bin/python3). */
function pythonWithHl7(): string {
  const candidates = [process.env.PYTHON_HL7, '/usr/bin/python3', 'python3'].filter((c): c is string => !!c);
  for (const cmd of candidates) {
    // -I and a neutral cwd: the repository's own hl7/ folder must not shadow the package.
    const res = spawnSync(cmd, ['-I', '-c', 'import hl7'], { cwd: tmpdir() });
    if (res.status === 0) return cmd;
  }
  throw new Error(`python-hl7 not found (tried ${candidates.join(', ')}): apt-get install -y python3-hl7`);
}

function parseWithPythonHl7(texts: string[]): Hl7Segment[][] {
  const res = spawnSync(pythonWithHl7(), ['-I', SCRIPT], {
    cwd: tmpdir(),
    input: JSON.stringify(texts),
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (res.status !== 0) throw new Error(`python-hl7 failed: ${res.stderr}`);
  return JSON.parse(res.stdout) as Hl7Segment[][];
}

/**
 * The generated messages, each closed by a plain segment: python-hl7 strips whitespace from the
 * ends of the whole message before parsing, which would eat a value's trailing space.
 */
function messages(d: Delimiters, seed: number, count: number): Hl7Segment[][] {
  const next = rng(seed);
  return Array.from({ length: count }, () => [...generateMessage(next, d), ['ZZZ', 'END']]);
}

const CUSTOM: Delimiters = { field: '#', component: '$', repetition: '*', escape: '!', subcomponent: '%' };

describe('python-hl7 reads what the builder renders to the same values', () => {
  it.each([
    ['default delimiters', DEFAULT_DELIMITERS, 11],
    ['other delimiters', CUSTOM, 12],
  ] as const)('%s', (_name, d, seed) => {
    const built = messages(d, seed, 300);
    const parsed = parseWithPythonHl7(built.map((m) => buildMessage(m)));
    const wrong: unknown[] = [];
    built.forEach((message, i) => {
      const theirs = parsed[i].map(normalizeSegment);
      const ours = message.map(normalizeSegment);
      if (!isDeepStrictEqual(theirs, ours)) wrong.push({ text: buildMessage(message), ours, theirs });
    });
    expect(wrong).toEqual([]);
  });

  it('a hand-written ORM with every delimiter, \\, non-ASCII, CR LF, "" and empties', () => {
    const message: Hl7Segment[] = [
      [
        'MSH',
        '|',
        '^~\\&',
        'EDGE|PUSH',
        ['CLOUD', '1.2&3', 'ISO'],
        '',
        '',
        '20240701120000.005+0200',
        '',
        ['ORM', 'O01', 'ORM_O01'],
        'C1',
        'P',
        '2.5.1',
      ],
      [
        'PID',
        '1',
        '',
        { repeat: [['12^3', '', '', ['H&1', '2.16', 'ISO'], 'MR'], '4~5'] },
        '',
        ['Müller-Łukasz', 'Zoë', '山田'],
        null,
        '19800101',
        'F',
      ],
      ['NTE', '1', 'L', 'line 1\r\nline 2 \\ back\\slash\t"tab"'],
      ['NTE', '2', '', '""'],
      ['ZZZ', 'END'],
    ];
    expect(parseWithPythonHl7([buildMessage(message)])[0].map(normalizeSegment)).toEqual(message.map(normalizeSegment));
  });
});

/**
 * The test's own oracle for escaping one value with the default delimiters, written
 * independently of hl7/value-escape.ts (one replace per rule) so that Medplum's raw text is
 * checked against the rules, not against our implementation.
 */
function oracleEscape(value: string | null): string {
  if (value === null) return '""';
  if (value === '""') return '\\X22\\"';
  const named: Record<string, string> = { '\\': 'E', '|': 'F', '^': 'S', '&': 'T', '~': 'R' };
  return value.replace(/[\x00-\x1f\x7f]+|[\\|^&~]/g, (m) => {
    const code = named[m] ?? 'X' + [...m].map((c) => c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')).join('');
    return `\\${code}\\`;
  });
}

/** A canonical field as leaves: repetitions × components × subcomponents. */
function leaves(field: Hl7Field): (string | null)[][][] {
  const canonical = normalizeField(field);
  const reps = isRepeat(canonical) ? canonical.repeat : [canonical];
  return reps.map((rep) =>
    (Array.isArray(rep) ? rep : [rep]).map((c) =>
      (Array.isArray(c) ? c : [c]).map((v) => v ?? null).map((v) => (v === undefined ? '' : v)),
    ),
  );
}

describe('@medplum/core Hl7Message reads what the builder renders to the same escaped text', () => {
  it('generated messages, default delimiters', () => {
    const wrong: unknown[] = [];
    for (const message of messages(DEFAULT_DELIMITERS, 13, 300)) {
      const text = buildMessage(message);
      const parsed = Hl7Message.parse(text);
      // Medplum splits on CR rather than reading it as each segment's terminator, so the final
      // CR leaves one empty segment behind: not ours to count.
      const last = parsed.segments[parsed.segments.length - 1];
      const count = parsed.segments.length - (last?.name === '' && last.fields.length === 1 ? 1 : 0);
      if (count !== message.length) wrong.push({ text, segments: count });
      message.map(normalizeSegment).forEach((segment, s) => {
        const theirs = parsed.segments[s];
        const first = segment[0] === 'MSH' ? 3 : 1;
        // Medplum keeps MSH-1 out of its field list, so its MSH has one entry fewer.
        const fields = theirs.fields.length + (segment[0] === 'MSH' ? 1 : 0);
        if (theirs.name !== segment[0] || fields !== segment.length)
          wrong.push({ text, s, name: theirs.name, fields, expected: segment.length });
        for (let n = first; n < segment.length; n++) {
          const field = theirs.getField(n);
          leaves(segment[n]).forEach((components, r) => {
            if (field.components[r]?.length !== components.length)
              wrong.push({ text, field: `${segment[0]}-${n}`, r, got: field.components[r] });
            components.forEach((subs, c) => {
              // Medplum splits subcomponents only when asked for one (component 1-based, subcomponent
              // and repetition 0-based), on the raw text.
              if (field.components[r]?.[c]?.split('&').length !== subs.length) wrong.push({ text, field: `${segment[0]}-${n}`, r, c });
              subs.forEach((v, sub) => {
                const got = field.getComponent(c + 1, sub, r);
                if (got !== oracleEscape(v))
                  wrong.push({ text, field: `${segment[0]}-${n}.${c + 1}.${sub + 1}`, r, got, expected: oracleEscape(v) });
              });
            });
          });
          if (field.components.length !== leaves(segment[n]).length)
            wrong.push({ text, field: `${segment[0]}-${n}`, repetitions: field.components.length });
        }
      });
    }
    expect(wrong).toEqual([]);
  });

  it('reads the MSH fields by their standard numbers', () => {
    const text = buildMessage([['MSH', '|', '^~\\&', 'A|B', '', '', '', '20240101', '', ['ORM', 'O01', 'ORM_O01'], 'C1', 'P', '2.5.1']]);
    const msh = Hl7Message.parse(text).getSegment('MSH')!;
    expect(msh.getField(3).toString()).toBe('A\\F\\B');
    expect(msh.getComponent(9, 3)).toBe('ORM_O01');
    expect(msh.getField(10).toString()).toBe('C1');
    expect(msh.getField(12).toString()).toBe('2.5.1');
  });
});
