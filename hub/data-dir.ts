/**
 * The data dir holds PHI (the store) and the token signing key: only the hub's user may read
 * it. A dir made by an older version, by hand, or copied in may be 0755 with 0644 files
 * (issue 9 #7), so every start makes it 0700 with 0600 files, and refuses to start when it
 * cannot. Symbolic links are left alone (chmod would follow them out of the dir).
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export class DataDirPermissionError extends Error {
  constructor(dir: string, path: string, why: string) {
    super(
      `refusing to start: the data dir must be private to this user, and ${path} ${why}. ` +
        `Fix it with: chown -R "$(id -un)" ${dir} && chmod -R go-rwx ${dir}`,
    );
    this.name = 'DataDirPermissionError';
  }
}

export function secureDataDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  secure(dir, dir);
}

function secure(root: string, path: string): void {
  const stat = lstatSync(path);
  if (stat.isSymbolicLink()) return;
  const wanted = stat.isDirectory() ? 0o700 : 0o600;
  if ((stat.mode & 0o777) !== wanted) {
    try {
      chmodSync(path, wanted);
    } catch (err) {
      const mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
      throw new DataDirPermissionError(
        root,
        path,
        `is mode ${mode} and could not be made ${wanted.toString(8).padStart(4, '0')} (${(err as NodeJS.ErrnoException).code})`,
      );
    }
    // A filesystem that ignores chmod (vfat, some network mounts) cannot keep the store private.
    const after = lstatSync(path).mode & 0o777;
    if (after !== wanted) throw new DataDirPermissionError(root, path, `stays mode ${after.toString(8).padStart(4, '0')} after chmod`);
  }
  if (stat.isDirectory()) for (const name of readdirSync(path)) secure(root, join(path, name));
}
