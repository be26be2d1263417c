// `npm run pack:relay`: a tarball a site installs with no registry access (`npm install -g
// --offline ./edgepush-<version>-<platform>-<arch>.tgz`). It is the npm package with its
// production dependencies bundled (bundleDependencies), copied from this checkout's
// node_modules, so it carries the native parts (lmdb, serialport) built for this platform and
// CPU: build it on the same OS and architecture as the site (e.g. linux-x64).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
// --skip-build: dist/ is already built (the tests' global setup builds it once for every suite).
const skipBuild = args.includes('--skip-build');
const outDir = resolve(args.find((a) => !a.startsWith('--')) ?? root);
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const stage = join(root, '.pack-relay');

if (!skipBuild) execFileSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'inherit' });
rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });
for (const entry of [...pkg.files, 'LICENSE']) cpSync(join(root, entry), join(stage, entry), { recursive: true });

// Every installed production package (hoisted or nested), by its path under node_modules.
const paths = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: root, encoding: 'utf8' })
  .trim()
  .split('\n')
  .slice(1);
for (const path of paths) cpSync(path, join(stage, relative(root, path)), { recursive: true, dereference: true });

const staged = {
  name: pkg.name,
  version: pkg.version,
  description: pkg.description,
  license: pkg.license,
  repository: pkg.repository,
  bugs: pkg.bugs,
  bin: pkg.bin,
  files: pkg.files,
  engines: pkg.engines,
  dependencies: pkg.dependencies,
  bundleDependencies: Object.keys(pkg.dependencies),
};
writeFileSync(join(stage, 'package.json'), `${JSON.stringify(staged, null, 2)}\n`);

const packed = execFileSync('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', stage], { cwd: stage, encoding: 'utf8' })
  .trim()
  .split('\n')
  .pop();
const target = join(outDir, `${pkg.name}-${pkg.version}-${process.platform}-${process.arch}.tgz`);
mkdirSync(outDir, { recursive: true });
renameSync(join(stage, packed), target);
rmSync(stage, { recursive: true, force: true });
process.stdout.write(`${target}\n`);
