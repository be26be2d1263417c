/**
 * Errors the domain reports to its callers. A domain error carries a stable code and a readable
 * message, never an HTTP status: the HTTP layer maps codes to statuses in one table
 * (lambdas/http/error-catalogue.ts). Every code is documented in docs/ERRORS.md.
 */

export const DOMAIN_ERROR_CODES = [
  // The request
  'INVALID_JSON',
  'INVALID_AGENT_ID',
  'MISSING_DESTINATION',
  'INVALID_DESTINATION',
  'UNSUPPORTED_CONTENT_TYPE',
  'MISSING_BODY',
  'NOT_HL7',
  'NOT_ASTM',
  'PAYLOAD_TOO_LARGE',
  'INVALID_WAIT_FOR_RESPONSE',
  'INVALID_WAIT_TIMEOUT',
  'INVALID_RETURN_ACK',
  'INVALID_IDEMPOTENCY_KEY',
  'INVALID_EXPIRES_IN',
  'INVALID_QUERY',
  'INVALID_WEBHOOK_URL',
  // Mapping (templates, FHIR)
  'INVALID_TEMPLATE_NAME',
  'INVALID_TEMPLATE',
  'BODY_AND_TEMPLATE',
  'MISSING_DATA',
  'WRONG_DATA_TYPE',
  'UNSUPPORTED_RESOURCE',
  'INVALID_HOOK',
  'TEMPLATE_NOT_FOUND',
  'HOOK_NOT_CONFIGURED',
  'FHIR_SERVER_FAILED',
  // The state
  'AGENT_NOT_FOUND',
  'AGENT_EXISTS',
  'AGENT_DISABLED',
  'INVALID_AGENT_PATCH',
  'DESTINATION_NOT_FOUND',
  'PUSH_NOT_FOUND',
  'IDEMPOTENCY_CONFLICT',
  'TOO_MANY_QUEUED',
  'NOT_CANCELLABLE',
  'WEBHOOK_NOT_FOUND',
  'MESSAGE_NOT_FOUND',
  // The platform
  'QUEUE_UNAVAILABLE',
  'STORE_FULL',
  'STORE_UNAVAILABLE',
] as const;

export type DomainErrorCode = (typeof DOMAIN_ERROR_CODES)[number];

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}
