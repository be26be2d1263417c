/**
 * The AWS cost and latency model's arithmetic (bench/aws-model.ts), so the printed figures
 * cannot drift from the price table or the poll schedule unnoticed. A fixed, hand-made set of
 * counts stands in for the emulated run.
 */
import {
  DESIGNS,
  LIST_INDEX_COUNT,
  PLATFORM_LOG_BYTES_PER_INVOCATION,
  PRICES,
  backoffDetection,
  costPerMillion,
  dynamoUnits,
  fixedDetection,
  fixedFloor,
  offlinePushLambdaUsd,
  perDeviceRate,
  pushLatency,
  readUnits,
  total,
  writeUnits,
  type Counted,
  type DesignId,
} from '../../../bench/aws-model';

const byId = (id: DesignId) => DESIGNS.find((d) => d.id === id)!;
const built = byId('built');
const scenario = { wanRttMs: 30, deviceAckMs: 5 };

type Op = Counted['dynamo'][number];
const op = (o: Partial<Op> & Pick<Op, 'op' | 'bytes'>): Op => ({
  holdsReceipt: false,
  pushItem: false,
  bodyItem: false,
  caller: false,
  ...o,
});

/** One push as the built code does it: counters, body item, status item, sent, acked. */
const counted = (bodyBytes: number): Counted => ({
  bodyBytes,
  invocations: { http: 1, message: 1, dispatcher: 1 },
  dynamo: [
    op({ op: 'read', bytes: 300 }), // agent, http
    op({ op: 'read', bytes: 300 }), // agent, dispatcher
    ...[1, 2, 3, 4].map(() => op({ op: 'update', bytes: 125 })), // counters
    op({ op: 'put', bytes: 140 + bodyBytes, bodyItem: true }),
    op({ op: 'put', bytes: 320, pushItem: true }), // the status item
    op({ op: 'read', bytes: 320, pushItem: true }), // dispatcher
    op({ op: 'update', bytes: 570, pushItem: true, holdsReceipt: true }), // queued->sent: 934 B with a real receipt
    op({ op: 'update', bytes: 700, pushItem: true, holdsReceipt: true }), // sent->acked: 1,064 B: 2 WRU
    op({ op: 'read', bytes: 450, pushItem: true, caller: true }), // a caller poll: replaced by the model
    op({ op: 'read', bytes: 140 + bodyBytes, bodyItem: true }), // the emulator's: replaced by the model
  ],
  sqsRequests: { send: 1, visibility: 1, delete: 1, receive: 1 },
  wsMessages: 3,
  bytesOut: 1000 + bodyBytes,
  resultAckBytes: 60,
  logBytes: 800,
  pushItemBytes: 450,
  fauxqsReceiptBytes: 36,
});

it('rounds DynamoDB units the way AWS bills them', () => {
  expect([0, 1, 4096, 4097, 10_000].map(readUnits)).toStrictEqual([1, 1, 1, 2, 3]);
  expect([0, 1024, 1025, 10_240].map(writeUnits)).toStrictEqual([1, 1, 2, 10]);
});

it('finds the poll that first sees the result: on the old backoff, and every 20 ms', () => {
  // Reads start at 0, 55, 160, 365, 620 with 5 ms reads.
  expect([0, 1, 55, 56, 160, 300, 600].map((t) => backoffDetection(t, 5).startsAt)).toStrictEqual([0, 55, 55, 160, 160, 365, 620]);
  expect(backoffDetection(100, 5).reads).toBe(3);
  expect(fixedDetection(100, 20, true)).toStrictEqual({ startsAt: 110, reads: 6 });
  expect(fixedDetection(100, 20, false).startsAt).toBe(100);
});

it('adds the hops of one push: built design typical and best, and inline dispatch', () => {
  // accept 2 + 5x5 + 5 = 32; recorded at 28.1-5 + dispatch(2+15+10=27) + 15+5+15 + 5+2+10 = 102.1;
  // seen by the poll at 102.1 + 10, then the final read.
  const t = pushLatency(built, scenario, true);
  expect(t.httpMs).toBeCloseTo(32 + 112.1 + 5 + 5, 6);
  expect(t.total).toBeCloseTo(10 + 154.1, 6);
  expect(t.callerReads).toBe(8); // polls at 0..120 ms, then the final read
  expect(t.dispatcherMs).toBeCloseTo(27 + 5, 6);
  expect(t.messageMs).toBeCloseTo(2 + 4 * 5 + 5 + 10, 6);
  // Best: accept 1+15+3 = 19; recorded at 21.9-3 + (1+9+5) + 15+5+15 + 2.5+1+6 = 78.4, seen at once.
  expect(pushLatency(built, scenario, false).total).toBeCloseTo(5 + 19 + 78.4 + 3 + 3, 6);
  // Inline: no ESM hop and no reads before the post: queued->sent + post in the http Lambda.
  const inline = pushLatency(byId('inline'), scenario, false);
  expect(inline.total).toBeCloseTo(5 + 19 + (3 + 5 + 15 + 5 + 15 + 2.5 + 1 + 6) + 3 + 3, 6);
});

it('prices every line from the price table', () => {
  const lines = costPerMillion(built, counted(400), scenario);
  const byItem = Object.fromEntries(lines.map((l) => [l.item, l.usd]));
  expect(byItem['API Gateway HTTP API']).toBeCloseTo(PRICES.httpApiPerM.usd, 9);
  expect(byItem['API Gateway WebSocket messages']).toBeCloseTo(3 * PRICES.wsMessagePerM.usd, 9);
  expect(byItem['Lambda requests']).toBeCloseTo(3 * PRICES.lambdaRequestPerM.usd, 9);
  expect(byItem['Lambda duration']).toBeCloseTo(((0.25 * (154.1 + 32 + 37)) / 1000) * 1e6 * PRICES.lambdaArmGbS.usd, 6);
  // Reads: 2 agent + 1 dispatcher + 2 body reads + 8 caller reads of the status item (1 RRU each).
  expect(byItem['DynamoDB reads']).toBeCloseTo(13 * PRICES.dynamoRruPerM.usd, 9);
  // Writes: 4 counters + body 1 + status 1 + sent 1 + acked 2, and 3 status writes x 2 indexes.
  expect(LIST_INDEX_COUNT).toBe(2);
  expect(byItem['DynamoDB writes']).toBeCloseTo((9 + 6) * PRICES.dynamoWruPerM.usd, 9);
  expect(byItem['SQS FIFO']).toBeCloseTo(4 * PRICES.sqsFifoPerM.usd, 9);
  expect(byItem['CloudWatch Logs']).toBeCloseTo(((800 + 3 * PLATFORM_LOG_BYTES_PER_INVOCATION) / 1e3) * PRICES.logsIngestPerGb.usd, 9);
  expect(byItem['Data transfer out']).toBeCloseTo((1400 / 1e3) * PRICES.transferOutPerGb.usd, 9);
  expect(total(lines)).toBeCloseTo(
    Object.values(byItem).reduce((a, b) => a + b, 0),
    9,
  );
});

it('a 10 KB body is written once and read twice (dispatcher, wsMessage); status writes stay small', () => {
  const u = dynamoUnits(built, counted(10_240), scenario);
  // Body put 11 WRU (10,380 B); everything else as at 400 B.
  expect(u.wru).toBe(4 + 11 + 1 + 1 + 2 + 6);
  // Body item 3 RRU, twice; the caller's 8 status reads stay 1 RRU each.
  expect(u.rru).toBe(2 + 1 + 2 * 3 + 8);
  expect(u.callerRru).toBe(8);
});

it('models the levers: keys-only indexes write once per push, no resultAck drops a message and its bytes', () => {
  expect(dynamoUnits(byId('keysOnly'), counted(400), scenario).indexWru).toBe(LIST_INDEX_COUNT);
  const lines = Object.fromEntries(costPerMillion(byId('noResultAck'), counted(400), scenario).map((l) => [l.item, l.usd]));
  expect(lines['API Gateway WebSocket messages']).toBeCloseTo(2 * PRICES.wsMessagePerM.usd, 9);
  expect(lines['Data transfer out']).toBeCloseTo((1340 / 1e3) * PRICES.transferOutPerGb.usd, 9);
  // Inline dispatch changes latency, not the bill's calls.
  const inline = dynamoUnits(byId('inline'), counted(400), scenario);
  expect(inline.wru).toBe(dynamoUnits(built, counted(400), scenario).wru);
});

it('the fixed floor: HTTP + WebSocket + 3 Lambda requests + 4 FIFO requests + platform logs', () => {
  expect(total(fixedFloor(false))).toBeCloseTo(1 + 3 + 0.6 + 2 + (3 * 330 * 0.5) / 1000, 9);
  expect(total(fixedFloor(true))).toBeCloseTo(total(fixedFloor(false)) - 1, 9);
});

it('an offline push bills the whole wait only when not answered at once', () => {
  expect(offlinePushLambdaUsd(true, 10_000)).toBeCloseTo(0.25 * 0.032 * PRICES.lambdaArmGbS.usd * 1e6, 9);
  expect(offlinePushLambdaUsd(false, 10_000)).toBeGreaterThan(30);
});

it('per-device rate: one FIFO cycle per push, or the device ACK time when pipelined', () => {
  const cycle = (ack: number) => 28.1 + 32 + 30 + ack + 5 + 37;
  expect(perDeviceRate(built, { wanRttMs: 30, deviceAckMs: 10 })).toBeCloseTo(1000 / cycle(10), 6);
  // A window of 10 in flight: the cycle bounds it at 10 ms; a 50 ms device bounds it itself.
  expect(perDeviceRate(byId('pipelined'), { wanRttMs: 30, deviceAckMs: 10 })).toBeCloseTo(10_000 / cycle(10), 6);
  expect(perDeviceRate(byId('pipelined'), { wanRttMs: 30, deviceAckMs: 50 })).toBeCloseTo(1000 / 51, 6);
});
