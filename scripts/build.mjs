// Bundles the `edgepush` CLI into dist/. Our own code is bundled; npm dependencies stay
// external so the tarball carries them as ordinary packages (lmdb has a native part).
import { chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { buildConsole } from './build-console.mjs';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

const common = {
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  packages: 'external',
  sourcemap: true,
  // Positions in the TypeScript sources are what --enable-source-maps needs; the sources are in
  // the repository. With one bundle per command group (below), shared code sits in several
  // bundles, and embedding it in every map would double the package (3.7 -> 1.8 MB of dist/).
  sourcesContent: false,
  define: { __EDGEPUSH_VERSION__: JSON.stringify(version) },
  logLevel: 'warning',
};

// Each command group the CLI loads lazily (bin/edgepush.ts) is a bundle of its own,
// dist/edgepush-<group>.js, required at run time: V8 keeps a loaded bundle's whole source in
// memory, so `edgepush relay`, which runs for months on a site's box, holds ~180 KB of our code
// instead of the ~530 KB of every command (BENCHMARKS.md, "Relay memory"). They sit beside
// dist/edgepush.js, where the hub looks for dist/console/.
const groups = new Set();
const groupsOnTheirOwn = {
  name: 'groups-on-their-own',
  setup(b) {
    b.onResolve({ filter: /^\.\/commands\/[\w-]+$/ }, (args) => {
      if (args.kind !== 'require-call' || !args.importer.endsWith(join('bin', 'edgepush.ts'))) return undefined;
      const group = args.path.slice('./commands/'.length);
      groups.add(group);
      return { path: `./edgepush-${group}.js`, external: true };
    });
  },
};

await build({
  ...common,
  entryPoints: { edgepush: 'bin/edgepush.ts' },
  banner: { js: '#!/usr/bin/env node' },
  plugins: [groupsOnTheirOwn],
});
await build({
  ...common,
  entryPoints: Object.fromEntries([...groups].map((g) => [`edgepush-${g}`, `bin/commands/${g}.ts`])),
});

// npm links bins before `prepare` runs, so on a fresh `npm ci` it never saw this file to mark
// it executable: without this, `npx edgepush` in the repo answers 'Permission denied'.
chmodSync('dist/edgepush.js', 0o755);

// The web console's static files, served by the hub (dist/console/ beside dist/edgepush.js)
// and bundled into the AWS console function.
await buildConsole();
