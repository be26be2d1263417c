// Bundles the `edgepush` CLI into dist/. Our own code is bundled; npm dependencies stay
// external so the tarball carries them as ordinary packages (lmdb has a native part).
import { chmodSync, readFileSync } from 'node:fs';
import { build } from 'esbuild';
import { buildConsole } from './build-console.mjs';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

await build({
  entryPoints: { edgepush: 'bin/edgepush.ts' },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  packages: 'external',
  sourcemap: true,
  banner: { js: '#!/usr/bin/env node' },
  define: { __EDGEPUSH_VERSION__: JSON.stringify(version) },
  logLevel: 'warning',
});

// npm links bins before `prepare` runs, so on a fresh `npm ci` it never saw this file to mark
// it executable: without this, `npx edgepush` in the repo answers 'Permission denied'.
chmodSync('dist/edgepush.js', 0o755);

// The web console's static files, served by the hub (dist/console/ beside dist/edgepush.js)
// and bundled into the AWS console function.
await buildConsole();
