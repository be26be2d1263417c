/**
 * The adapter sets the inbound contract suite (inbound.contract.test.ts) runs against: the
 * InboundStore, WebhookStore and InboundQueue of each platform. Add a set here and the whole
 * suite runs against it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InboundMemoryQueue } from '../../hub/adapters/inbound-queue';
import { LmdbInboundStore } from '../../hub/adapters/lmdb-inbound-store';
import type { InboundQueue, InboundQueueItem, InboundStore, WebhookStore } from '../../lambdas/core/ports';
import { memoryInboundPorts } from '../support/memory-ports';

/** A queue port plus what a consumer would be handed right now. */
export interface InboundQueueProbe {
  port: InboundQueue;
  /** Takes at most one deliverable item (the head of a group with nothing in flight); it stays in flight until done(). */
  receiveOne(): Promise<InboundQueueItem | undefined>;
  /** The delivery of `item` is over: its group's next may be handed out. */
  done(item: InboundQueueItem): Promise<void>;
}

export interface InboundAdapterSet {
  store: InboundStore;
  webhooks: WebhookStore;
  queue: InboundQueueProbe;
  cleanup(): Promise<void>;
}

export interface InboundAdapterSetFactory {
  name: string;
  setup(): Promise<InboundAdapterSet>;
}

export const localInboundSet: InboundAdapterSetFactory = {
  name: 'local (lmdb + in-process queue)',
  setup() {
    const dir = mkdtempSync(path.join(tmpdir(), 'edgepush-inbound-contract-'));
    const store = new LmdbInboundStore({ path: dir });
    const queue = new InboundMemoryQueue();
    // The in-process queue pushes to its consumer: record each hand-over and hold it in flight
    // until the test says done, like an SQS receive followed by a delete.
    const handed: InboundQueueItem[] = [];
    const finish = new Map<string, () => void>();
    queue.start(
      (item) =>
        new Promise((resolve) => {
          handed.push(item);
          finish.set(item.messageId, () => resolve({ outcome: 'done' }));
        }),
    );
    return Promise.resolve({
      store,
      webhooks: store.webhookStore(),
      queue: {
        port: queue,
        async receiveOne() {
          await new Promise((resolve) => setTimeout(resolve, 10));
          return handed.shift();
        },
        async done(item) {
          finish.get(item.messageId)?.();
          finish.delete(item.messageId);
          await new Promise((resolve) => setImmediate(resolve));
        },
      },
      async cleanup() {
        for (const resolve of finish.values()) resolve();
        await queue.stop();
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    });
  },
};

/** The in-memory fakes the core's tests use, proven against the same contract. */
export const memoryInboundSet: InboundAdapterSetFactory = {
  name: 'memory (test/support fakes)',
  setup() {
    const ports = memoryInboundPorts();
    return Promise.resolve({
      store: ports.store,
      webhooks: ports.webhooks,
      queue: {
        port: ports.queue,
        receiveOne: () => Promise.resolve(ports.queue.receive()),
        done: (item) => Promise.resolve(ports.queue.done(item)),
      },
      cleanup: () => Promise.resolve(),
    });
  },
};

export const inboundAdapterSets: InboundAdapterSetFactory[] = [localInboundSet, memoryInboundSet];
