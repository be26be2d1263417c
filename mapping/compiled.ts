/** The checked, parsed form of a template that render-template.ts runs: paths parsed once. */
import type { ParsedPath } from './path';
import type { Target, ValueFormat } from './template-model';

export type CValue =
  | { kind: 'const'; value: string | null }
  | { kind: 'setId' }
  | {
      kind: 'path';
      path: ParsedPath;
      format?: ValueFormat;
      lookup?: Record<string, string>;
      default?: string;
      required: boolean;
      join?: string;
      at: string;
    };

/** A component: a value or subcomponents. */
export type CComponent = CValue | CValue[];

/** One repetition: a value or components. */
export type CRepetition = { kind: 'value'; value: CValue } | { kind: 'components'; components: CComponent[] };

export type CField = CRepetition | { kind: 'repeat'; each: ParsedPath; at: string; value: CRepetition };

export interface CSegment {
  kind: 'segment';
  name: string;
  /** [field number, rule], ascending. */
  fields: [number, CField][];
  each?: ParsedPath;
  when?: ParsedPath;
  at: string;
}

export interface CGroup {
  kind: 'group';
  children: (CSegment | CGroup)[];
  each?: ParsedPath;
  when?: ParsedPath;
  at: string;
}

export interface CompiledTemplate {
  target: Target;
  messageType?: { code: string; trigger: string; structure?: string };
  version: string;
  timeZone?: string;
  header: Record<string, CValue>;
  body: (CSegment | CGroup)[];
}
