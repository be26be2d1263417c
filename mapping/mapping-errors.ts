/**
 * Errors of the mapping layer. `code` is stable (the HTTP layer maps it to a status); `at` names
 * the bad rule (`segments[3].fields[5]`) or the data path that was wrong, so the caller can find it.
 */
export type MappingErrorCode =
  /** The template document itself is wrong (found when it is stored, or a built-in is misused). */
  | 'INVALID_TEMPLATE'
  /** A required value is absent from the data, or no data was given. */
  | 'MISSING_DATA'
  /** A value in the data has the wrong type for its rule (an object where text goes, a bad date). */
  | 'WRONG_DATA_TYPE'
  /** A FHIR resource type with no built-in mapping, or a body that is no FHIR resource. */
  | 'UNSUPPORTED_RESOURCE';

export class MappingError extends Error {
  constructor(
    readonly code: MappingErrorCode,
    readonly at: string,
    message: string,
  ) {
    super(at ? `${at}: ${message}` : message);
    this.name = 'MappingError';
  }
}
