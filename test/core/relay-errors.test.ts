/**
 * The cloud's error replies to a relay carry the pushId when the message had one, so the relay
 * knows which result the error is about: final for a protocol error, "send it again" for
 * INTERNAL. Runs the core on the hub's real store, with a gateway that records what is posted.
 */
import { join } from 'node:path';
import { LmdbStore } from '../../hub/adapters/lmdb-store';
import { createCore } from '../../lambdas/core/core';
import type { ConnectionGateway, Ports, PushStore } from '../../lambdas/core/ports';
import { BASE_MESSAGE_VERSION, type CloudMessage } from '../../protocol/messages';
import { tempDir } from '../hub/fixtures';

let dir: ReturnType<typeof tempDir>;
let store: LmdbStore;
const posted: CloudMessage[] = [];
let failReads = false;

beforeEach(async () => {
  dir = tempDir();
  store = new LmdbStore({ path: join(dir.path, 'store') });
  await store.agentStore().create({ agentId: 'site-e', secretHash: 'x', createdAt: 1, devices: [] });
  posted.length = 0;
  failReads = false;
});

afterEach(async () => {
  await store.close();
  dir.remove();
});

function core() {
  const gateway: ConnectionGateway = { post: (_c, m) => (posted.push(m), Promise.resolve('ok')), close: () => Promise.resolve() };
  // The store, except that reads can be made to fail like a throttled table.
  const pushes: PushStore = {
    create: (p) => store.create(p),
    update: (...args) => store.update(...args),
    list: (q) => store.list(q),
    queueDepths: (a, d) => store.queueDepths(a, d),
    get: (id) => (failReads ? Promise.reject(new Error('ProvisionedThroughputExceededException')) : store.get(id)),
  };
  return createCore({ agents: store.agentStore(), pushes, gateway, clock: { now: () => Date.now() } } as unknown as Ports);
}

const result = (pushId: string) => JSON.stringify({ action: 'result', v: BASE_MESSAGE_VERSION, pushId, status: 'acked', ackCode: 'AA' });

it('a protocol error about a result names its pushId', async () => {
  await core().relayMessage('site-e', 'c1', result('no-such-push'));
  expect(posted).toEqual([expect.objectContaining({ type: 'error', code: 'UNKNOWN_PUSH', pushId: 'no-such-push' })]);
});

it('an INTERNAL error about a result names its pushId, so the relay re-sends that result', async () => {
  failReads = true;
  await core().relayMessage('site-e', 'c1', result('p-internal'));
  expect(posted).toEqual([expect.objectContaining({ type: 'error', code: 'INTERNAL', pushId: 'p-internal' })]);
});

it('a message without a readable pushId gets an error without one', async () => {
  await core().relayMessage('site-e', 'c1', '{"action":"result","v":1');
  await core().relayMessage('site-e', 'c1', JSON.stringify({ action: 'result', v: BASE_MESSAGE_VERSION, pushId: 'x'.repeat(129) }));
  expect(posted).toHaveLength(2);
  for (const m of posted) expect(m).not.toHaveProperty('pushId');
});
