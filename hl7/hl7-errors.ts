/** Errors raised by the HL7 helpers. `code` is stable; callers branch on it, never on the text. */
export type Hl7ErrorCode = 'NOT_HL7' | 'MISSING_CONTROL_ID';

export class Hl7Error extends Error {
  readonly code: Hl7ErrorCode;

  constructor(code: Hl7ErrorCode, message: string) {
    super(message);
    this.name = 'Hl7Error';
    this.code = code;
  }
}
