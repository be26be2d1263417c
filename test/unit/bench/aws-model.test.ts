/**
 * The AWS cost and latency model's arithmetic (bench/aws-model.ts), so the printed figures
 * cannot drift from the price table or the poll schedule unnoticed. A fixed, hand-made set of
 * counts stands in for the emulated run.
 */
import {
  DESIGNS,
  PLATFORM_LOG_BYTES_PER_INVOCATION,
  PRICES,
  backoffDetection,
  costPerMillion,
  fixedDetection,
  offlinePushLambdaUsd,
  perDeviceRate,
  pushLatency,
  readUnits,
  total,
  writeUnits,
  type Counted,
} from '../../../bench/aws-model';

const current = DESIGNS[0];
const modelled = DESIGNS[2];
const scenario = { wanRttMs: 30, deviceAckMs: 5 };

const counted = (bodyBytes: number): Counted => ({
  bodyBytes,
  invocations: { http: 1, message: 1, dispatcher: 1 },
  dynamo: [
    { op: 'read', bytes: 300, holdsReceipt: false, pushItem: false, caller: true }, // agent
    { op: 'write', bytes: 600 + bodyBytes, holdsReceipt: false, pushItem: true, caller: true }, // the push
    { op: 'read', bytes: 600 + bodyBytes, holdsReceipt: false, pushItem: true, caller: false }, // dispatcher
    { op: 'write', bytes: 650 + bodyBytes, holdsReceipt: true, pushItem: true, caller: false }, // queued->sent
    { op: 'read', bytes: 650 + bodyBytes, holdsReceipt: true, pushItem: true, caller: true }, // a caller poll: replaced by the model
  ],
  sqsRequests: { send: 1, visibility: 1, delete: 1, receive: 1 },
  wsMessages: 3,
  bytesOut: 1000 + bodyBytes,
  logBytes: 1000,
  pushItemBytes: 650 + bodyBytes,
  fauxqsReceiptBytes: 36,
});

it('rounds DynamoDB units the way AWS bills them', () => {
  expect([0, 1, 4096, 4097, 10_000].map(readUnits)).toStrictEqual([1, 1, 1, 2, 3]);
  expect([0, 1024, 1025, 10_240].map(writeUnits)).toStrictEqual([1, 1, 2, 10]);
});

it('finds the poll that first sees the result on the 50..250 ms backoff', () => {
  // Reads start at 0, 55, 160, 365, 620 with 5 ms reads.
  expect([0, 1, 55, 56, 160, 300, 600].map((t) => backoffDetection(t, 5).startsAt)).toStrictEqual([0, 55, 55, 160, 160, 365, 620]);
  expect(backoffDetection(100, 5).reads).toBe(3);
  expect(fixedDetection(100, 20, true)).toStrictEqual({ startsAt: 110, reads: 6 });
  expect(fixedDetection(100, 20, false).startsAt).toBe(100);
});

it('adds the hops of one push: built design typical and best', () => {
  // accept 2+5+5+5 = 17; recorded at 28.1-5 + dispatcher(2+15+5+10=32) + 15+5+15 + 5+2+10 = 107.1 -> poll at 160.
  const t = pushLatency(current, scenario, true);
  expect(t.httpMs).toBeCloseTo(17 + 160 + 5, 6);
  expect(t.total).toBeCloseTo(10 + 182, 6);
  expect(t.callerReads).toBe(3);
  const m = pushLatency(modelled, scenario, true);
  expect(m.total).toBeCloseTo(10 + 17 + 107.1 + 10 + 5 + 5, 6);
});

it('prices every line from the price table', () => {
  const lines = costPerMillion(current, counted(400), scenario);
  const byItem = Object.fromEntries(lines.map((l) => [l.item, l.usd]));
  expect(byItem['API Gateway HTTP API']).toBeCloseTo(PRICES.httpApiPerM.usd, 9);
  expect(byItem['API Gateway WebSocket messages']).toBeCloseTo(3 * PRICES.wsMessagePerM.usd, 9);
  expect(byItem['Lambda requests']).toBeCloseTo(3 * PRICES.lambdaRequestPerM.usd, 9);
  expect(byItem['Lambda duration']).toBeCloseTo(((0.25 * (182 + 32 + 27)) / 1000) * 1e6 * PRICES.lambdaArmGbS.usd, 6);
  // Reads: agent 1 + dispatcher 1 + caller 3 polls of a 1050+364-byte item (1 RRU each).
  expect(byItem['DynamoDB reads']).toBeCloseTo(5 * PRICES.dynamoRruPerM.usd, 9);
  // Writes: the push (1000 B: 1) + queued->sent with a 400-byte receipt (1050+364 B: 2).
  expect(byItem['DynamoDB writes']).toBeCloseTo(3 * PRICES.dynamoWruPerM.usd, 9);
  expect(byItem['SQS FIFO']).toBeCloseTo(4 * PRICES.sqsFifoPerM.usd, 9);
  expect(byItem['CloudWatch Logs']).toBeCloseTo(((1000 + 3 * PLATFORM_LOG_BYTES_PER_INVOCATION) / 1e3) * PRICES.logsIngestPerGb.usd, 9);
  expect(byItem['Data transfer out']).toBeCloseTo((1400 / 1e3) * PRICES.transferOutPerGb.usd, 9);
  expect(total(lines)).toBeCloseTo(
    Object.values(byItem).reduce((a, b) => a + b, 0),
    9,
  );
});

it('bodies kept apart: a 10 KB body is written and read once, the rest is status-sized', () => {
  const built = Object.fromEntries(costPerMillion(current, counted(10_240), scenario).map((l) => [l.item, l.usd]));
  const apart = Object.fromEntries(costPerMillion(modelled, counted(10_240), scenario).map((l) => [l.item, l.usd]));
  // Built: push 11 WRU + sent 11 WRU (10,890+364 B); apart: status 1 + 1, body 11.
  expect(built['DynamoDB writes']).toBeCloseTo(22 * PRICES.dynamoWruPerM.usd, 9);
  expect(apart['DynamoDB writes']).toBeCloseTo(13 * PRICES.dynamoWruPerM.usd, 9);
  // Built: agent 1 + dispatcher 3 + 3 polls x 3; apart: agent 1 + dispatcher 1 + body 3
  // + 7 status polls (0..120 ms every 20 ms, the result at 107.1) + 1 final read of 3.
  expect(built['DynamoDB reads']).toBeCloseTo(13 * PRICES.dynamoRruPerM.usd, 9);
  expect(apart['DynamoDB reads']).toBeCloseTo((1 + 1 + 3 + 7 + 3) * PRICES.dynamoRruPerM.usd, 9);
});

it('an offline push bills the whole wait only before (iii)', () => {
  expect(offlinePushLambdaUsd(DESIGNS[1], 10_000)).toBeCloseTo(0.25 * 0.017 * PRICES.lambdaArmGbS.usd * 1e6, 9);
  expect(offlinePushLambdaUsd(current, 10_000)).toBeGreaterThan(30);
});

it('per-device rate: one FIFO cycle per push, or the device ACK time when pipelined', () => {
  expect(perDeviceRate(current, { wanRttMs: 30, deviceAckMs: 10 })).toBeCloseTo(1000 / (28.1 + 32 + 30 + 10 + 5 + 27), 6);
  const cycle = 28.1 + 32 + 30 + 10 + 5 + 27;
  // A window of 10 in flight: the cycle bounds it at 10 ms; a 50 ms device bounds it itself.
  expect(perDeviceRate(DESIGNS[3], { wanRttMs: 30, deviceAckMs: 10 })).toBeCloseTo(10_000 / cycle, 6);
  expect(perDeviceRate(DESIGNS[3], { wanRttMs: 30, deviceAckMs: 50 })).toBeCloseTo(1000 / 51, 6);
});
