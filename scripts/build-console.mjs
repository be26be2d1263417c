// Builds the web console (console/) into dist/console/: index.html plus content-hashed assets,
// so the hub and the AWS console function can cache assets forever and index.html never.
// esbuild alone (already the CLI's bundler): one pass, well under a second, and the same
// input gives byte-identical output (hashes are of content).
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { build } from 'esbuild';

/** `out`: dist/console/ for the hub, the package and the AWS function; elsewhere for tests. */
export async function buildConsole(out = 'dist/console') {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const result = await build({
    entryPoints: { app: 'console/src/main.tsx' },
    outdir: `${out}/assets`,
    entryNames: '[name]-[hash]',
    bundle: true,
    minify: true,
    format: 'esm',
    // Browsers of the last few years; nothing here needs a polyfill.
    target: ['chrome110', 'firefox110', 'safari16', 'edge110'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: 'console/tsconfig.json',
    metafile: true,
    logLevel: 'warning',
  });
  const outputs = Object.keys(result.metafile.outputs);
  const script = outputs.find((f) => f.endsWith('.js'));
  const styles = outputs.find((f) => f.endsWith('.css'));
  if (!script || !styles) throw new Error(`console build: expected one .js and one .css output, got ${outputs.join(', ')}`);
  const html = readFileSync('console/index.html', 'utf8')
    .replace('%SCRIPT%', `assets/${basename(script)}`)
    .replace('%STYLES%', `assets/${basename(styles)}`);
  writeFileSync(`${out}/index.html`, html);
  // Files served as they are (the icon), so the browser asks the server for nothing that 404s.
  cpSync('console/public', out, { recursive: true });
}
