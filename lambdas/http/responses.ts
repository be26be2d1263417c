/** Building HTTP responses: JSON for the native API, FHIR OperationOutcome for the Medplum route. */
import { errorStatus, type ApiErrorCode } from './error-catalogue';
import type { HttpResponse } from './http-types';

export function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body: JSON.stringify(body) };
}

/** `{error, code}` with the code's status from the catalogue. */
export function jsonError(code: ApiErrorCode, error: string): HttpResponse {
  return json(errorStatus(code), { error, code });
}

const FHIR_ISSUE_CODE: Record<number, string> = {
  400: 'invalid',
  401: 'login',
  403: 'forbidden',
  404: 'not-found',
  409: 'conflict',
  413: 'too-long',
  422: 'business-rule',
  429: 'throttled',
  502: 'transient',
  503: 'transient',
  504: 'timeout',
  507: 'exception',
};

/** The code's status from the catalogue; `issueCode`: the FHIR issue type, when the status alone does not say it. */
export function operationOutcome(code: ApiErrorCode, message: string, issueCode?: string): HttpResponse {
  const status = errorStatus(code);
  return {
    status,
    headers: { 'content-type': 'application/fhir+json; charset=utf-8' },
    body: JSON.stringify({
      resourceType: 'OperationOutcome',
      issue: [
        {
          severity: 'error',
          code: issueCode ?? FHIR_ISSUE_CODE[status] ?? 'exception',
          details: { text: message, coding: [{ system: 'https://edgepush.dev/codes', code }] },
        },
      ],
    }),
  };
}
