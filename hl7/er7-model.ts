/**
 * The JSON model of an HL7 v2 message that the builder renders and the reader returns.
 *
 * A message is an array of segments. A segment is an array whose index is the HL7 field number:
 * `[name, field1, field2, ...]`, so `pid[5]` is PID-5. MSH follows the standard numbering too:
 * `msh[1]` is MSH-1 (the field separator itself, e.g. '|') and `msh[2]` MSH-2 (the encoding
 * characters, e.g. '^~\\&'); both are written verbatim, never escaped.
 *
 * A field nests, as ER7 does: field → repetitions → components → subcomponents. At each level a
 * value is either a leaf (one item holding one item ... down to the subcomponent) or a list of
 * the next level down:
 *
 *   | JSON                          | ER7        |
 *   |-------------------------------|------------|
 *   | 'Doe'                         | Doe        |
 *   | ['Doe', 'Jane']               | Doe^Jane   |  a field as an array = its components
 *   | [['Home', 'x'], 'y']          | Home&x^y   |  a component as an array = its subcomponents
 *   | { repeat: ['a', ['b', 'c']] } | a~b^c      |  repetitions need the explicit wrapper
 *   | null                          | ""         |  HL7's explicit null ("delete this value")
 *   | '' or undefined               | (empty)    |  not sent ("no change")
 *
 * Components are the common case (names, codes, addresses), so a bare array means components;
 * repetitions are rarer and get the `repeat` wrapper, so a list of names can never be mistaken
 * for one name. Leaves are unescaped data: the builder escapes them, the reader unescapes them.
 *
 * Canonical form (what the reader returns, and what normalizeField computes): trailing empty
 * items are dropped at every level, a list of one leaf becomes that leaf, and `{ repeat }` is used
 * only for two or more repetitions. build → read returns the canonical form of what was built.
 * (MSH-1/MSH-2 are kept as given: when left empty the builder fills them from its options, and the
 * reader then returns the actual characters.)
 */

/** A data value. `null` is HL7's explicit null `""`; '' and undefined are empty. */
export type Hl7Leaf = string | null | undefined;
/** A component: a leaf, or its subcomponents. */
export type Hl7Component = Hl7Leaf | Hl7Leaf[];
/** One repetition of a field: a leaf, or its components. */
export type Hl7Repetition = Hl7Leaf | Hl7Component[];
/** Two or more repetitions of a field. */
export interface Hl7Repeat {
  repeat: Hl7Repetition[];
}
export type Hl7Field = Hl7Repetition | Hl7Repeat;
/** `[name, field1, field2, ...]`: index n is field n. */
export type Hl7Segment = [string, ...Hl7Field[]];

export function isRepeat(field: Hl7Field): field is Hl7Repeat {
  return typeof field === 'object' && field !== null && !Array.isArray(field);
}

/** The canonical form of a field (see the module comment); '' for an empty field. */
export function normalizeField(field: Hl7Field): Hl7Field {
  if (!isRepeat(field)) return normalizeRepetition(field);
  const reps = trimEmpty(field.repeat.map(normalizeRepetition));
  if (reps.length === 0) return '';
  return reps.length === 1 ? reps[0] : { repeat: reps };
}

/** The canonical form of a segment: fields canonical, trailing empty fields dropped. */
export function normalizeSegment(segment: Hl7Segment): Hl7Segment {
  const [name, ...fields] = segment;
  if (name === 'MSH') {
    const [f1, f2, ...rest] = fields;
    return ['MSH', f1 ?? '', f2 ?? '', ...trimEmpty(rest.map(normalizeField))];
  }
  return [name, ...trimEmpty(fields.map(normalizeField))];
}

function normalizeRepetition(rep: Hl7Repetition): Hl7Repetition {
  if (!Array.isArray(rep)) return leaf(rep);
  const components = trimEmpty(rep.map(normalizeComponent));
  if (components.length === 0) return '';
  // One plain component is the leaf itself; one component with subcomponents stays wrapped.
  return components.length === 1 && !Array.isArray(components[0]) ? components[0] : components;
}

function normalizeComponent(c: Hl7Component): Hl7Component {
  if (!Array.isArray(c)) return leaf(c);
  const subcomponents = trimEmpty(c.map(leaf));
  if (subcomponents.length === 0) return '';
  return subcomponents.length === 1 ? subcomponents[0] : subcomponents;
}

function leaf(v: Hl7Leaf): string | null {
  return v === undefined ? '' : v;
}

function isEmpty(v: unknown): boolean {
  return v === '' || v === undefined;
}

function trimEmpty<T>(items: T[]): T[] {
  let n = items.length;
  while (n > 0 && isEmpty(items[n - 1])) n--;
  return n === items.length ? items : items.slice(0, n);
}
