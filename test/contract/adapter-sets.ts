/**
 * The adapter sets the contract suite runs against. Each factory starts what it needs
 * (emulators, a temp dir) and returns the ports plus a cleanup. Add a set here and the whole
 * suite runs against it.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { createClients } from '../../lambdas/adapters/aws/clients';
import { DynamoAgentStore } from '../../lambdas/adapters/aws/dynamo-agent-store';
import { DynamoPushStore } from '../../lambdas/adapters/aws/dynamo-push-store';
import { SqsPushQueue } from '../../lambdas/adapters/aws/sqs-queue';
import { LmdbStore } from '../../hub/adapters/lmdb-store';
import { MemoryQueue } from '../../hub/adapters/memory-queue';
import { DynamoTemplateStore } from '../../lambdas/adapters/aws/dynamo-template-store';
import type { AgentStore, PushQueue, PushStore, TemplateStore } from '../../lambdas/core/ports';
import type { QueueItem } from '../../lambdas/core/records';
import { memoryPorts } from '../support/memory-ports';
import { TEST_CREDENTIALS, TEST_REGION, createFifoQueue, createTable, startDynalite, startFauxqs } from '../aws/emulators';

export interface Delivery {
  item: QueueItem;
  /** What the adapter stores on the push as queueReceipt, if it needs one for release(). */
  receipt?: string;
}

/** A queue port plus a way to see what a consumer would be handed right now. */
export interface QueueProbe {
  port: PushQueue;
  /** Takes at most one deliverable item (it stays in flight until released). */
  receiveOne(): Promise<Delivery | undefined>;
}

export interface AdapterSet {
  pushes: PushStore;
  agents: AgentStore;
  queue: QueueProbe;
  templates: TemplateStore;
  cleanup(): Promise<void>;
}

export interface AdapterSetFactory {
  name: string;
  setup(): Promise<AdapterSet>;
}

export const awsAdapterSet: AdapterSetFactory = {
  name: 'aws (dynalite + fauxqs)',
  async setup() {
    const [dynalite, fauxqs] = await Promise.all([startDynalite(), startFauxqs()]);
    const tableName = `edgepush-${randomUUID()}`;
    await createTable(dynalite.endpoint, tableName);
    const queueUrl = await createFifoQueue(fauxqs.endpoint, `edgepush-${randomUUID().slice(0, 8)}`);
    const clients = createClients({
      region: TEST_REGION,
      credentials: TEST_CREDENTIALS,
      tableName,
      queueUrl,
      inboundQueueUrl: queueUrl,
      managementEndpoint: 'http://127.0.0.1:1',
      retentionDays: 30,
      dynamoEndpoint: dynalite.endpoint,
      sqsEndpoint: fauxqs.endpoint,
    });
    return {
      pushes: new DynamoPushStore(clients.dynamo, tableName, 30, { idempotentCreate: 'two-step-for-dynalite' }),
      agents: new DynamoAgentStore(clients.dynamo, tableName),
      templates: new DynamoTemplateStore(clients.dynamo, tableName),
      queue: {
        port: new SqsPushQueue(clients.sqs, queueUrl),
        async receiveOne() {
          const out = await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 0 }));
          const message = out.Messages?.[0];
          return message ? { item: JSON.parse(message.Body!) as QueueItem, receipt: message.ReceiptHandle } : undefined;
        },
      },
      async cleanup() {
        clients.dynamo.destroy();
        clients.sqs.destroy();
        clients.management.destroy();
        await Promise.all([dynalite.close(), fauxqs.close()]);
      },
    };
  },
};

export const localAdapterSet: AdapterSetFactory = {
  name: 'local (lmdb + in-process queue)',
  async setup() {
    const dir = mkdtempSync(path.join(tmpdir(), 'edgepush-contract-'));
    const store = new LmdbStore({ path: dir });
    const queue = new MemoryQueue();
    // The in-process queue pushes to its consumer: record each delivery and keep it in flight
    // (not done, retry far in the future) until it is released, like an SQS receive.
    const delivered: QueueItem[] = [];
    queue.start(async (item) => {
      delivered.push(item);
      return { done: false, retryAfterMs: 3_600_000 };
    });
    return {
      pushes: store,
      agents: store.agentStore(),
      templates: store.templateStore(),
      queue: {
        port: queue,
        async receiveOne() {
          await new Promise((resolve) => setTimeout(resolve, 10));
          const item = delivered.shift();
          return item ? { item } : undefined;
        },
      },
      async cleanup() {
        await queue.stop();
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

/** The in-memory fakes the core's unit tests use: proven here against the same contract. */
export const memoryAdapterSet: AdapterSetFactory = {
  name: 'memory (test/support fakes)',
  setup() {
    const ports = memoryPorts();
    return Promise.resolve({
      pushes: ports.pushes,
      agents: ports.agents,
      templates: ports.templates,
      queue: {
        port: ports.queue,
        receiveOne: () => {
          const item = ports.queue.receive();
          return Promise.resolve(item && { item });
        },
      },
      cleanup: () => Promise.resolve(),
    });
  },
};

export const adapterSets: AdapterSetFactory[] = [awsAdapterSet, localAdapterSet, memoryAdapterSet];
