/** The console's file server on its own: exact names only, headers, and an unbuilt console. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadStaticSite } from '../../../lambdas/http/static-site';

describe('loadStaticSite', () => {
  const root = mkdtempSync(join(tmpdir(), 'edgepush-site-'));
  mkdirSync(join(root, 'assets'));
  writeFileSync(join(root, 'index.html'), '<!doctype html><p>hi</p>');
  writeFileSync(join(root, 'assets', 'app-ABC123.js'), 'console.log(1)');
  writeFileSync(join(root, 'assets', 'notes.bin'), 'binary');
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('serves only the text files it listed, by exact name', () => {
    const site = loadStaticSite(root);
    expect(site.size).toBe(2);
    expect(site.respond('GET', '/console/')).toMatchObject({ status: 200, body: '<!doctype html><p>hi</p>' });
    expect(site.respond('GET', '/console/assets/app-ABC123.js').headers['cache-control']).toBe('public, max-age=31536000, immutable');
    // Not a type the console uses: not served, though the file exists.
    expect(site.respond('GET', '/console/assets/notes.bin').status).toBe(404);
    expect(site.respond('GET', '/console/ASSETS/app-ABC123.js').status).toBe(404);
    expect(site.respond('GET', '/console/assets/./app-ABC123.js').status).toBe(404);
  });

  it('reads the files once: a file changed later is not served', () => {
    const site = loadStaticSite(root);
    writeFileSync(join(root, 'late.js'), 'x');
    expect(site.respond('GET', '/console/late.js').status).toBe(404);
    rmSync(join(root, 'late.js'));
  });

  it('says how to build the console when it is missing', () => {
    const site = loadStaticSite(join(root, 'nowhere'));
    expect(site.size).toBe(0);
    const res = site.respond('GET', '/console/');
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body)).toStrictEqual({
      code: 'NOT_FOUND',
      error: 'the console is not built: run `npm run build` (it writes dist/console/)',
    });
  });
});
