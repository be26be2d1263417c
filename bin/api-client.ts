/**
 * A tiny client for the EdgePush HTTP API, used by `edgepush agent|push|demo`. Works against
 * the hub or the AWS deployment (JWT auth, or IAM auth with --sigv4). Uses Node's built-in fetch.
 */
import { signRequest } from './sigv4';

export interface ApiTarget {
  api: string;
  /** Bearer token (hub, JWT auth). */
  token?: string;
  /** Sign with SigV4 from the AWS credential chain instead (IAM auth). */
  sigv4?: { region: string };
}

export interface ApiResponse<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export async function callApi<T = Record<string, unknown>>(
  target: ApiTarget,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = 60_000,
): Promise<ApiResponse<T>> {
  const url = new URL(path.replace(/^\//, ''), target.api.endsWith('/') ? target.api : `${target.api}/`);
  const text = body === undefined ? undefined : JSON.stringify(body);
  let headers: Record<string, string> = text === undefined ? {} : { 'content-type': 'application/json' };
  if (target.sigv4) {
    // signRequest loads the signer (an optional dependency) only now.
    headers = await signRequest({ method, url, headers, body: text }, target.sigv4);
  } else {
    headers.authorization = `Bearer ${target.token}`;
  }
  let res: Response;
  try {
    res = await fetch(url, { method, headers, body: text, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    // fetch says only "fetch failed"; the cause has the reason: a code (ECONNREFUSED), or a
    // message, e.g. "bad port" for the ports fetch refuses outright (6000, 6665-6669...).
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    let why = cause?.code ?? cause?.message ?? (err as Error).message;
    if (why === 'bad port') why = `bad port (Node's fetch refuses port ${url.port}; run the hub on another --port)`;
    else if (why === 'ECONNREFUSED') why = `connection refused (is the hub running at ${url.origin}?)`;
    throw new ApiError(0, 'UNREACHABLE', `cannot reach ${url.origin}: ${why}`);
  }
  const answer = await res.text();
  let parsed: unknown;
  try {
    parsed = answer ? JSON.parse(answer) : {};
  } catch {
    parsed = { raw: answer };
  }
  return { status: res.status, body: parsed as T, headers: res.headers };
}

/** The API's `{error, code}` as an ApiError (for non-2xx answers that are not a push result). */
export function toApiError(res: ApiResponse): ApiError {
  const error = typeof res.body.error === 'string' ? res.body.error : `HTTP ${res.status}`;
  const code = typeof res.body.code === 'string' ? res.body.code : 'HTTP_ERROR';
  return new ApiError(res.status, code, error);
}
