/**
 * The HTTP API's error codes and the one table that maps each to a status. The domain's codes
 * (lambdas/core/domain-errors.ts) and the codes only the HTTP front answers with; the table's
 * type makes a code without a status a compile error. Documented in docs/ERRORS.md, which a
 * test keeps in step with this table.
 */
import type { DomainErrorCode } from '../core/domain-errors';

/** Codes the HTTP layer (router, auth, the Medplum route, the hub's front) answers with itself. */
export const HTTP_ERROR_CODES = [
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'UNSUPPORTED_MEDIA_TYPE',
  'CLIENT_DISCONNECTED',
  'UNAUTHORIZED',
  'TOKEN_WRONG_KEY',
  'FORBIDDEN',
  'INTERNAL',
  'PUSH_FAILED',
  'PUSH_EXPIRED',
  'TIMEOUT',
] as const;

export type HttpErrorCode = (typeof HTTP_ERROR_CODES)[number];
export type ApiErrorCode = DomainErrorCode | HttpErrorCode;

export const API_ERROR_STATUS: { readonly [code in ApiErrorCode]: number } = {
  INVALID_JSON: 400,
  INVALID_AGENT_ID: 400,
  MISSING_DESTINATION: 400,
  INVALID_DESTINATION: 400,
  UNSUPPORTED_CONTENT_TYPE: 400,
  MISSING_BODY: 400,
  NOT_HL7: 400,
  NOT_ASTM: 400,
  PAYLOAD_TOO_LARGE: 413,
  INVALID_WAIT_FOR_RESPONSE: 400,
  INVALID_WAIT_TIMEOUT: 400,
  INVALID_RETURN_ACK: 400,
  INVALID_IDEMPOTENCY_KEY: 400,
  INVALID_EXPIRES_IN: 400,
  INVALID_QUERY: 400,
  INVALID_WEBHOOK_URL: 400,
  INVALID_TEMPLATE_NAME: 400,
  INVALID_TEMPLATE: 400,
  BODY_AND_TEMPLATE: 400,
  MISSING_DATA: 400,
  WRONG_DATA_TYPE: 400,
  UNSUPPORTED_RESOURCE: 400,
  INVALID_HOOK: 400,
  TEMPLATE_NOT_FOUND: 404,
  HOOK_NOT_CONFIGURED: 409,
  FHIR_SERVER_FAILED: 502,
  AGENT_NOT_FOUND: 404,
  AGENT_EXISTS: 409,
  AGENT_DISABLED: 409,
  INVALID_AGENT_PATCH: 400,
  DESTINATION_NOT_FOUND: 404,
  PUSH_NOT_FOUND: 404,
  IDEMPOTENCY_CONFLICT: 409,
  TOO_MANY_QUEUED: 429,
  NOT_CANCELLABLE: 409,
  WEBHOOK_NOT_FOUND: 404,
  MESSAGE_NOT_FOUND: 404,
  QUEUE_UNAVAILABLE: 503,
  STORE_FULL: 507,
  STORE_UNAVAILABLE: 503,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  UNSUPPORTED_MEDIA_TYPE: 415,
  // Logged only: the caller hung up before the answer, so nobody reads it.
  CLIENT_DISCONNECTED: 400,
  UNAUTHORIZED: 401,
  TOKEN_WRONG_KEY: 401,
  FORBIDDEN: 403,
  INTERNAL: 500,
  // The Medplum route answers every outcome after the push is stored with 400, never a 5xx:
  // MedplumClient re-sends a POST that gets a 5xx, and each re-send would be a second push.
  PUSH_FAILED: 400,
  PUSH_EXPIRED: 400,
  TIMEOUT: 400,
};

export const API_ERROR_CODES = Object.keys(API_ERROR_STATUS) as ApiErrorCode[];

export function errorStatus(code: ApiErrorCode): number {
  return API_ERROR_STATUS[code];
}
