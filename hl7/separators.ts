/** The delimiters a message declares in MSH-1 and MSH-2. */
export interface Separators {
  field: string;
  component: string;
  repetition: string;
  escape: string;
  subcomponent: string;
}

export const DEFAULT_SEPARATORS: Separators = { field: '|', component: '^', repetition: '~', escape: '\\', subcomponent: '&' };

/** Reads MSH-2 (e.g. '^~\\&' or the v2.7 '^~\\&#'); missing characters fall back to the defaults. */
export function separatorsFrom(field: string, encodingCharacters: string): Separators {
  return {
    field,
    component: encodingCharacters[0] ?? DEFAULT_SEPARATORS.component,
    repetition: encodingCharacters[1] ?? DEFAULT_SEPARATORS.repetition,
    escape: encodingCharacters[2] ?? DEFAULT_SEPARATORS.escape,
    subcomponent: encodingCharacters[3] ?? DEFAULT_SEPARATORS.subcomponent,
  };
}
