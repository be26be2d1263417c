/**
 * The hub's embedded durable store: PushStore and AgentStore on lmdb.
 *
 * Durability. lmdb commits every write batch as an ACID transaction. With lmdb-js's default
 * `overlappingSync` on Linux, a write promise resolves once the transaction is committed
 * (in the OS page cache: it survives `kill -9` of the hub) and the fsync follows in the
 * background. With `sync: 'flush'` (the hub's default) every write also awaits `db.flushed`,
 * so a push is on stable storage before the HTTP API answers 2xx: it survives a power loss
 * too. `sync: 'commit'` skips that wait (process crashes are still safe, an OS crash may lose
 * the last writes). BENCHMARKS.md has the cost of each.
 *
 * In 'flush' mode only the writes that a crash must not undo wait for the fsync: a new push
 * (the API has said 2xx), a push reaching its end (its result was reported), a new agent (its
 * secret was shown once). The in-between markers (`sent`, a retry time, a relay's connection
 * and lastSeenAt) are still committed atomically, but if a power cut loses them the push is
 * simply dispatched again (the relay dedupes by pushId) and connections are cleared at start
 * anyway. That keeps one fsync per push off the dispatch path.
 *
 * Atomicity. Conditional updates and idempotent creates run inside `db.transaction`, whose
 * callback executes in lmdb's single write transaction: the read-check-write cannot interleave
 * with another writer.
 */
import { open, type Database, type RootDatabase } from 'lmdb';
import type { AgentStore, CreatePushResult, PushListPage, PushListQuery, PushStore } from '../../lambdas/core/ports';
import { takePage } from '../../lambdas/core/push-list';
import { isTerminal, toSummary, type AgentRecord, type PushRecord, type PushStatus, type PushSummary } from '../../lambdas/core/records';

export type SyncMode = 'flush' | 'commit';

export interface LmdbStoreOptions {
  /** Directory of the lmdb environment (created if missing). */
  path: string;
  /** 'flush' (default): await fsync on every write. 'commit': await the commit only. */
  sync?: SyncMode;
}

/** A push as stored: `seq` orders acceptance, so a rebuilt queue keeps per-destination order. */
interface StoredPush {
  seq: number;
  push: PushRecord;
}

const SEQ_KEY = 'seq';

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
  private readonly sync: SyncMode;

  constructor(options: LmdbStoreOptions) {
    this.sync = options.sync ?? 'flush';
    this.root = open({ path: options.path, maxDbs: 9 });
    this.pushes = this.root.openDB({ name: 'pushes' });
    this.idempotency = this.root.openDB({ name: 'idempotency' });
    this.open = this.root.openDB({ name: 'open' });
    this.finished = this.root.openDB({ name: 'finished' });
    this.byCreated = this.root.openDB({ name: 'by-created' });
    this.agents = this.root.openDB({ name: 'agents' });
    this.meta = this.root.openDB({ name: 'meta' });
  }

  // ---- PushStore ----
  // Inside a transaction callback, put/remove apply at once to that transaction; the promise they
  // return is the transaction's own, awaited by the caller, so they are marked `void`.

  async create(push: PushRecord): Promise<CreatePushResult> {
    const result = await this.root.transaction((): CreatePushResult => {
      if (push.idempotencyKey !== undefined) {
        const earlierId = this.idempotency.get([push.agentId, push.idempotencyKey]);
        const earlier = earlierId === undefined ? undefined : this.pushes.get(earlierId);
        if (earlier) return { push: earlier.push, created: false };
        void this.idempotency.put([push.agentId, push.idempotencyKey], push.pushId);
      }
      const existing = this.pushes.get(push.pushId);
      if (existing) return { push: existing.push, created: false };
      const seq = (this.meta.get(SEQ_KEY) ?? 0) + 1;
      void this.meta.put(SEQ_KEY, seq);
      void this.pushes.put(push.pushId, { seq, push });
      void this.byCreated.put([push.createdAt, push.pushId], true);
      if (isTerminal(push.status)) void this.finished.put([push.completedAt ?? push.createdAt, push.pushId], true);
      else void this.open.put(seq, push.pushId);
      return { push, created: true };
    });
    await this.durable();
    return result;
  }

  get(pushId: string): Promise<PushRecord | undefined> {
    return Promise.resolve(this.pushes.get(pushId)?.push);
  }

  async update(
    pushId: string,
    from: readonly PushStatus[],
    patch: Partial<PushRecord>,
    expectAttempts?: number,
  ): Promise<PushRecord | undefined> {
    const updated = await this.root.transaction((): PushRecord | undefined => {
      const stored = this.pushes.get(pushId);
      if (!stored || !from.includes(stored.push.status)) return undefined;
      if (expectAttempts !== undefined && stored.push.attempts !== expectAttempts) return undefined;
      const next = applyPatch(stored.push, patch);
      next.pushId = stored.push.pushId; // the key never changes
      void this.pushes.put(pushId, { seq: stored.seq, push: next });
      if (!isTerminal(stored.push.status) && isTerminal(next.status)) {
        void this.open.remove(stored.seq);
        void this.finished.put([next.completedAt ?? Date.now(), pushId], true);
      }
      return next;
    });
    if (updated && isTerminal(updated.status)) await this.durable();
    return updated;
  }

  /**
   * Newest first from the createdAt index; filters are applied while walking it (the hub's
   * volumes make an index per filter not worth the extra write per push).
   */
  list(query: PushListQuery): Promise<PushListPage> {
    const after = query.after;
    const range = this.byCreated.getRange({ reverse: true, ...(after ? { start: [after.createdAt, after.pushId] } : {}) });
    const candidates = function* (this: LmdbStore): Generator<PushSummary> {
      for (const { key } of range) {
        const [createdAt, pushId] = key;
        // A reverse range starts at its start key inclusive: skip the cursor's own push.
        if (after && createdAt === after.createdAt && pushId === after.pushId) continue;
        const stored = this.pushes.get(pushId);
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
  async purgeFinished(before: number): Promise<number> {
    const removed = await this.root.transaction(() => {
      let count = 0;
      for (const { key } of this.finished.getRange({ start: [0, ''], end: [before, ''] })) {
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
    });
    if (removed) await this.durable();
    return removed;
  }

  // ---- AgentStore ----

  async createAgent(agent: AgentRecord): Promise<boolean> {
    const created = await this.root.transaction(() => {
      if (this.agents.get(agent.agentId)) return false;
      void this.agents.put(agent.agentId, agent);
      return true;
    });
    if (created) await this.durable();
    return created;
  }

  getAgent(agentId: string): Promise<AgentRecord | undefined> {
    return Promise.resolve(this.agents.get(agentId));
  }

  async setConnection(agentId: string, connectionId: string, at: number): Promise<void> {
    await this.updateAgent(agentId, (a) => ({ ...a, connectionId, connectedAt: at, lastSeenAt: at }));
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

  async touch(agentId: string, patch: { lastSeenAt: number; version?: string; devices?: string[] }): Promise<void> {
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
    const deleted = await this.root.transaction(() => {
      if (!this.agents.get(agentId)) return false;
      void this.agents.remove(agentId);
      return true;
    });
    if (deleted) await this.durable();
    return deleted;
  }

  /**
   * At hub start no relay connection from an earlier run can still be open: forget them, so
   * GET /agents/{id} tells the truth before a stale connection id is ever posted to.
   */
  async clearAllConnections(): Promise<number> {
    const cleared = await this.root.transaction(() => {
      let count = 0;
      for (const { key, value } of this.agents.getRange()) {
        if (value.connectionId === undefined) continue;
        const next = { ...value };
        delete next.connectionId;
        void this.agents.put(key, next);
        count++;
      }
      return count;
    });
    if (cleared) await this.durable();
    return cleared;
  }

  /** The AgentStore port's view of this store (its method names overlap PushStore's). */
  agentStore(): AgentStore {
    return {
      create: (agent) => this.createAgent(agent),
      get: (agentId) => this.getAgent(agentId),
      setConnection: (agentId, connectionId, at) => this.setConnection(agentId, connectionId, at),
      clearConnection: (agentId, connectionId) => this.clearConnection(agentId, connectionId),
      replaceSecretHash: (agentId, expected, next) => this.replaceSecretHash(agentId, expected, next),
      touch: (agentId, patch) => this.touch(agentId, patch),
      list: () => this.listAgents(),
      setDisabled: (agentId, disabled) => this.setDisabled(agentId, disabled),
      delete: (agentId) => this.deleteAgent(agentId),
    };
  }

  async close(): Promise<void> {
    await this.root.flushed;
    await this.root.close();
  }

  private async updateAgent(agentId: string, change: (a: AgentRecord) => AgentRecord | undefined): Promise<boolean> {
    const done = await this.root.transaction(() => {
      const current = this.agents.get(agentId);
      if (!current) return false;
      const next = change(current);
      if (!next) return false;
      void this.agents.put(agentId, next);
      return true;
    });
    // Connection and liveness fields only: rebuilt at start and on the relay's next hello.
    return done;
  }

  private async durable(): Promise<void> {
    if (this.sync === 'flush') await this.root.flushed;
  }
}

/** Copies `base` with `patch` applied; a patch value of `undefined` removes that attribute. */
function applyPatch<T extends object>(base: T, patch: Partial<T>): T {
  const next = { ...base } as Record<string, unknown>;
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) delete next[key];
    else next[key] = value;
  }
  return next as T;
}
