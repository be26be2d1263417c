/**
 * The dispatcher's time-driven branches, table by table, on the in-memory ports and a fake
 * clock: each row sets a push, its agent and "now", runs one dispatch, and checks the outcome
 * (done, or the retry delay the queue will wait), the stored push and what went to the relay.
 */
import { abandon, dispatch, type DispatchOutcome } from '../../../lambdas/core/push-dispatcher';
import { DEFAULT_CONFIG, type CoreConfig } from '../../../lambdas/core/core-config';
import { isTerminal, type AgentRecord, type PushRecord, type QueueItem } from '../../../lambdas/core/records';
import { BASE_MESSAGE_VERSION } from '../../../protocol/messages';
import { FakeClock } from '../../support/fake-clock';
import { memoryPorts, type GatewayAnswer, type MemoryPorts } from '../../support/memory-ports';
import { newAgent, newPush } from '../../support/records';

const config: CoreConfig = { ...DEFAULT_CONFIG, resultTimeoutMs: 30_000, offlineRetryMs: 2_000, maxAttempts: 3 };
const RESULT = config.resultTimeoutMs;
/** push-dispatcher.ts: a 'gone' this soon after $connect is API Gateway's connect window. */
const CONNECT_WINDOW = 10_000;

/** "now" in every row; pushes expire an hour later unless the row says otherwise. */
const T = Date.UTC(2024, 0, 1, 12);
const HOUR = 3_600_000;

const DONE: DispatchOutcome = { done: true };
const retry = (ms: number): DispatchOutcome => ({ done: false, retryAfterMs: ms });
/** Sent, or sent before on the same connection: waiting at the relay for its result. */
const atRelay = (ms: number): DispatchOutcome => ({ done: false, retryAfterMs: ms, inFlight: true });
/** The agent has no relay: the hub's queue parks the group until a relay connects. */
const waitRelay = (ms: number): DispatchOutcome => ({ done: false, retryAfterMs: ms, waitForRelay: true });

interface Row {
  name: string;
  push: Partial<PushRecord>;
  /** The agent's record; 'deleted' for none. Default: connected on c1 a minute ago. */
  agent?: Partial<AgentRecord> | 'deleted';
  /** What posts to c1 answer (default 'ok'). */
  c1?: GatewayAnswer;
  outcome: DispatchOutcome;
  /** Expected stored push afterwards (a value of undefined: the attribute is gone). */
  after: Partial<PushRecord>;
  /** Connections a push message went to. */
  posted?: string[];
  /** Expected agent connection afterwards (default: unchanged). */
  connection?: string | null;
}

async function setUp(row: Pick<Row, 'push' | 'agent' | 'c1'>): Promise<{ ports: MemoryPorts; item: QueueItem }> {
  const ports = memoryPorts(new FakeClock(T));
  const push = newPush({ createdAt: T - 60_000, expiresAt: T + HOUR, ...row.push });
  await ports.pushes.create(push);
  if (row.agent !== 'deleted') {
    await ports.agents.create(newAgent({ agentId: push.agentId, connectionId: 'c1', connectedAt: T - 60_000, ...row.agent }));
  }
  if (row.c1) ports.gateway.answer('c1', row.c1);
  return { ports, item: { pushId: push.pushId, agentId: push.agentId, destination: push.destination } };
}

/** toMatchObject, where an expected value of undefined means the attribute is gone. */
function expectPush(actual: PushRecord | undefined, expected: Partial<PushRecord>): void {
  const present = Object.fromEntries(Object.entries(expected).filter(([, v]) => v !== undefined));
  expect(actual).toMatchObject(present);
  for (const [key, value] of Object.entries(expected)) if (value === undefined) expect(actual).not.toHaveProperty(key);
}

async function check(row: Row): Promise<MemoryPorts> {
  const { ports, item } = await setUp(row);
  const agentBefore = await ports.agents.get(item.agentId);

  expect(await dispatch(ports, config, item)).toEqual(row.outcome);

  const after = ports.pushes.peek(item.pushId)!;
  expectPush(after, row.after);
  expect(ports.gateway.posts.map((p) => p.connectionId)).toEqual(row.posted ?? []);
  const agentAfter = await ports.agents.get(item.agentId);
  const connection = row.connection === undefined ? agentBefore?.connectionId : (row.connection ?? undefined);
  expect(agentAfter?.connectionId).toBe(connection);
  // A push that ends tells its waiters and frees its FIFO group; one that goes on does neither.
  const ended = isTerminal(after.status);
  expect(ports.watcher.notified.map((p) => p.pushId)).toEqual(ended ? [item.pushId] : []);
  expect(ports.queue.released.map((p) => p.pushId)).toEqual(ended ? [item.pushId] : []);
  return ports;
}

describe('expiry', () => {
  const EXP = T; // rows expire exactly now, or around now
  it.each<Row>([
    {
      name: 'queued, 1 ms before expiresAt: sent',
      push: { expiresAt: EXP + 1 },
      outcome: atRelay(RESULT),
      after: { status: 'sent', attempts: 1, sentAt: T, connectionId: 'c1' },
      posted: ['c1'],
    },
    {
      name: 'queued at expiresAt: expired, nothing sent',
      push: { expiresAt: EXP },
      outcome: DONE,
      after: { status: 'expired', completedAt: T, error: 'expired before the relay could deliver it' },
    },
    {
      name: 'queued past expiresAt after a failed delivery: expired, naming the last error',
      push: { expiresAt: EXP - 1, error: 'device unreachable', retryAt: T + 5_000 },
      outcome: DONE,
      after: { status: 'expired', error: 'expired before delivery; last error: device unreachable', retryAt: undefined },
    },
    {
      name: 'sent, past expiresAt, result still due on the same connection: keeps waiting for it',
      push: { expiresAt: EXP - 1_000, status: 'sent', attempts: 1, sentAt: T - 2_000, connectionId: 'c1' },
      outcome: atRelay(RESULT - 2_000),
      after: { status: 'sent', attempts: 1 },
    },
    {
      name: 'sent, past expiresAt, result timeout over: expired',
      push: { expiresAt: EXP, status: 'sent', attempts: 1, sentAt: T - RESULT, connectionId: 'c1' },
      outcome: DONE,
      after: { status: 'expired', completedAt: T, error: 'no result from the relay before the push expired' },
    },
    {
      // A WebSocket blip around expiresAt: the relay re-sends the result it holds once back.
      name: 'sent to a connection since replaced, past expiresAt: waits out its result timeout first',
      push: { expiresAt: EXP, status: 'sent', attempts: 1, sentAt: T - 1, connectionId: 'c0' },
      outcome: retry(RESULT - 1),
      after: { status: 'sent', attempts: 1 },
    },
    {
      name: 'sent to a connection since replaced, past expiresAt and its result timeout: expired',
      push: { expiresAt: EXP, status: 'sent', attempts: 1, sentAt: T - RESULT, connectionId: 'c0' },
      outcome: DONE,
      after: { status: 'expired', error: 'no result from the relay before the push expired' },
    },
  ])('$name', check);
});

describe('max attempts (3)', () => {
  it.each<Row>([
    {
      name: 'one attempt left, result timeout over: sent again, the last time',
      push: { status: 'sent', attempts: 2, sentAt: T - RESULT, connectionId: 'c1' },
      outcome: atRelay(RESULT),
      after: { status: 'sent', attempts: 3, sentAt: T },
      posted: ['c1'],
    },
    {
      name: 'last attempt, no result within the result timeout: failed',
      push: { status: 'sent', attempts: 3, sentAt: T - RESULT, connectionId: 'c1' },
      outcome: DONE,
      after: { status: 'failed', completedAt: T, error: 'no result from the relay after 3 attempts' },
    },
    {
      name: 'last attempt, relay reconnected before the result timeout: waits out the rest of it',
      push: { status: 'sent', attempts: 3, sentAt: T - 10_000, connectionId: 'c0' },
      outcome: retry(RESULT - 10_000),
      after: { status: 'sent', attempts: 3, connectionId: 'c0' },
    },
    {
      name: 'last attempt, relay offline before the result timeout: waits out the rest of it',
      push: { status: 'sent', attempts: 3, sentAt: T - 10_000, connectionId: 'c0' },
      agent: { connectionId: undefined },
      outcome: retry(RESULT - 10_000),
      after: { status: 'sent', attempts: 3 },
    },
    {
      name: 'last attempt, relay reconnected, expiry sooner than the result timeout: waits until expiry',
      push: { status: 'sent', attempts: 3, sentAt: T - 10_000, connectionId: 'c0', expiresAt: T + 5_000 },
      outcome: retry(5_000),
      after: { status: 'sent', attempts: 3 },
    },
  ])('$name', check);
});

describe('the connect window (10 s after $connect)', () => {
  it.each<Row>([
    {
      name: "'gone' 1 ms inside the window: the connection is kept, the attempt undone",
      agent: { connectedAt: T - CONNECT_WINDOW + 1 },
      c1: 'gone',
      push: {},
      outcome: retry(config.offlineRetryMs),
      after: { status: 'queued', attempts: 0, connectionId: undefined },
      posted: ['c1'],
    },
    {
      name: "'gone' at the end of the window: the connection is dropped",
      agent: { connectedAt: T - CONNECT_WINDOW },
      c1: 'gone',
      push: {},
      outcome: retry(config.offlineRetryMs),
      after: { status: 'queued', attempts: 0, connectionId: undefined },
      posted: ['c1'],
      connection: null,
    },
    {
      name: "'gone' with no connectedAt recorded: the connection is dropped",
      agent: { connectedAt: undefined },
      c1: 'gone',
      push: {},
      outcome: retry(config.offlineRetryMs),
      after: { status: 'queued', attempts: 0 },
      posted: ['c1'],
      connection: null,
    },
    {
      name: 'a post that throws, long after $connect: the connection is kept (not proven gone)',
      c1: new Error('throttled'),
      push: {},
      outcome: retry(config.offlineRetryMs),
      after: { status: 'queued', attempts: 0, connectionId: undefined },
      posted: ['c1'],
    },
    {
      name: "'gone' on a re-send: the push is queued again and the failed post does not count",
      agent: { connectedAt: T - HOUR },
      c1: 'gone',
      push: { status: 'sent', attempts: 1, sentAt: T - RESULT, connectionId: 'c1' },
      outcome: retry(config.offlineRetryMs),
      after: { status: 'queued', attempts: 1, connectionId: undefined },
      posted: ['c1'],
      connection: null,
    },
  ])('$name', check);

  it('logs a post that throws with the push id and the error, never the body', async () => {
    const ports = await check({
      name: 'throws',
      c1: new Error('throttled'),
      push: { body: 'MSH|^~\\&|PHI-MARKER\r' },
      outcome: retry(config.offlineRetryMs),
      after: { status: 'queued' },
      posted: ['c1'],
    });
    expect(ports.log.entries).toEqual([
      { level: 'warn', msg: 'post to relay failed', fields: expect.objectContaining({ connectionId: 'c1', error: 'throttled' }) },
    ]);
    expect(JSON.stringify(ports.log.entries)).not.toContain('PHI-MARKER');
  });
});

describe('retry times (retryAt, set after the device was unreachable)', () => {
  it.each<Row>([
    {
      name: 'retryAt 500 ms ahead: waits 500 ms, sends nothing',
      push: { retryAt: T + 500, error: 'device unreachable' },
      outcome: retry(500),
      after: { status: 'queued', attempts: 0, retryAt: T + 500 },
    },
    {
      name: 'retryAt after expiresAt: waits only until expiry',
      push: { retryAt: T + 5_000, expiresAt: T + 1_000 },
      outcome: retry(1_000),
      after: { status: 'queued', retryAt: T + 5_000 },
    },
    {
      name: 'retryAt now: sent, and retryAt cleared',
      push: { retryAt: T },
      outcome: atRelay(RESULT),
      after: { status: 'sent', attempts: 1, retryAt: undefined },
      posted: ['c1'],
    },
    {
      name: 'retryAt 1 ms ago: sent',
      push: { retryAt: T - 1 },
      outcome: atRelay(RESULT),
      after: { status: 'sent', attempts: 1, retryAt: undefined },
      posted: ['c1'],
    },
  ])('$name', check);

  it('waits exactly until retryAt, then sends', async () => {
    const { ports, item } = await setUp({ push: { retryAt: T + 1_500 } });
    expect(await dispatch(ports, config, item)).toEqual(retry(1_500));
    ports.clock.advance(1_499);
    expect(await dispatch(ports, config, item)).toEqual(retry(1));
    expect(ports.gateway.posts).toHaveLength(0);
    ports.clock.advance(1);
    expect(await dispatch(ports, config, item)).toEqual(atRelay(RESULT));
    expect(ports.gateway.posts).toHaveLength(1);
  });
});

describe('offline retry', () => {
  it.each<Row>([
    {
      name: 'queued, relay offline: waits offlineRetryMs, unchanged',
      agent: { connectionId: undefined },
      push: {},
      outcome: waitRelay(config.offlineRetryMs),
      after: { status: 'queued', attempts: 0 },
    },
    {
      name: 'queued, relay offline, expiry sooner than offlineRetryMs: waits until expiry',
      agent: { connectionId: undefined },
      push: { expiresAt: T + 500 },
      outcome: waitRelay(500),
      after: { status: 'queued' },
    },
    {
      name: 'sent, relay went offline before its result: queued again, the attempt kept',
      agent: { connectionId: undefined },
      push: { status: 'sent', attempts: 1, sentAt: T - 1_000, connectionId: 'c1' },
      outcome: waitRelay(config.offlineRetryMs),
      after: { status: 'queued', attempts: 1, connectionId: undefined },
    },
    {
      name: 'the agent was deleted: failed',
      agent: 'deleted',
      push: {},
      outcome: DONE,
      after: { status: 'failed', completedAt: T, error: 'agent agent-1 no longer exists' },
    },
  ])('$name', check);

  it('retries every offlineRetryMs while the relay is away, then expires on time', async () => {
    const { ports, item } = await setUp({ agent: { connectionId: undefined }, push: { expiresAt: T + 5_000 } });
    const waits: number[] = [];
    for (;;) {
      const outcome = await dispatch(ports, config, item);
      if (outcome.done) break;
      waits.push(outcome.retryAfterMs);
      ports.clock.advance(outcome.retryAfterMs);
    }
    expect(waits).toEqual([2_000, 2_000, 1_000]);
    expect(ports.pushes.peek(item.pushId)).toMatchObject({ status: 'expired', completedAt: T + 5_000 });
    expect(ports.gateway.posts).toHaveLength(0);
  });

  it('sends as soon as the relay is back', async () => {
    const { ports, item } = await setUp({ agent: { connectionId: undefined }, push: {} });
    expect(await dispatch(ports, config, item)).toEqual(waitRelay(2_000));
    ports.clock.advance(700);
    await ports.agents.setConnection(item.agentId, 'c2', ports.clock.now());
    expect(await dispatch(ports, config, item)).toEqual(atRelay(RESULT));
    expect(ports.gateway.posts.map((p) => p.connectionId)).toEqual(['c2']);
  });
});

describe('result timeout: same connection vs. a changed one', () => {
  it.each<Row>([
    {
      name: 'just sent on c1: waits the full result timeout',
      push: { status: 'sent', attempts: 1, sentAt: T, connectionId: 'c1' },
      outcome: atRelay(RESULT),
      after: { status: 'sent', attempts: 1, sentAt: T },
    },
    {
      name: 'sent on c1, 1 ms of the result timeout left: waits 1 ms',
      push: { status: 'sent', attempts: 1, sentAt: T - RESULT + 1, connectionId: 'c1' },
      outcome: atRelay(1),
      after: { status: 'sent', attempts: 1 },
    },
    {
      name: 'sent on c1, result timeout over: sent again on c1',
      push: { status: 'sent', attempts: 1, sentAt: T - RESULT, connectionId: 'c1' },
      outcome: atRelay(RESULT),
      after: { status: 'sent', attempts: 2, sentAt: T, connectionId: 'c1' },
      posted: ['c1'],
    },
    {
      name: 'sent on c0, the relay is now on c1: sent again at once on c1',
      push: { status: 'sent', attempts: 1, sentAt: T, connectionId: 'c0' },
      outcome: atRelay(RESULT),
      after: { status: 'sent', attempts: 2, sentAt: T, connectionId: 'c1' },
      posted: ['c1'],
    },
  ])('$name', check);

  it('records a new queue receipt while it waits', async () => {
    const { ports, item } = await setUp({ push: { status: 'sent', attempts: 1, sentAt: T, connectionId: 'c1', queueReceipt: 'r1' } });
    expect(await dispatch(ports, config, item, 'r2')).toEqual(atRelay(RESULT));
    expect(ports.pushes.peek(item.pushId)).toMatchObject({ status: 'sent', queueReceipt: 'r2' });
  });

  it('a relay that never answers: sent every resultTimeout, failed after the last one', async () => {
    const { ports, item } = await setUp({ push: {} });
    const sends: number[] = [];
    for (;;) {
      const before = ports.gateway.posts.length;
      const outcome = await dispatch(ports, config, item);
      if (ports.gateway.posts.length > before) sends.push(ports.clock.now() - T);
      if (outcome.done) break;
      ports.clock.advance(outcome.retryAfterMs);
    }
    expect(sends).toEqual([0, RESULT, 2 * RESULT]);
    expect(ports.pushes.peek(item.pushId)).toMatchObject({ status: 'failed', attempts: 3, completedAt: T + 3 * RESULT });
  });
});

describe('sent ahead behind another push (the SQS dispatcher window, `after`)', () => {
  it('names the push before it in the push message', async () => {
    const { ports, item } = await setUp({ push: {} });
    expect(await dispatch(ports, config, item, 'r1', { after: 'p-before' })).toEqual(atRelay(RESULT));
    expect(ports.gateway.posts.map((p) => p.message)).toMatchObject([{ type: 'push', pushId: item.pushId, after: 'p-before' }]);
    expect(ports.pushes.peek(item.pushId)).toMatchObject({ status: 'sent', attempts: 1, queueReceipt: 'r1' });
  });

  it('on the same connection past the result timeout: keeps waiting, not sent again, no attempt counted', async () => {
    const { ports, item } = await setUp({ push: { status: 'sent', attempts: 1, sentAt: T - 2 * RESULT, connectionId: 'c1' } });
    expect(await dispatch(ports, config, item, 'r2', { after: 'p-before' })).toEqual(atRelay(RESULT));
    expect(ports.gateway.posts).toHaveLength(0);
    expect(ports.pushes.peek(item.pushId)).toMatchObject({ status: 'sent', attempts: 1, queueReceipt: 'r2' });
  });

  it('at the head again (no `after`), the same push is sent again after its result timeout', async () => {
    const { ports, item } = await setUp({ push: { status: 'sent', attempts: 1, sentAt: T - 2 * RESULT, connectionId: 'c1' } });
    expect(await dispatch(ports, config, item)).toEqual(atRelay(RESULT));
    expect(ports.gateway.posts.map((p) => p.connectionId)).toStrictEqual(['c1']);
    expect(ports.pushes.peek(item.pushId)).toMatchObject({ status: 'sent', attempts: 2 });
  });

  it('sent on a connection that is gone: sent again on the new one, still after the push before it', async () => {
    const { ports, item } = await setUp({ push: { status: 'sent', attempts: 1, sentAt: T - 1_000, connectionId: 'c0' } });
    expect(await dispatch(ports, config, item, undefined, { after: 'p-before' })).toEqual(atRelay(RESULT));
    expect(ports.gateway.posts).toMatchObject([{ connectionId: 'c1', message: { pushId: item.pushId, after: 'p-before' } }]);
  });

  it('writes `sent` at once, posts only once the gate opens, and says when it is posting', async () => {
    const { ports, item } = await setUp({ push: {} });
    let open: (ok: boolean) => void = () => undefined;
    const gate = new Promise<boolean>((resolve) => (open = resolve));
    const posting: Array<Promise<boolean>> = [];
    const outcome = dispatch(ports, config, item, 'r1', { after: 'p-before', gate, onSending: (posted) => posting.push(posted) });
    await new Promise((r) => setImmediate(r));
    expect(ports.pushes.peek(item.pushId)).toMatchObject({ status: 'sent', attempts: 1 });
    expect(posting).toHaveLength(1);
    expect(ports.gateway.posts).toHaveLength(0);
    open(true);
    expect(await outcome).toEqual(atRelay(RESULT));
    expect(await posting[0]).toBe(true);
    expect(ports.gateway.posts).toHaveLength(1);
  });

  it('a closed gate: nothing posted, the attempt undone, tried again shortly', async () => {
    const { ports, item } = await setUp({ push: {} });
    let posted: Promise<boolean> = Promise.resolve(true);
    const outcome = await dispatch(ports, config, item, 'r1', { gate: Promise.resolve(false), onSending: (p) => void (posted = p) });
    expect(outcome).toEqual(retry(1));
    expect(await posted).toBe(false);
    expect(ports.gateway.posts).toHaveLength(0);
    expectPush(ports.pushes.peek(item.pushId), { status: 'queued', attempts: 0, connectionId: undefined });
  });

  it('a post that fails resolves its posting promise false', async () => {
    const { ports, item } = await setUp({ push: {}, c1: 'gone' });
    let posted: Promise<boolean> = Promise.resolve(true);
    await dispatch(ports, config, item, 'r1', { onSending: (p) => void (posted = p) });
    expect(await posted).toBe(false);
  });

  it('expired while it waited behind another: expired once its result timeout is over', async () => {
    const { ports, item } = await setUp({
      push: { status: 'sent', attempts: 1, sentAt: T - RESULT, connectionId: 'c1', expiresAt: T - 1 },
    });
    expect(await dispatch(ports, config, item, undefined, { after: 'p-before' })).toEqual(DONE);
    expect(ports.pushes.peek(item.pushId)).toMatchObject({ status: 'expired' });
    expect(ports.gateway.posts).toHaveLength(0);
  });
});

describe('what goes to the relay, and races', () => {
  it('sends the push message of the protocol', async () => {
    const { ports, item } = await setUp({ push: { returnAck: 'application', contentType: 'x-application/hl7-v2+er7' } });
    await dispatch(ports, config, item);
    const push = ports.pushes.peek(item.pushId)!;
    expect(ports.gateway.posts).toEqual([
      {
        connectionId: 'c1',
        message: {
          type: 'push',
          v: BASE_MESSAGE_VERSION,
          pushId: push.pushId,
          destination: 'lab',
          contentType: 'x-application/hl7-v2+er7',
          body: push.body,
          returnAck: 'application',
          expiresAt: push.expiresAt,
        },
      },
    ]);
  });

  it.each([
    ['a terminal push', { status: 'acked' as const, ackCode: 'AA' }],
    ['an expired push', { status: 'expired' as const }],
  ])('%s: done, untouched', async (_name, push) => {
    const { ports, item } = await setUp({ push });
    const before = ports.pushes.peek(item.pushId);
    expect(await dispatch(ports, config, item)).toEqual(DONE);
    expect(ports.pushes.peek(item.pushId)).toEqual(before);
    expect(ports.gateway.posts).toHaveLength(0);
  });

  it('an unknown push: done', async () => {
    const ports = memoryPorts(new FakeClock(T));
    expect(await dispatch(ports, config, { pushId: 'nope', agentId: 'agent-1', destination: 'lab' })).toEqual(DONE);
  });

  it.each([
    ['a result lands first: done', { status: 'acked' as const, ackCode: 'AA', completedAt: T }, DONE],
    [
      'another dispatcher sends it first: looks again in a second',
      { status: 'sent' as const, attempts: 1, sentAt: T, connectionId: 'c1' },
      retry(1_000),
    ],
  ])('someone else moves the push between read and write, %s', async (_name, patch, outcome) => {
    const { ports, item } = await setUp({ push: {} });
    const update = ports.pushes.update.bind(ports.pushes);
    jest.spyOn(ports.pushes, 'update').mockImplementationOnce(async (...args) => {
      await update(item.pushId, ['queued'], patch);
      return update(...args);
    });
    expect(await dispatch(ports, config, item)).toEqual(outcome);
    expect(ports.gateway.posts).toHaveLength(0);
  });
});

describe('abandon (the queue gave up: dead-letter queue)', () => {
  it.each([
    {
      name: 'before expiry: failed',
      push: { status: 'sent' as const, attempts: 2, expiresAt: T + 1 },
      after: { status: 'failed', error: 'the queue gave up delivering it after repeated attempts' },
    },
    {
      name: 'at expiry, after an error: expired, naming it',
      push: { expiresAt: T, error: 'device unreachable' },
      after: { status: 'expired', error: 'expired before delivery; last error: device unreachable' },
    },
    {
      name: 'already acked: untouched',
      push: { status: 'acked' as const, ackCode: 'AA' },
      after: { status: 'acked', ackCode: 'AA', error: undefined },
    },
  ])('$name', async ({ push, after }) => {
    const { ports, item } = await setUp({ push });
    await abandon(ports, item);
    expectPush(ports.pushes.peek(item.pushId), after as Partial<PushRecord>);
  });
});
