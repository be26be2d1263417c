/** The console's only way to the server: the EdgePush HTTP API on the same origin. */

/** An answer other than 2xx, with the API's `{error, code}` when it sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

export type Query = Record<string, string | number | undefined>;

export interface Api {
  get<T>(path: string, query?: Query): Promise<T>;
  send<T>(method: 'POST' | 'PATCH', path: string, body?: unknown): Promise<T>;
}

/** Codes with which an existing route says "no such item", as opposed to "no such route". */
const ITEM_NOT_FOUND = /_NOT_FOUND$/;

/**
 * true when the server has no such route at all (an older server): the hub answers
 * `{code: 'NOT_FOUND'}`, API Gateway `{message: 'Not Found'}` without a code.
 */
export function isMissingRoute(err: unknown): boolean {
  return err instanceof ApiError && err.status === 404 && (err.code === undefined || !ITEM_NOT_FOUND.test(err.code));
}

/**
 * `base`: the API's root, resolved from the console's own address (`/console/` → `/`), so a
 * path prefix in front of both (a proxy, an API Gateway stage) keeps working.
 */
export function createApi(token: string, base: URL, onUnauthorized: (err: ApiError) => void): Api {
  async function call<T>(method: string, path: string, query?: Query, body?: unknown): Promise<T> {
    const url = new URL(path, base);
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== '') url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
    } catch (err) {
      throw new ApiError(0, undefined, `the server did not answer (${(err as Error).message}): is it running?`);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (res.ok) return parsed as T;
    const err = toApiError(res.status, parsed, text);
    if (res.status === 401) onUnauthorized(err);
    throw err;
  }
  return {
    get: (path, query) => call('GET', path, query),
    send: (method, path, body) => call(method, path, undefined, body),
  };
}

function toApiError(status: number, parsed: unknown, text: string): ApiError {
  const body = (parsed && typeof parsed === 'object' ? parsed : {}) as { error?: unknown; code?: unknown; message?: unknown };
  const code = typeof body.code === 'string' ? body.code : undefined;
  const message =
    typeof body.error === 'string' ? body.error : typeof body.message === 'string' ? body.message : text.slice(0, 200) || `HTTP ${status}`;
  return new ApiError(status, code, message);
}

/** One line for a person: what failed and the server's own words. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 403) return `not allowed with this token: ${err.message}`;
    return err.code ? `${err.message} (${err.status} ${err.code})` : `${err.message} (${err.status || 'no answer'})`;
  }
  return (err as Error)?.message ?? String(err);
}
