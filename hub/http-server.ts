/**
 * The hub's HTTP front: node:http request -> auth -> handleHttp(core) -> response.
 * The request body is read with a hard cap: past it the hub answers 413 at once and discards
 * the rest without buffering it (the core's own, smaller message limit applies after this).
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { EdgePushCore } from '../lambdas/core/core';
import { jsonError, operationOutcome } from '../lambdas/http/responses';
import { handleHttp } from '../lambdas/http/router';
import type { HttpResponse } from '../lambdas/http/http-types';
import { isConsolePath } from '../lambdas/http/routes';
import type { StaticSite } from '../lambdas/http/static-site';
import type { HubAuth } from './auth';

export const DEFAULT_MAX_REQUEST_BYTES = 1024 * 1024;

/**
 * The request cap for a given largest push body: the body travels JSON-escaped in the request
 * (`\r` and `"` take two bytes each), plus room for the other fields.
 */
export function requestBytesFor(maxBodyBytes: number): number {
  return Math.max(DEFAULT_MAX_REQUEST_BYTES, 2 * maxBodyBytes + 64 * 1024);
}

export interface HttpHandlerOptions {
  core: Pick<EdgePushCore, 'ports' | 'config'>;
  auth: HubAuth;
  maxRequestBytes?: number;
  /** Base URL for Location headers; default http://<Host header>. */
  publicUrl?: string;
  logger?: Logger;
  /** The web console's files, served at /console/ without auth (they hold no data). */
  console?: StaticSite;
}

export function createHttpHandler(options: HttpHandlerOptions): RequestListener {
  const max = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  return (req, res) => {
    const started = process.hrtime.bigint();
    void handle(req, max, options)
      .catch((err: unknown) => {
        // A caller that hangs up mid-request is not a server fault: no error line, no stack (issue 9 #12).
        if (clientGone(req, err)) {
          options.logger?.debug(
            { method: req.method, path: pathOf(req), reason: (err as Error).message },
            'client disconnected mid-request',
          );
          return jsonError('CLIENT_DISCONNECTED', 'the client went away');
        }
        options.logger?.error({ err }, 'http handler failed');
        return jsonError('INTERNAL', 'internal error');
      })
      .then((response) => {
        write(res, response);
        options.logger?.debug(
          { method: req.method, path: pathOf(req), status: response.status, ms: Number(process.hrtime.bigint() - started) / 1e6 },
          'request',
        );
      });
  };
}

async function handle(req: IncomingMessage, max: number, options: HttpHandlerOptions): Promise<HttpResponse> {
  const method = req.method ?? 'GET';
  const path = pathOf(req);
  if (options.console && isConsolePath(path)) {
    req.resume(); // a GET has no body; anything sent anyway is not read
    return options.console.respond(method, path);
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > max) return tooLarge(req, max);
  const auth = await options.auth.check(method, path, req.headers.authorization);
  if (!auth.ok) {
    req.resume(); // discard any body: it is not ours to read
    return auth.response;
  }
  const body = await readBody(req, max);
  if (body === undefined) return tooLarge(req, max);
  return handleHttp(options.core, {
    method,
    path,
    headers: flattenHeaders(req.headers),
    query: Object.fromEntries(new URL(req.url ?? '/', 'http://h').searchParams),
    body: body.length > 0 ? body.toString('utf8') : undefined,
    scopes: auth.scopes,
    agents: auth.agents,
    baseUrl:
      options.publicUrl ?? `${'encrypted' in req.socket && req.socket.encrypted ? 'https' : 'http'}://${req.headers.host ?? 'localhost'}`,
  });
}

/** The body, or undefined once it passes `max` (the rest is drained, not kept). */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > max) {
        req.off('data', onData);
        req.off('end', onEnd);
        req.resume();
        chunks.length = 0;
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => resolve(Buffer.concat(chunks, size));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', reject);
  });
}

/** The request failed because its client went away (reset, or aborted before the body ended). */
function clientGone(req: IncomingMessage, err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return req.destroyed || code === 'ECONNRESET' || code === 'ECONNABORTED' || code === 'EPIPE' || (err as Error)?.message === 'aborted';
}

function tooLarge(req: IncomingMessage, max: number): HttpResponse {
  req.resume();
  const fail = pathOf(req).startsWith('/fhir/') ? operationOutcome : jsonError;
  return fail('PAYLOAD_TOO_LARGE', `request body exceeds ${max} bytes`);
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

function flattenHeaders(headers: IncomingMessage['headers']): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers)) out[name] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}

function write(res: ServerResponse, response: HttpResponse): void {
  if (res.headersSent || res.destroyed) return;
  const headers = { ...response.headers, 'content-length': String(Buffer.byteLength(response.body)) };
  res.writeHead(response.status, headers).end(response.body);
}
