/**
 * What a site downloads: the packed tarball, run through npx from an empty folder, as the
 * README's relay section does. Also `npx cdk synth`, offline and without AWS credentials, as
 * the README's deploy section does. Both are the README's own commands, run as written.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe('packaging', () => {
  it('npx runs the relay from the packed tarball in an empty folder', () => {
    // --ignore-scripts: `npm test` built dist/ already, and rebuilding it here would rewrite
    // the CLI under the other suites' child processes.
    const dir = mkdtempSync(join(tmpdir(), 'edgepush-pack-'));
    try {
      const name = execFileSync('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' })
        .trim()
        .split('\n')
        .pop()!;
      expect(readdirSync(dir)).toContain(name);
      const help = execFileSync('npx', ['--yes', '--prefer-offline', '--package', `./${name}`, 'edgepush', 'relay', '--help'], {
        cwd: dir,
        encoding: 'utf8',
      });
      expect(help).toMatch(/Usage: edgepush relay/);
      expect(help).toMatch(/--device <name=mllp:\/\/host:port>/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('npm run pack:relay makes a tarball that installs with no registry and runs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'edgepush-relay-pack-'));
    try {
      const out = execFileSync('npm', ['run', '--silent', 'pack:relay', '--', join(dir, 'out'), '--skip-build'], {
        cwd: ROOT,
        encoding: 'utf8',
      });
      const tarball = out.trim().split('\n').pop()!;
      expect(tarball).toBe(join(dir, 'out', `edgepush-${VERSION}-${process.platform}-${process.arch}.tgz`));
      // An empty npm cache and --offline: anything not in the tarball would fail the install.
      const site = join(dir, 'site');
      execFileSync('mkdir', ['-p', site]);
      execFileSync('npm', ['init', '-y'], { cwd: site, stdio: 'ignore' });
      execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--cache', join(dir, 'cache'), tarball], {
        cwd: site,
        encoding: 'utf8',
      });
      const bin = join(site, 'node_modules', '.bin', 'edgepush');
      expect(execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim()).toBe(VERSION);
      // The native parts load (lmdb for the relay's spool, serialport for ASTM serial lines).
      const native = execFileSync(process.execPath, ['-e', "require('lmdb'); require('serialport'); process.stdout.write('ok')"], {
        cwd: join(site, 'node_modules', 'edgepush'),
        encoding: 'utf8',
      });
      expect(native).toBe('ok');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);

  it('npx cdk synth works offline with no AWS credentials', () => {
    const env = { ...process.env };
    for (const k of Object.keys(env)) if (k.startsWith('AWS_')) delete env[k];
    const out = mkdtempSync(join(tmpdir(), 'edgepush-cdkout-'));
    try {
      execFileSync('npx', ['cdk', 'synth', '--quiet', '--output', out], {
        cwd: ROOT,
        env,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      expect(readdirSync(out)).toContain('EdgePush-dev.template.json'); // cdk.json's default stage
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);
});
