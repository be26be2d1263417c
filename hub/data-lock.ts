/**
 * One hub per data dir. Two hubs on one store would each rebuild the queue from it and
 * dispatch every open push twice, so the second one refuses to start.
 *
 * The lock is flock(2) on <dataDir>/hub.lock (issue 9 #6): taking it is atomic, so two hubs
 * starting at once can never both win, and the kernel drops it when its holder dies, however
 * it dies, so a restart right after `kill -9` just works. The pid written in the file is only
 * for the error message, never trusted (a pid can be reused after a reboot).
 *
 * Node has no flock. The npm packages that add it (fs-ext, os-lock) are native addons that
 * compile at install, which needs a compiler and Node's headers that an offline site install
 * cannot count on; lmdb has no exclusive-environment lock (its lock file is made for several
 * processes sharing one store). So flock(1) from util-linux, present on every Linux, holds
 * the lock for the hub: it takes it, says so, and runs `cat` on a pipe from the hub. When the
 * hub releases it, exits or dies, that pipe closes, cat ends and the lock goes with it.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

export class DataDirLockedError extends Error {
  constructor(
    readonly lockFile: string,
    readonly pid: number | undefined,
  ) {
    super(`another hub (pid ${pid ?? 'unknown'}) is using this data dir (${lockFile} is locked); stop it first`);
    this.name = 'DataDirLockedError';
  }
}

export interface DataDirLock {
  /** Lets the lock go (the helper exits on its own once its input closes). */
  release(): void;
}

const CONFLICT = 75;
/** A hub that has just exited may take a moment to let go: retry this long before refusing. */
const WAIT_MS = 2_000;

export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  const file = join(dataDir, 'hub.lock');
  closeSync(openSync(file, 'a', 0o600));
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const helper = await tryLock(file);
    if (helper) {
      writeFileSync(file, `${process.pid}\n`);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          helper.stdin.end();
        },
      };
    }
    if (Date.now() >= deadline) throw new DataDirLockedError(file, ownerPid(file));
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

type Helper = ChildProcessByStdio<Writable, Readable, null>;

/** The running helper once it holds the lock; undefined when another process holds it. */
function tryLock(file: string): Promise<Helper | undefined> {
  const helper = spawn(
    'flock',
    ['--exclusive', '--nonblock', '--conflict-exit-code', String(CONFLICT), file, '-c', 'echo locked && exec cat'],
    {
      stdio: ['pipe', 'pipe', 'ignore'],
    },
  );
  return new Promise((resolve, reject) => {
    helper.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'ENOENT' ? new Error('the hub needs flock(1) (util-linux) to lock its data dir; install util-linux') : err),
    );
    helper.stdout.once('data', () => {
      helper.stdout.resume(); // cat echoes nothing, but never let a full pipe block it
      resolve(helper);
    });
    helper.once('exit', (code) => {
      if (code === CONFLICT) resolve(undefined);
      else reject(new Error(`flock on ${file} failed (exit code ${code})`));
    });
  });
}

function ownerPid(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
    return Number.isInteger(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}
