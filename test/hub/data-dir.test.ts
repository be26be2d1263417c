/**
 * A pre-existing data dir is made private on start, 0700 dirs and 0600 files (issue 9 #7),
 * and a hub that cannot do that refuses to start with a clear message. `edgepush hub` processes.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, run, stopAll, tempDir } from '../e2e/harness';

const modeOf = (path: string) => statSync(path).mode & 0o777;

function everything(dir: string): string[] {
  const out = [dir];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...everything(path));
    else out.push(path);
  }
  return out;
}

describe('hub data dir permissions', () => {
  afterAll(stopAll);

  it('makes a world-readable data dir from an earlier run private on start', async () => {
    const dir = tempDir();
    try {
      const first = run(['hub', '--port', '0', '--data', dir.path, '--log-level', 'warn']);
      await first.waitFor(/Push API:/);
      first.child.kill('SIGTERM');
      await first.exited;
      // What issue 9 found: dir 0755, data.mdb 0644.
      for (const path of everything(dir.path)) chmodSync(path, statSync(path).isDirectory() ? 0o755 : 0o644);
      expect(modeOf(join(dir.path, 'store', 'data.mdb'))).toBe(0o644);

      const second = run(['hub', '--port', '0', '--data', dir.path, '--log-level', 'warn']);
      await second.waitFor(/Push API:/);
      const paths = everything(dir.path);
      expect(paths.length).toBeGreaterThanOrEqual(4);
      for (const path of paths) expect([path, modeOf(path)]).toEqual([path, statSync(path).isDirectory() ? 0o700 : 0o600]);
      second.child.kill('SIGTERM');
      await second.exited;
    } finally {
      dir.remove();
    }
  });

  it('refuses to start, saying why and how to fix it, when the data dir cannot be made private', async () => {
    // A dir this user does not own: as root, run the hub as nobody on a root-owned dir; otherwise use /.
    const root = process.getuid?.() === 0;
    const dataDir = root ? mkdtempSync(join(tmpdir(), 'edgepush-foreign-')) : '/';
    if (root) chmodSync(dataDir, 0o755);
    try {
      const [cmd, args] = root
        ? ['setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI]]
        : [process.execPath, [CLI]];
      const child = spawn(cmd, [...args, 'hub', '--port', '0', '--data', dataDir, '--log-level', 'warn'], { stdio: 'pipe' });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code).toBe(1);
      expect(stderr).toMatch(/refusing to start: the data dir must be private to this user/);
      expect(stderr).toMatch(/chmod -R go-rwx/);
      if (root) expect(modeOf(dataDir)).toBe(0o755);
    } finally {
      if (root) rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
