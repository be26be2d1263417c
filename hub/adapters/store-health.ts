/**
 * Whether the hub's store can take writes, and what to tell callers when it can't.
 *
 * A full disk (or an I/O error) makes lmdb reject a commit. That must not take the hub down:
 * new pushes are refused with 507 STORE_FULL (503 STORE_UNAVAILABLE for other write errors),
 * reads keep working (lmdb reads from its memory map), and the condition is logged once, with
 * a second line once a write succeeds again. Recovery needs nothing: lmdb reuses the
 * environment after a failed commit, so the next write after space returns just works.
 *
 * New pushes are also refused while free space is below a reserve, before lmdb fails: the
 * writes that finish already-accepted pushes (dispatch marks, results) then still have room.
 */
import { statfs } from 'node:fs/promises';
import { DomainError } from '../../lambdas/core/domain-errors';
import type { Log } from '../../lambdas/core/ports';

/** The store cannot take a write now. A DomainError, so the API answers with its status and code. */
export class StoreUnavailableError extends DomainError {
  constructor(
    readonly full: boolean,
    detail: string,
  ) {
    super(
      full ? 'STORE_FULL' : 'STORE_UNAVAILABLE',
      full
        ? `the hub's disk is full (${detail}); new pushes are refused until space is freed`
        : `the hub's store cannot write (${detail}); try again later`,
    );
    this.name = 'StoreUnavailableError';
  }
}

// errno values lmdb passes through, and lmdb's own map-full code.
const ENOSPC = 28;
const EDQUOT = 122;
const MDB_MAP_FULL = -30792;
/** How long a free-space reading is reused: one statfs per second at most, not one per push. */
const STATFS_CACHE_MS = 1000;

export interface StoreHealthOptions {
  /** The store's directory (its filesystem is the one measured). */
  path: string;
  /** Free bytes below which new pushes are refused. 0 turns the check off. */
  reserveBytes: number;
  log?: Log;
  now?: () => number;
}

export class StoreHealth {
  private failing: StoreUnavailableError | undefined;
  private free: { bytes: number; at: number } | undefined;
  private readonly now: () => number;

  constructor(private readonly options: StoreHealthOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Throws STORE_FULL when free space is below the reserve. For writes that add data (new pushes). */
  async assertRoom(): Promise<void> {
    if (this.options.reserveBytes <= 0) return;
    const free = await this.freeBytes();
    if (free === undefined || free >= this.options.reserveBytes) return;
    throw this.degraded(new StoreUnavailableError(true, `${mib(free)} free, below the ${mib(this.options.reserveBytes)} reserve`), {
      freeBytes: free,
      reserveBytes: this.options.reserveBytes,
    });
  }

  /**
   * Turns a failed write into the error to throw. lmdb rejects a failed commit with "Commit
   * failed" and the cause in `commitError` (a promise, rejected with the errno); anything
   * else (a bug in a transaction callback) is returned as it is.
   */
  async failed(err: unknown): Promise<unknown> {
    const commitError = (err as { commitError?: Promise<unknown> } | null)?.commitError;
    if (!commitError || typeof commitError.then !== 'function') return err;
    let cause: { code?: unknown; message?: string } = {};
    try {
      await commitError;
    } catch (inner) {
      cause = inner ?? {};
    }
    const code = typeof cause.code === 'number' ? cause.code : undefined;
    this.free = undefined; // measure again now
    const free = await this.freeBytes();
    // tmpfs and some block devices report a full disk as EIO: the free space tells them apart.
    const full = code === ENOSPC || code === EDQUOT || code === MDB_MAP_FULL || (free !== undefined && free < 1024 * 1024);
    const detail = `${cause.message ?? 'commit failed'}${code === undefined ? '' : ` (${code})`}`;
    return this.degraded(new StoreUnavailableError(full, detail), { errno: code, freeBytes: free });
  }

  /** A new push was stored: if new pushes were being refused, say once that they are not any more. */
  succeeded(): void {
    if (!this.failing) return;
    this.failing = undefined;
    this.options.log?.info('store is writable again; new pushes are accepted', {});
  }

  get state(): 'ok' | 'full' | 'unavailable' {
    if (!this.failing) return 'ok';
    return this.failing.full ? 'full' : 'unavailable';
  }

  private degraded(error: StoreUnavailableError, fields: Record<string, unknown>): StoreUnavailableError {
    if (!this.failing || this.failing.code !== error.code) {
      // Once per episode (and when it changes kind), not once per refused request.
      this.options.log?.error('store cannot take writes; new pushes are refused', { code: error.code, reason: error.message, ...fields });
    }
    this.failing = error;
    return error;
  }

  private async freeBytes(): Promise<number | undefined> {
    const now = this.now();
    if (this.free && now - this.free.at < STATFS_CACHE_MS) return this.free.bytes;
    try {
      const s = await statfs(this.options.path);
      this.free = { bytes: s.bavail * s.bsize, at: now };
      return this.free.bytes;
    } catch {
      return undefined; // cannot measure: let lmdb be the judge
    }
  }
}

const mib = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MiB`;
