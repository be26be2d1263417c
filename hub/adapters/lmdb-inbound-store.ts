/**
 * The hub's InboundStore and WebhookStore on lmdb, in an environment of its own (<dataDir>/inbound)
 * so a burst of inbound messages never queues behind push writes in one single-writer lock.
 *
 * Cursors are a sequence number assigned inside lmdb's single write transaction: commit order is
 * sequence order, and a reader only ever sees committed transactions, so a reader following
 * `next` can never skip a message that commits later with a smaller number (no gaps).
 *
 * Durability as in lmdb-store.ts: in 'flush' mode a new message (the relay is told it is
 * stored, and may drop its copy) and a webhook (its secret was shown once) wait for the fsync;
 * delivery-state changes do not: lost to a power cut, a delivery is simply made again.
 */
import { open, type Database, type RootDatabase } from 'lmdb';
import { DomainError } from '../../lambdas/core/domain-errors';
import type { InboundDelivery, InboundRecord, WebhookRecord } from '../../lambdas/core/inbound-records';
import type { InboundListPage, InboundListQuery, InboundStore, PutInboundResult, WebhookStore } from '../../lambdas/core/ports';
import type { SyncMode } from './lmdb-store';

export interface LmdbInboundStoreOptions {
  path: string;
  sync?: SyncMode;
}

interface DedupeEntry {
  messageId: string;
  storedAt: number;
}

const SEQ_KEY = 'seq';
const PURGE_BATCH = 500;
const MAX_SEQ = Number.MAX_SAFE_INTEGER;

export class LmdbInboundStore implements InboundStore {
  private readonly root: RootDatabase;
  private readonly messages: Database<InboundRecord, string>;
  /** [agentId, seq] and [agentId, channel, seq] -> messageId: the pull order. */
  private readonly byAgent: Database<string, [string, number]>;
  private readonly byChannel: Database<string, [string, string, number]>;
  /** [agentId, channel, dedupeKey] -> the message stored under that key last. */
  private readonly dedupe: Database<DedupeEntry, [string, string, string]>;
  /** [expiresAt, messageId], for retention. */
  private readonly expiry: Database<true, [number, string]>;
  /** seq -> messageId while delivery is pending: the queue is rebuilt from it at start, in order. */
  private readonly pending: Database<string, number>;
  private readonly webhooks: Database<WebhookRecord, string>;
  private readonly meta: Database<number, string>;
  private readonly sync: SyncMode;

  constructor(options: LmdbInboundStoreOptions) {
    this.sync = options.sync ?? 'flush';
    this.root = open({ path: options.path, maxDbs: 10 });
    this.messages = this.root.openDB({ name: 'messages' });
    this.byAgent = this.root.openDB({ name: 'by-agent' });
    this.byChannel = this.root.openDB({ name: 'by-channel' });
    this.dedupe = this.root.openDB({ name: 'dedupe' });
    this.expiry = this.root.openDB({ name: 'expiry' });
    this.pending = this.root.openDB({ name: 'pending' });
    this.webhooks = this.root.openDB({ name: 'webhooks' });
    this.meta = this.root.openDB({ name: 'meta' });
  }

  async put(message: Omit<InboundRecord, 'cursor'>, dedupeWindowMs: number): Promise<PutInboundResult> {
    const dedupeKey: [string, string, string] = [message.agentId, message.channel, message.dedupeKey];
    const result = await this.root.transaction((): PutInboundResult => {
      const earlier = this.dedupe.get(dedupeKey);
      if (earlier && earlier.storedAt > message.storedAt - dedupeWindowMs) {
        const stored = this.messages.get(earlier.messageId);
        if (stored) return { message: stored, created: false };
      }
      const seq = (this.meta.get(SEQ_KEY) ?? 0) + 1;
      const record: InboundRecord = { ...message, cursor: String(seq) };
      void this.meta.put(SEQ_KEY, seq);
      void this.messages.put(record.messageId, record);
      void this.byAgent.put([record.agentId, seq], record.messageId);
      void this.byChannel.put([record.agentId, record.channel, seq], record.messageId);
      void this.dedupe.put(dedupeKey, { messageId: record.messageId, storedAt: record.storedAt });
      void this.expiry.put([record.expiresAt, record.messageId], true);
      if (record.delivery.status === 'pending') void this.pending.put(seq, record.messageId);
      return { message: record, created: true };
    });
    if (result.created) await this.durable();
    return result;
  }

  get(messageId: string): Promise<InboundRecord | undefined> {
    return Promise.resolve(this.messages.get(messageId));
  }

  list(query: InboundListQuery): Promise<InboundListPage> {
    let after: number;
    try {
      after = query.after === undefined ? 0 : parseCursor(query.after);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    const ids =
      query.channel === undefined
        ? this.byAgent.getRange({ start: [query.agentId, after + 1], end: [query.agentId, MAX_SEQ], limit: query.limit })
        : this.byChannel.getRange({
            start: [query.agentId, query.channel, after + 1],
            end: [query.agentId, query.channel, MAX_SEQ],
            limit: query.limit,
          });
    const messages: InboundRecord[] = [];
    let last = query.after;
    for (const { value: messageId } of ids) {
      const record = this.messages.get(messageId);
      if (!record) continue; // purged between the index read and this one
      messages.push(record);
      last = record.cursor;
    }
    return Promise.resolve(last === undefined ? { messages } : { messages, next: last });
  }

  async updateDelivery(messageId: string, patch: Partial<InboundDelivery>, expectAttempts: number): Promise<InboundRecord | undefined> {
    return this.root.transaction((): InboundRecord | undefined => {
      const current = this.messages.get(messageId);
      if (!current || current.delivery.attempts !== expectAttempts) return undefined;
      const delivery = applyPatch(current.delivery, patch);
      const next: InboundRecord = { ...current, delivery };
      void this.messages.put(messageId, next);
      if (current.delivery.status === 'pending' && delivery.status !== 'pending') void this.pending.remove(Number(current.cursor));
      return next;
    });
  }

  /** Messages whose delivery is pending, oldest first: the hub queues them again at start. */
  listPending(): InboundRecord[] {
    const out: InboundRecord[] = [];
    for (const { value: messageId } of this.pending.getRange()) {
      const record = this.messages.get(messageId);
      if (record?.delivery.status === 'pending') out.push(record);
    }
    return out;
  }

  /** Retention: deletes messages whose expiresAt is before `before`, in batches. Returns how many. */
  async purgeExpired(before: number, batchSize = PURGE_BATCH): Promise<number> {
    let total = 0;
    for (;;) {
      const removed = await this.root.transaction(() => {
        let count = 0;
        for (const { key } of this.expiry.getRange({ start: [0, ''], end: [before, ''], limit: batchSize })) {
          const [, messageId] = key;
          const record = this.messages.get(messageId);
          if (record) {
            const seq = Number(record.cursor);
            void this.byAgent.remove([record.agentId, seq]);
            void this.byChannel.remove([record.agentId, record.channel, seq]);
            void this.pending.remove(seq);
            const dedupeKey: [string, string, string] = [record.agentId, record.channel, record.dedupeKey];
            if (this.dedupe.get(dedupeKey)?.messageId === messageId) void this.dedupe.remove(dedupeKey);
            void this.messages.remove(messageId);
          }
          void this.expiry.remove(key);
          count++;
        }
        return count;
      });
      total += removed;
      if (removed < batchSize) return total;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** The WebhookStore port's view of this store (its method names overlap InboundStore's). */
  webhookStore(): WebhookStore {
    return {
      put: async (webhook) => {
        await this.webhooks.put(webhook.agentId, webhook);
        await this.durable();
      },
      get: (agentId) => Promise.resolve(this.webhooks.get(agentId)),
      delete: async (agentId) => {
        const deleted = await this.root.transaction(() => {
          if (!this.webhooks.get(agentId)) return false;
          void this.webhooks.remove(agentId);
          return true;
        });
        if (deleted) await this.durable();
        return deleted;
      },
    };
  }

  async close(): Promise<void> {
    await this.root.flushed;
    await this.root.close();
  }

  private async durable(): Promise<void> {
    if (this.sync === 'flush') await this.root.flushed;
  }
}

/** This store's cursors are its sequence numbers; anything else was not made here. */
function parseCursor(cursor: string): number {
  if (!/^\d{1,15}$/.test(cursor)) throw new DomainError('INVALID_QUERY', 'after is not a cursor this API returned');
  return Number(cursor);
}

function applyPatch<T extends object>(base: T, patch: Partial<T>): T {
  const next = { ...base } as Record<string, unknown>;
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) delete next[key];
    else next[key] = value;
  }
  return next as T;
}
