/**
 * The hub's embedded durable store: PushStore and AgentStore on lmdb.
 *
 * Durability. lmdb commits every write batch as an ACID transaction. With lmdb-js's default
 * `overlappingSync` on Linux, a write promise resolves once the transaction is committed
 * (in the OS page cache: it survives `kill -9` of the hub) and the fsync follows in the
 * background. With `sync: 'flush'` (the hub's default) every write also awaits `db.flushed`,
 * so a push is on stable storage before the HTTP API answers 2xx: it survives a power loss
 * too. `sync: 'commit'` skips that wait (process crashes are still safe, an OS crash may lose
 * the last writes). BENCHMARKS.md has the cost of each. Measured (lmdb-js 2.9, hub-wrk): a
 * commit waits for the previous transaction's fsync, so every commit a push waits for costs
 * about one fsync in either mode; hence the fewer commits on a push's path, the better.
 *
 * In 'flush' mode only the writes that a crash must not undo wait for the fsync: a new push
 * (the API has said 2xx), a push reaching its end (its result was reported), a new agent (its
 * secret was shown once). The in-between markers (`sent`, a retry time, a relay's connection
 * and lastSeenAt) are still committed atomically, but if a power cut loses them the push is
 * simply dispatched again (the relay dedupes by pushId) and connections are cleared at start
 * anyway. That keeps one fsync per push off the dispatch path.
 *
 * Push markers are kept in memory first. A marker (an update from one open status to another:
 * `sent`, a retry time) on a push with no write in flight is decided at once, in the main
 * thread, against the latest state (the hub is the store's only writer, see data-lock.ts), and
 * `get` and later updates read it from memory. It is written only if it is still the push's
 * latest state after `markerWriteDelayMs` (and at close): a push whose result comes back
 * sooner goes from its accepted record straight to its result, two write transactions
 * instead of three, and its dispatch waits for no commit at all. A kill -9 loses the markers
 * of that last second, which is what a power cut already did: the push is sent again (the
 * relay dedupes by pushId). Accepted pushes and results are never kept back.
 *
 * Atomicity. Conditional updates and idempotent creates run inside `db.transaction`, whose
 * callback executes in lmdb's single write transaction: the read-check-write cannot interleave
 * with another writer.
 */
import { open, type Database, type RootDatabase } from 'lmdb';
import type {
  AgentStore,
  ClaimResult,
  ConnectionClaim,
  CreatePushResult,
  Log,
  PushListPage,
  PushListQuery,
  PushStore,
  QueueFull,
  QueueLimits,
} from '../../lambdas/core/ports';
import { takePage } from '../../lambdas/core/push-list';
import { isTerminal, toSummary, type AgentRecord, type PushRecord, type PushStatus, type PushSummary } from '../../lambdas/core/records';
import { LmdbTemplateStore } from './lmdb-template-store';
import { StoreHealth } from './store-health';

export type SyncMode = 'flush' | 'commit';

export interface LmdbStoreOptions {
  /** Directory of the lmdb environment (created if missing). */
  path: string;
  /** 'flush' (default): await fsync on every write. 'commit': await the commit only. */
  sync?: SyncMode;
  /** Free disk bytes below which new pushes are refused (507), keeping room to finish accepted ones. Default 64 MiB. */
  reserveBytes?: number;
  /** Where a full disk or a failing store is reported (once per episode). */
  log?: Log;
  /** How long a push marker stays in memory only before it is written (see above). Default 1 s. */
  markerWriteDelayMs?: number;
}

export const DEFAULT_RESERVE_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MARKER_WRITE_DELAY_MS = 1000;

/** A push as stored: `seq` orders acceptance, so a rebuilt queue keeps per-destination order. */
interface StoredPush {
  seq: number;
  push: PushRecord;
}

/** A push written by a transaction: what get() shows until it commits, and the marker it replaced. */
interface WrittenPush {
  pushId: string;
  shown: StoredPush | undefined;
  replaced: StoredPush | undefined;
}

const SEQ_KEY = 'seq';
/** Agents kept decoded (agentCache); past it the cache starts over. */
const AGENT_CACHE_MAX = 1000;
/** Pushes deleted per retention transaction: a few milliseconds of holding lmdb's single writer. */
const PURGE_BATCH = 500;
/** Set once the open-push counters exist (stores from before them are counted at first open). */
const COUNTED_KEY = 'counted';
type CountKey = ['d', string, string] | ['a', string] | ['g', string];

export class LmdbStore implements PushStore {
  private readonly root: RootDatabase;
  private readonly pushes: Database<StoredPush, string>;
  /** [agentId, idempotencyKey] -> pushId */
  private readonly idempotency: Database<string, [string, string]>;
  /** seq -> pushId, for every push that is not terminal yet. */
  private readonly open: Database<string, number>;
  /** [completedAt, pushId] -> true, for retention. */
  private readonly finished: Database<true, [number, string]>;
  /** [createdAt, pushId] -> true, for GET /pushes (read newest first). One small put per push. */
  private readonly byCreated: Database<true, [number, string]>;
  private readonly agents: Database<AgentRecord, string>;
  private readonly meta: Database<number, string>;
  /** Open pushes per ['d', agent, destination] and ['a', agent]; destinations with any per ['g', agent]. */
  private readonly counts: Database<number, CountKey>;
  private readonly sync: SyncMode;
  private readonly markerWriteDelayMs: number;
  /** Push markers decided and not handed to a transaction yet: the pushes' latest state. */
  private readonly unwritten = new Map<string, StoredPush>();
  /** What get() shows of a push whose write is decided but not committed yet. */
  private readonly shown = new Map<string, StoredPush>();
  /** Pushes written by a transaction that has not settled yet, with how many such transactions. */
  private readonly writing = new Map<string, number>();
  /** The transaction callback running now records its push writes here (see commit()). */
  private recording: WrittenPush[] | undefined;
  private markerTimer: NodeJS.Timeout | undefined;
  private closing = false;
  /** Decoded agent records: every push reads its agent three times. Emptied after every agent write. */
  private readonly agentCache = new Map<string, AgentRecord>();
  readonly health: StoreHealth;

  constructor(options: LmdbStoreOptions) {
    this.sync = options.sync ?? 'flush';
    this.markerWriteDelayMs = options.markerWriteDelayMs ?? DEFAULT_MARKER_WRITE_DELAY_MS;
    this.root = open({ path: options.path, maxDbs: 16 });
    this.health = new StoreHealth({ path: options.path, reserveBytes: options.reserveBytes ?? DEFAULT_RESERVE_BYTES, log: options.log });
    this.pushes = this.root.openDB({ name: 'pushes' });
    this.idempotency = this.root.openDB({ name: 'idempotency' });
    this.open = this.root.openDB({ name: 'open' });
    this.finished = this.root.openDB({ name: 'finished' });
    this.byCreated = this.root.openDB({ name: 'by-created' });
    this.agents = this.root.openDB({ name: 'agents' });
    this.meta = this.root.openDB({ name: 'meta' });
    this.counts = this.root.openDB({ name: 'counts' });
    this.countExisting(options.log);
  }

  // ---- PushStore ----
  // Inside a transaction callback, put/remove apply at once to that transaction; the promise they
  // return is the transaction's own, awaited by the caller, so they are marked `void`.

  async create(push: PushRecord, limits?: QueueLimits): Promise<CreatePushResult> {
    await this.health.assertRoom();
    const result = await this.commit(
      (): CreatePushResult => {
        if (push.idempotencyKey !== undefined) {
          const earlierId = this.idempotency.get([push.agentId, push.idempotencyKey]);
          const earlier = earlierId === undefined ? undefined : this.latest(earlierId);
          if (earlier) return { push: earlier.push, created: false };
        }
        const existing = this.latest(push.pushId);
        if (existing) return { push: existing.push, created: false };
        if (!isTerminal(push.status)) {
          const full = limits && this.fullFor(push.agentId, push.destination, limits);
          if (full) return { push, created: false, full };
          this.count(push.agentId, push.destination, 1);
        }
        if (push.idempotencyKey !== undefined) void this.idempotency.put([push.agentId, push.idempotencyKey], push.pushId);
        const seq = (this.meta.get(SEQ_KEY) ?? 0) + 1;
        void this.meta.put(SEQ_KEY, seq);
        this.putPush(push.pushId, { seq, push }, undefined);
        void this.byCreated.put([push.createdAt, push.pushId], true);
        if (isTerminal(push.status)) void this.finished.put([push.completedAt ?? push.createdAt, push.pushId], true);
        else void this.open.put(seq, push.pushId);
        return { push, created: true };
      },
      () => true,
    );
    this.health.succeeded(); // new pushes go through again: the episode, if any, is over
    return result;
  }

  get(pushId: string): Promise<PushRecord | undefined> {
    return Promise.resolve(this.visible(pushId)?.push);
  }

  /** The push as readers see it: a marker as soon as it is decided, a write otherwise once committed. */
  private visible(pushId: string): StoredPush | undefined {
    return this.unwritten.get(pushId) ?? this.shown.get(pushId) ?? this.pushes.get(pushId);
  }

  async update(
    pushId: string,
    from: readonly PushStatus[],
    patch: Partial<PushRecord>,
    expectAttempts?: number,
  ): Promise<PushRecord | undefined> {
    const applies = (stored: StoredPush | undefined): stored is StoredPush =>
      stored !== undefined &&
      from.includes(stored.push.status) &&
      (expectAttempts === undefined || stored.push.attempts === expectAttempts);
    if (!this.writing.has(pushId) && !this.closing) {
      // A marker on a push with no write in flight: decided now, written later (see above).
      const stored = this.unwritten.get(pushId) ?? this.pushes.get(pushId);
      if (applies(stored) && !isTerminal(stored.push.status)) {
        const next = patched(stored.push, patch);
        if (!isTerminal(next.status)) {
          this.unwritten.set(pushId, { seq: stored.seq, push: next });
          this.armMarkerWrite();
          return next;
        }
      }
    }
    return this.commit(
      (): PushRecord | undefined => {
        const stored = this.latest(pushId);
        if (!applies(stored)) return undefined;
        const next = patched(stored.push, patch);
        // Until this commits, get() shows a marker as decided, a result not before it is durable.
        this.putPush(
          pushId,
          { seq: stored.seq, push: next },
          isTerminal(next.status) ? this.unwritten.get(pushId) : { seq: stored.seq, push: next },
        );
        if (!isTerminal(stored.push.status) && isTerminal(next.status)) {
          this.count(stored.push.agentId, stored.push.destination, -1);
          void this.open.remove(stored.seq);
          void this.finished.put([next.completedAt ?? Date.now(), pushId], true);
        }
        return next;
      },
      (updated) => updated !== undefined && isTerminal(updated.status),
    );
  }

  /** The push's latest state: its unwritten marker, else the record. Inside a write transaction. */
  private latest(pushId: string): StoredPush | undefined {
    return this.unwritten.get(pushId) ?? this.pushes.get(pushId);
  }

  /** Writes a push record and tracks it until its transaction settles (commit()). Inside a write transaction. */
  private putPush(pushId: string, stored: StoredPush, shown: StoredPush | undefined): void {
    void this.pushes.put(pushId, stored);
    const replaced = this.unwritten.get(pushId);
    this.unwritten.delete(pushId);
    if (shown) this.shown.set(pushId, shown);
    this.writing.set(pushId, (this.writing.get(pushId) ?? 0) + 1);
    this.recording?.push({ pushId, shown, replaced });
  }

  private armMarkerWrite(): void {
    if (this.markerTimer || this.closing) return;
    this.markerTimer = setTimeout(() => {
      this.markerTimer = undefined;
      // A failure is reported by `health`; the pushes concerned are sent again later.
      this.writeMarkers().catch(() => undefined);
    }, this.markerWriteDelayMs);
    this.markerTimer.unref();
  }

  /** Writes every marker still kept in memory, in one transaction. */
  private async writeMarkers(): Promise<void> {
    if (this.unwritten.size === 0) return;
    await this.commit(
      () => {
        for (const [pushId, stored] of [...this.unwritten]) this.putPush(pushId, stored, stored);
      },
      () => false,
    );
  }

  /** Which limit a new open push to (agentId, destination) would break, if any. Inside a write transaction. */
  private fullFor(agentId: string, destination: string, limits: QueueLimits): QueueFull | undefined {
    const here = this.counts.get(['d', agentId, destination]) ?? 0;
    if (here >= limits.perDestination) return 'destination';
    if ((this.counts.get(['a', agentId]) ?? 0) >= limits.perAgent) return 'agent';
    if (here === 0 && limits.destinations !== undefined && (this.counts.get(['g', agentId]) ?? 0) >= limits.destinations)
      return 'destinations';
    return undefined;
  }

  /** Moves the open-push counters by `delta` (+1 accepted, -1 terminal). Inside a write transaction. */
  private count(agentId: string, destination: string, delta: 1 | -1): void {
    const bump = (key: CountKey, by: number): void => {
      const next = Math.max(0, (this.counts.get(key) ?? 0) + by);
      if (next === 0) void this.counts.remove(key);
      else void this.counts.put(key, next);
    };
    const before = this.counts.get(['d', agentId, destination]) ?? 0;
    bump(['d', agentId, destination], delta);
    bump(['a', agentId], delta);
    const after = Math.max(0, before + delta);
    if (before === 0 && after > 0) bump(['g', agentId], 1);
    if (before > 0 && after === 0) bump(['g', agentId], -1);
  }

  /** A store written before the counters existed: count its open pushes once. */
  private countExisting(log: Log | undefined): void {
    if (this.meta.get(COUNTED_KEY) !== undefined) return;
    try {
      this.root.transactionSync(() => {
        for (const { value: pushId } of this.open.getRange()) {
          const stored = this.pushes.get(pushId);
          if (stored && !isTerminal(stored.push.status)) this.count(stored.push.agentId, stored.push.destination, 1);
        }
        void this.meta.put(COUNTED_KEY, 1);
      });
    } catch (err) {
      // A full disk at start: the hub still starts; counts start from zero, and this runs again next start.
      log?.error('could not count open pushes for the queue limits', { error: (err as Error).message });
    }
  }

  /**
   * Newest first from the createdAt index; filters are applied while walking it (the hub's
   * volumes make an index per filter not worth the extra write per push).
   */
  queueDepths(agentId: string, destinations: readonly string[]): Promise<Record<string, number>> {
    return Promise.resolve(Object.fromEntries(destinations.map((d) => [d, this.counts.get(['d', agentId, d]) ?? 0])));
  }

  list(query: PushListQuery): Promise<PushListPage> {
    const after = query.after;
    const range = this.byCreated.getRange({ reverse: true, ...(after ? { start: [after.createdAt, after.pushId] } : {}) });
    const candidates = function* (this: LmdbStore): Generator<PushSummary> {
      for (const { key } of range) {
        const [createdAt, pushId] = key;
        // A reverse range starts at its start key inclusive: skip the cursor's own push.
        if (after && createdAt === after.createdAt && pushId === after.pushId) continue;
        const stored = this.visible(pushId);
        if (stored) yield toSummary(stored.push);
      }
    };
    return Promise.resolve(takePage(candidates.call(this), query));
  }

  /** Every push that is not terminal yet, in the order it was accepted (for a queue rebuild). */
  listOpen(): PushRecord[] {
    const out: PushRecord[] = [];
    for (const { value: pushId } of this.open.getRange()) {
      const stored = this.pushes.get(pushId);
      if (stored && !isTerminal(stored.push.status)) out.push(stored.push);
    }
    return out;
  }

  /** Retention: deletes terminal pushes completed before `before` (epoch ms). Returns how many. */
  async purgeFinished(before: number, batchSize = PURGE_BATCH, signal?: AbortSignal): Promise<number> {
    let total = 0;
    for (;;) {
      const removed = await this.purgeBatch(before, batchSize);
      total += removed;
      if (removed < batchSize || signal?.aborted) return total;
      // lmdb has one writer: between batches, let the writes queued meanwhile (new pushes,
      // results) commit, rather than hold them behind one transaction over every old push.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private async purgeBatch(before: number, limit: number): Promise<number> {
    return this.commit(
      () => {
        let count = 0;
        for (const { key } of this.finished.getRange({ start: [0, ''], end: [before, ''], limit })) {
          const [, pushId] = key;
          const stored = this.pushes.get(pushId);
          if (stored?.push.idempotencyKey !== undefined) {
            const idemKey: [string, string] = [stored.push.agentId, stored.push.idempotencyKey];
            if (this.idempotency.get(idemKey) === pushId) void this.idempotency.remove(idemKey);
          }
          if (stored) void this.byCreated.remove([stored.push.createdAt, pushId]);
          void this.pushes.remove(pushId);
          void this.finished.remove(key);
          count++;
        }
        return count;
      },
      (removed) => removed > 0,
    );
  }

  // ---- AgentStore ----

  async createAgent(agent: AgentRecord): Promise<boolean> {
    return this.agentWrite(() =>
      this.commit(
        () => {
          if (this.agents.get(agent.agentId)) return false;
          void this.agents.put(agent.agentId, agent);
          return true;
        },
        (created) => created,
      ),
    );
  }

  getAgent(agentId: string): Promise<AgentRecord | undefined> {
    let agent = this.agentCache.get(agentId);
    if (!agent) {
      agent = this.agents.get(agentId);
      if (!agent) return Promise.resolve(undefined);
      if (this.agentCache.size >= AGENT_CACHE_MAX) this.agentCache.clear();
      this.agentCache.set(agentId, agent);
    }
    return Promise.resolve({ ...agent }); // a copy: the cached record is never handed out
  }

  /**
   * Runs an agent write and empties the agent cache once it has settled (a read meanwhile may
   * have cached the record as it was before the write).
   */
  private async agentWrite<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } finally {
      this.agentCache.clear();
    }
  }

  /** One relay per agent: the check and the write run in lmdb's single write transaction. */
  claimConnection(agentId: string, claim: ConnectionClaim): Promise<ClaimResult> {
    return this.agentWrite(() =>
      this.root.transaction((): ClaimResult => {
        const current = this.agents.get(agentId);
        if (!current) return { outcome: 'unknown-agent' };
        const live = current.connectionId;
        const heard = Math.max(current.lastSeenAt ?? 0, current.connectedAt ?? 0);
        const sameRelay = claim.relayInstance !== undefined && claim.relayInstance === current.relayInstance;
        if (live !== undefined && heard >= claim.staleBefore && !sameRelay) {
          void this.agents.put(agentId, { ...current, conflictAt: claim.at, conflictCount: (current.conflictCount ?? 0) + 1 });
          return { outcome: 'refused', liveConnectionId: live };
        }
        const next: AgentRecord = { ...current, connectionId: claim.connectionId, connectedAt: claim.at, lastSeenAt: claim.at };
        if (claim.relayInstance === undefined) delete next.relayInstance;
        else next.relayInstance = claim.relayInstance;
        void this.agents.put(agentId, next);
        return live === undefined ? { outcome: 'claimed' } : { outcome: 'claimed', replaced: live };
      }),
    );
  }

  async clearConnection(agentId: string, connectionId: string): Promise<boolean> {
    return this.updateAgent(agentId, (a) => {
      if (a.connectionId !== connectionId) return undefined;
      const next = { ...a };
      delete next.connectionId;
      return next;
    });
  }

  async replaceSecretHash(agentId: string, expected: string, next: string): Promise<boolean> {
    return this.updateAgent(agentId, (a) => (a.secretHash === expected ? { ...a, secretHash: next } : undefined));
  }

  async touch(agentId: string, patch: Parameters<AgentStore['touch']>[1]): Promise<void> {
    await this.updateAgent(agentId, (a) => applyPatch(a, patch));
  }

  listAgents(): Promise<AgentRecord[]> {
    return Promise.resolve([...this.agents.getRange()].map(({ value }) => value));
  }

  async setDisabled(agentId: string, disabled: boolean): Promise<AgentRecord | undefined> {
    const done = await this.updateAgent(agentId, (a) => applyPatch(a, { disabled: disabled || undefined }));
    // Durable: a disable must survive a power cut, or a revoked relay gets back in.
    if (done) await this.durable();
    return done ? this.agents.get(agentId) : undefined;
  }

  async deleteAgent(agentId: string): Promise<boolean> {
    const deleted = await this.agentWrite(() =>
      this.root.transaction(() => {
        if (!this.agents.get(agentId)) return false;
        void this.agents.remove(agentId);
        return true;
      }),
    );
    if (deleted) await this.durable();
    return deleted;
  }

  /**
   * At hub start no relay connection from an earlier run can still be open: forget them, so
   * GET /agents/{id} tells the truth before a stale connection id is ever posted to.
   */
  async clearAllConnections(): Promise<number> {
    const cleared = await this.agentWrite(() =>
      this.root.transaction(() => {
        let count = 0;
        for (const { key, value } of this.agents.getRange()) {
          if (value.connectionId === undefined) continue;
          const next = { ...value };
          delete next.connectionId;
          void this.agents.put(key, next);
          count++;
        }
        return count;
      }),
    );
    if (cleared) await this.durable();
    return cleared;
  }

  /** The AgentStore port's view of this store (its method names overlap PushStore's). */
  agentStore(): AgentStore {
    return {
      create: (agent) => this.createAgent(agent),
      get: (agentId) => this.getAgent(agentId),
      claimConnection: (agentId, claim) => this.claimConnection(agentId, claim),
      clearConnection: (agentId, connectionId) => this.clearConnection(agentId, connectionId),
      replaceSecretHash: (agentId, expected, next) => this.replaceSecretHash(agentId, expected, next),
      touch: (agentId, patch) => this.touch(agentId, patch),
      list: () => this.listAgents(),
      setDisabled: (agentId, disabled) => this.setDisabled(agentId, disabled),
      delete: (agentId) => this.deleteAgent(agentId),
    };
  }

  /** The TemplateStore port on this environment (templates and FHIR hooks; docs in lmdb-template-store.ts). */
  templateStore(): LmdbTemplateStore {
    return new LmdbTemplateStore(this.root, () => this.durable());
  }

  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.markerTimer);
    this.markerTimer = undefined;
    // The markers still in memory: a clean stop loses none (a failure is reported by `health`).
    await this.writeMarkers().catch(() => undefined);
    await this.root.flushed;
    await this.root.close();
  }

  private async updateAgent(agentId: string, change: (a: AgentRecord) => AgentRecord | undefined): Promise<boolean> {
    const done = await this.agentWrite(() =>
      this.root.transaction(() => {
        const current = this.agents.get(agentId);
        if (!current) return false;
        const next = change(current);
        if (!next) return false;
        void this.agents.put(agentId, next);
        return true;
      }),
    );
    // Connection and liveness fields only: rebuilt at start and on the relay's next hello.
    return done;
  }

  /**
   * Runs `txn` as one write transaction; awaits the fsync too (in 'flush' mode) when
   * `mustSurvive(result)`. A failed commit (full disk, I/O error) becomes a StoreUnavailableError,
   * reported once by `health`, instead of an lmdb error the callers cannot tell apart.
   */
  private async commit<T>(txn: () => T, mustSurvive: (result: T) => boolean): Promise<T> {
    const written: WrittenPush[] = [];
    let failed = true;
    let result: T;
    try {
      result = await this.root.transaction(() => {
        this.recording = written;
        try {
          return txn();
        } finally {
          this.recording = undefined;
        }
      });
      failed = false;
    } catch (err) {
      throw await this.health.failed(err);
    } finally {
      this.settled(written, failed);
    }
    try {
      if (mustSurvive(result)) await this.durable();
    } catch (err) {
      throw await this.health.failed(err);
    }
    return result;
  }

  /**
   * The transaction that wrote these pushes has committed, or failed: reads go to the store
   * again. A failed one wrote nothing, so a marker it replaced is the push's latest state again.
   */
  private settled(written: WrittenPush[], failed: boolean): void {
    for (const { pushId, shown, replaced } of written) {
      const left = (this.writing.get(pushId) ?? 1) - 1;
      if (left > 0) this.writing.set(pushId, left);
      else this.writing.delete(pushId);
      if (shown && this.shown.get(pushId) === shown) this.shown.delete(pushId);
      if (failed && replaced && !this.unwritten.has(pushId)) {
        this.unwritten.set(pushId, replaced);
        this.armMarkerWrite();
      }
    }
  }

  private async durable(): Promise<void> {
    if (this.sync === 'flush') await this.root.flushed;
  }
}

/** The push with `patch` applied; its key never changes. */
function patched(push: PushRecord, patch: Partial<PushRecord>): PushRecord {
  const next = applyPatch(push, patch);
  next.pushId = push.pushId;
  return next;
}

/**
 * Copies `base` with `patch` applied; a patch value of `undefined` removes that attribute.
 * Built key by key rather than with `delete` (every dispatch and result clears retryAt), which
 * would turn each record into a slow dictionary-mode object for the encoder; the key order
 * stays as before, so the stored record shapes (msgpack structures) do not change.
 */
function applyPatch<T extends object>(base: T, patch: Partial<T>): T {
  const from = base as Record<string, unknown>;
  const changes = patch as Record<string, unknown>;
  const next: Record<string, unknown> = {};
  for (const key in from) {
    if (!(key in changes)) next[key] = from[key];
    else if (changes[key] !== undefined) next[key] = changes[key];
  }
  for (const key in changes) if (!(key in from) && changes[key] !== undefined) next[key] = changes[key];
  return next as T;
}
