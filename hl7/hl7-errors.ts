/** Errors raised by the HL7 helpers. `code` is stable; callers branch on it, never on the text. */
export type Hl7ErrorCode =
  | 'NOT_HL7'
  | 'MISSING_CONTROL_ID'
  // Rendering and reading (builder.ts, reader.ts, datetime.ts, msh-header.ts):
  | 'INVALID_DELIMITERS'
  | 'INVALID_SEGMENT'
  | 'INVALID_VALUE'
  | 'INVALID_DATE'
  | 'INVALID_TIME_ZONE';

export class Hl7Error extends Error {
  readonly code: Hl7ErrorCode;

  constructor(code: Hl7ErrorCode, message: string) {
    super(message);
    this.name = 'Hl7Error';
    this.code = code;
  }
}
