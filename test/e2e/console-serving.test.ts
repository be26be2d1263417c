/**
 * How the hub (`edgepush hub` child process) serves the console's files: types, caching,
 * security headers, no token needed, and no way out of dist/console/ however the path is spelt.
 * Raw requests (node:http), since fetch would normalise `..` away before sending.
 */
import { execFileSync } from 'node:child_process';
import { request } from 'node:http';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHub, stopAll, tempDir, type HubProc } from './harness';

const ROOT = join(__dirname, '../..');

function raw(base: string, method: string, path: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, method, path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the hub serves the console', () => {
  const dir = tempDir();
  let hub: HubProc;
  const assets = readdirSync(join(ROOT, 'dist/console/assets'));
  const script = assets.find((f) => f.endsWith('.js'))!;
  const styles = assets.find((f) => f.endsWith('.css'))!;

  beforeAll(async () => {
    hub = await startHub(dir.path);
  });
  afterAll(async () => {
    await stopAll();
    dir.remove();
  });

  it('answers /console/ with index.html, without a token, never cached, with a strict CSP', async () => {
    const res = await raw(hub.url, 'GET', '/console/');
    expect(res.status).toBe(200);
    expect(res.headers).toMatchObject({
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-cache',
      'content-security-policy': "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'",
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    });
    expect(res.body).toContain(`src="./assets/${script}"`);
    expect(res.body).toContain(`href="./assets/${styles}"`);
    expect(res.body).not.toMatch(/https?:\/\//);
    expect(await raw(hub.url, 'GET', '/console/index.html')).toMatchObject({ status: 200, body: res.body });
    expect(await raw(hub.url, 'GET', '/console/?x=1')).toMatchObject({ status: 200, body: res.body });
  });

  it('caches the hashed assets for a year, with their content types', async () => {
    const js = await raw(hub.url, 'GET', `/console/assets/${script}`);
    expect(js.status).toBe(200);
    expect(js.headers).toMatchObject({
      'content-type': 'text/javascript; charset=utf-8',
      'cache-control': 'public, max-age=31536000, immutable',
    });
    const css = await raw(hub.url, 'GET', `/console/assets/${styles}`);
    expect(css.headers).toMatchObject({
      'content-type': 'text/css; charset=utf-8',
      'cache-control': 'public, max-age=31536000, immutable',
    });
    const icon = await raw(hub.url, 'GET', '/console/favicon.svg');
    expect(icon.headers).toMatchObject({ 'content-type': 'image/svg+xml; charset=utf-8', 'cache-control': 'no-cache' });
  });

  it('redirects /console to /console/, relatively, so the assets resolve', async () => {
    const res = await raw(hub.url, 'GET', '/console');
    expect(res.status).toBe(301);
    expect(res.headers.location).toBe('console/');
  });

  it('answers HEAD without a body and refuses other methods with 405', async () => {
    const head = await raw(hub.url, 'HEAD', '/console/');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    const post = await raw(hub.url, 'POST', '/console/');
    expect(post.status).toBe(405);
    expect(JSON.parse(post.body)).toMatchObject({ code: 'METHOD_NOT_ALLOWED' });
  });

  it.each([
    '/console/../package.json',
    '/console/../../package.json',
    '/console/assets/../../edgepush.js',
    '/console/%2e%2e/edgepush.js',
    '/console/%2e%2e%2f%2e%2e%2fpackage.json',
    '/console/assets/..%2f..%2fedgepush.js',
    '/console/..%5c..%5cpackage.json',
    '/console/assets/',
    '/console/assets',
    '/console//etc/passwd',
    '/console/%00index.html',
    '/console/index.html%00.js',
    '/console/nope.js',
  ])('never serves anything outside the console for %s', async (path) => {
    const res = await raw(hub.url, 'GET', path);
    // node:http does not resolve `..`; a client that did would ask for /package.json: no route.
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'NOT_FOUND' });
    expect(res.body).not.toMatch(/"name": ?"edgepush"|use strict|root:/);
    expect(res.headers['content-security-policy']).toBeDefined();
  });

  it('ships the built console in the npm package', () => {
    const [pack] = JSON.parse(
      execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
        cwd: ROOT,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }),
    ) as { files: { path: string }[] }[];
    const files = pack.files.map((f) => f.path);
    expect(files).toEqual(
      expect.arrayContaining([
        'dist/console/index.html',
        `dist/console/assets/${script}`,
        `dist/console/assets/${styles}`,
        'dist/console/favicon.svg',
      ]),
    );
    expect(files.filter((f) => f.startsWith('console/'))).toStrictEqual([]);
  });
});

describe('the console build', () => {
  it('is deterministic: two builds give the same bytes as dist/console/', async () => {
    const out = mkdtempSync(join(tmpdir(), 'edgepush-console-'));
    try {
      const script = `import(${JSON.stringify(join(ROOT, 'scripts/build-console.mjs'))}).then((m) => m.buildConsole(process.argv[1]))`;
      for (const n of ['a', 'b']) execFileSync(process.execPath, ['-e', script, join(out, n)], { cwd: ROOT });
      const tree = (d: string) =>
        readdirSync(d, { recursive: true, encoding: 'utf8' })
          .sort()
          .map((f) => [f, statSync(join(d, f)).isFile() ? readFileSync(join(d, f), 'utf8') : '']);
      expect(tree(join(out, 'a'))).toStrictEqual(tree(join(out, 'b')));
      expect(tree(join(out, 'a'))).toStrictEqual(tree(join(ROOT, 'dist/console')));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
