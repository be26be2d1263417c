/**
 * What a site downloads: the packed tarball, run through npx from an empty folder, as the
 * README's relay section does. Also `npx cdk synth`, offline and without AWS credentials, as
 * the README's deploy section does. Both are the README's own commands, run as written.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

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
