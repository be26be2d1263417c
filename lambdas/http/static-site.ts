/**
 * Serving the web console's built files (dist/console/): the hub and the AWS console function
 * both answer with this. Every file is read into memory once (the whole console is tens of KB)
 * and a request is answered only for an exact name in that listing, so no path, however
 * encoded, can reach a file outside the folder.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { CONSOLE_PATH } from './routes';
import { jsonError } from './responses';
import type { HttpResponse } from './http-types';

/** Text files only: the console has no images, and a response body here is a string. */
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * The console calls only its own origin and loads nothing from anywhere else; it is never framed
 * (clickjacking a cancel button) and sends no Referer (the address bar held a token once).
 */
export const CONSOLE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
};

/** Hashed names (assets/app-3KX2.js) never change content: cache them for a year. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** index.html names the current hashed files: always ask again. */
const REVALIDATE = 'no-cache';

interface StaticFile {
  body: string;
  contentType: string;
  cacheControl: string;
}

export interface StaticSite {
  /** Number of files served; 0 when the console was not built. */
  readonly size: number;
  respond(method: string, path: string): HttpResponse;
}

/** Loads `root` (a built console folder); a missing folder gives a site that says how to build it. */
export function loadStaticSite(root: string): StaticSite {
  const files = new Map<string, StaticFile>();
  for (const name of listFiles(root)) {
    const type = CONTENT_TYPES[extensionOf(name)];
    if (!type) continue;
    files.set(name, {
      body: readFileSync(join(root, ...name.split('/')), 'utf8'),
      contentType: type,
      cacheControl: name.startsWith('assets/') ? IMMUTABLE : REVALIDATE,
    });
  }
  return {
    size: files.size,
    respond: (method, path) => respond(files, method, path),
  };
}

function respond(files: Map<string, StaticFile>, method: string, path: string): HttpResponse {
  if (method !== 'GET' && method !== 'HEAD') {
    return withSecurity(jsonError('METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}: the console's files are read-only`));
  }
  // Relative, so it also works under a path prefix (a proxy, or an API Gateway stage).
  if (path === CONSOLE_PATH) return { status: 301, headers: { location: 'console/', ...CONSOLE_SECURITY_HEADERS }, body: '' };
  if (files.size === 0) {
    return withSecurity(jsonError('NOT_FOUND', 'the console is not built: run `npm run build` (it writes dist/console/)'));
  }
  const name = path.slice(CONSOLE_PATH.length + 1) || 'index.html';
  const file = files.get(name);
  if (!file) return withSecurity(jsonError('NOT_FOUND', `no console file ${JSON.stringify(name.slice(0, 100))}`));
  return {
    status: 200,
    headers: { 'content-type': file.contentType, 'cache-control': file.cacheControl, ...CONSOLE_SECURITY_HEADERS },
    body: file.body,
  };
}

function withSecurity(res: HttpResponse): HttpResponse {
  return { ...res, headers: { ...res.headers, ...CONSOLE_SECURITY_HEADERS } };
}

/** Every regular file under `root`, as `/`-separated names relative to it; [] if it is missing. */
function listFiles(root: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(root, { recursive: true, encoding: 'utf8' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return entries
    .filter((entry) => statSync(join(root, entry)).isFile())
    .map((entry) => relative(root, join(root, entry)).split(sep).join('/'))
    .sort();
}

function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? '' : name.slice(dot);
}
