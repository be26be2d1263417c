/**
 * The AWS latency and cost model behind `npm run bench -- aws-model` (bench/aws-model.bench.ts).
 * Pure arithmetic, no I/O, so test/unit/bench/aws-model.test.ts pins it to the price table.
 *
 * Inputs: what one push costs in calls and bytes (counted on the emulated full path,
 * bench/aws-counts.ts) and per-hop latencies from published measurements (HOPS, each with its
 * source). Outputs: a push's latency (typical p50 and best case) and cost per million pushes,
 * line by line, for the built design and for levers not built (DESIGNS says which, and why).
 */
import { LIST_INDEXES } from '../lambdas/adapters/aws/dynamo-list-index';

/** us-east-1 list prices, USD. Checked against the AWS price pages in `source`. */
export const PRICES = {
  httpApiPerM: { usd: 1.0, source: 'https://aws.amazon.com/api-gateway/pricing/ (HTTP API, first 300M/month, per 512 KB)' },
  wsMessagePerM: { usd: 1.0, source: 'https://aws.amazon.com/api-gateway/pricing/ (WebSocket, first 1B messages, 32 KB units)' },
  lambdaRequestPerM: { usd: 0.2, source: 'https://aws.amazon.com/lambda/pricing/' },
  lambdaArmGbS: { usd: 0.0000133334, source: 'https://aws.amazon.com/lambda/pricing/ (Arm, first 7.5B GB-s/month)' },
  dynamoWruPerM: { usd: 0.625, source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/ (1 KB per WRU; transactional 2x)' },
  dynamoRruPerM: { usd: 0.125, source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/ (4 KB per strongly consistent RRU)' },
  sqsFifoPerM: { usd: 0.5, source: 'https://aws.amazon.com/sqs/pricing/ (FIFO, per 64 KB chunk of a request)' },
  logsIngestPerGb: { usd: 0.5, source: 'https://aws.amazon.com/cloudwatch/pricing/ (Logs, standard ingestion)' },
  transferOutPerGb: { usd: 0.09, source: 'https://aws.amazon.com/ec2/pricing/on-demand/ (data transfer out to the internet, first 10 TB)' },
} as const;

/** Lambda memory in the construct (lib/edgepush-construct.ts default), GB. */
export const LAMBDA_GB = 0.25;

/** Real SQS receipt handles; fauxqs's are 36 characters (see test/aws/receipt-handle-size.spec.test.ts). */
export const REAL_RECEIPT_BYTES = 400;

/**
 * Platform log lines Lambda writes per invocation (START, END, REPORT), bytes. Counted from
 * the documented formats with a 36-char request id; the REPORT line is the long one.
 */
export const PLATFORM_LOG_BYTES_PER_INVOCATION = 330;

/**
 * The list indexes (dynamo-list-index.ts) project the push's summary, status included, so
 * every write of a push's status item that creates it or changes its status writes each index
 * too: a new item with the index's key attributes takes one index write, and an update that
 * changes a projected attribute one more, billed on the index item's size
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.Writes).
 * Index items are a summary (< 1 KB): 1 WRU each. dynalite does not report index writes.
 */
export const LIST_INDEX_COUNT = LIST_INDEXES.length;

export interface Hop {
  p50: number;
  best: number;
  source: string;
}

/** One-way latencies in ms. `best` is the published p10 where there is one. */
export const HOPS = {
  esm: {
    p50: 28.1,
    best: 21.9,
    source:
      'SQS FIFO -> Lambda event source mapping, send to handler start, p10/p50 (p99 645 ms): https://bitesizedserverless.com/bite/serverless-messaging-latency-compared/',
  },
  dynamo: {
    p50: 5,
    best: 3,
    source:
      'GetItem/PutItem/UpdateItem average single-digit ms (AWS): https://repost.aws/knowledge-center/dynamodb-high-latency ; 5 ms p50, 3 ms best assumed within that',
  },
  sqsCall: {
    p50: 5,
    best: 3,
    source: 'an in-region SQS API call (Send/ChangeVisibility/Delete): assumed like a DynamoDB call; no published p50 found',
  },
  apiGateway: {
    p50: 10,
    best: 5,
    source:
      'API Gateway HTTP API or WebSocket route -> warm Lambda, both ways: assumed 10 ms; an anecdotal measurement found ~30 ms per layer for REST API behind CloudFront: https://forum.serverless.com/t/lambda-call-latency/3891',
  },
  lambdaWarm: { p50: 2, best: 1, source: 'a warm Lambda start, ~1-2 ms: https://imarck.dev/blog/art_1_lambda_latency' },
  postToConnection: {
    p50: 10,
    best: 5,
    source: 'API Gateway Management API postToConnection to the frame leaving AWS: assumed 10 ms; no published measurement found',
  },
} satisfies Record<string, Hop>;

export type HopName = keyof typeof HOPS;

/**
 * Sequential DynamoDB calls on each Lambda's path, as the built code makes them:
 * - accept (http): agent read, 2 counter writes, body put, status put;
 * - dispatcher: push read (status and body in parallel), agent read, queued->sent;
 * - wsMessage: push read, sent->acked (the result is recorded here), 2 counter writes.
 */
export const DYNAMO_CALLS = { accept: 5, dispatch: 3, beforeRecord: 2, afterRecord: 2 };

/** The caller's wait before this branch: whole push item at 0, 50, 150, 350, 600... ms (kept for the unit test). */
export const BACKOFF_POLL = { initialDelayMs: 50, maxDelayMs: 250 };
/** Built: the small status item read every 20 ms (PollingWatcher, while a result is likely). */
export const STATUS_POLL_MS = 20;

/** When the first poll whose read starts at or after `recordedAt` (ms after the wait began) starts. */
export function backoffDetection(recordedAt: number, readMs: number, opts = BACKOFF_POLL): { startsAt: number; reads: number } {
  let t = 0;
  let delay = opts.initialDelayMs;
  let reads = 1;
  while (t < recordedAt) {
    t += readMs + delay;
    delay = Math.min(delay * 2, opts.maxDelayMs);
    reads++;
  }
  return { startsAt: t, reads };
}

/** Fixed-interval polling: typical lands half an interval after the record, best lands on it. */
export function fixedDetection(recordedAt: number, intervalMs: number, typical: boolean): { startsAt: number; reads: number } {
  const startsAt = recordedAt + (typical ? intervalMs / 2 : 0);
  return { startsAt, reads: Math.max(1, Math.ceil(recordedAt / intervalMs) + 1) };
}

export interface Scenario {
  wanRttMs: number;
  deviceAckMs: number;
}

export type DesignId = 'built' | 'keysOnly' | 'noResultAck' | 'inline' | 'levers' | 'pipelined';

export interface Design {
  id: DesignId;
  title: string;
  built: boolean;
  /** Why a lever is not built (empty for the built design). */
  whyNot: string;
  /** The list indexes project keys only: written when a push is created, not on each status change. */
  keysOnlyIndexes: boolean;
  /** No resultAck WebSocket message: the relay learns its result is stored some other way. */
  noResultAck: boolean;
  /** The http Lambda posts the push to the relay itself when the destination is idle. */
  inlineDispatch: boolean;
  /** Per-device pipelining: several pushes of one destination in flight to the relay. */
  pipelined: boolean;
}

const design = (d: Partial<Design> & Pick<Design, 'id' | 'title' | 'built' | 'whyNot'>): Design => ({
  keysOnlyIndexes: false,
  noResultAck: false,
  inlineDispatch: false,
  pipelined: false,
  ...d,
});

export const DESIGNS: Design[] = [
  design({
    id: 'built',
    title: 'built: status item polled every 20 ms, bodies apart, no parked# write, 4 counter writes, 1 log line per Lambda',
    built: true,
    whyNot: '',
  }),
  design({
    id: 'keysOnly',
    title: '+ list indexes keys-only (modelled)',
    built: false,
    keysOnlyIndexes: true,
    whyNot:
      'a GSI projection cannot be changed in place: both list indexes must be replaced on deployed tables (a migration), and GET /pushes must then read each listed status item (BatchGetItem)',
  }),
  design({
    id: 'noResultAck',
    title: '+ no resultAck message (modelled)',
    built: false,
    noResultAck: true,
    whyNot:
      'the relay keeps each result and re-sends it until acknowledged; dropping the message needs a protocol change (e.g. acknowledge with the next push or heartbeatAck) in protocol/ and edge-agent/relay',
  }),
  design({
    id: 'inline',
    title: '+ inline dispatch when idle (modelled)',
    built: false,
    inlineDispatch: true,
    whyNot:
      'changes latency, not cost: the SQS message is still sent as the retry path, and received once by the dispatcher (which finds the push sent); idle detection needs a conditional write on the destination per push, and a second dispatch path beside the FIFO one whose order against it must hold through every failure; the typical p50 already meets its goal, so the 8 ms of best case did not justify that risk',
  }),
  design({
    id: 'levers',
    title: 'all three levers (modelled)',
    built: false,
    keysOnlyIndexes: true,
    noResultAck: true,
    inlineDispatch: true,
    whyNot: 'see each lever',
  }),
  design({
    id: 'pipelined',
    title: 'built + per-device pipelining (the model of it; built, measured by `npm run bench -- aws-pipeline`)',
    built: true,
    pipelined: true,
    whyNot: '',
  }),
];

export interface Latency {
  total: number;
  /** Billed Lambda ms per push, by function. */
  httpMs: number;
  dispatcherMs: number;
  messageMs: number;
  /** Reads of the status item by the waiting caller, the final one included. */
  callerReads: number;
}

/**
 * One push, hop by hop. Caller side: API Gateway -> http Lambda: accept (DYNAMO_CALLS.accept),
 * SendMessage, then the wait: status polls every STATUS_POLL_MS, and a final read of the push
 * (status item; the body is this Lambda's own copy). Delivery: ESM -> dispatcher (reads,
 * queued->sent, postToConnection) -> WAN -> device -> WAN -> API Gateway -> wsMessage (push read,
 * sent->acked). After the record, off the caller's path: counters, DeleteMessage, resultAck.
 * Inline dispatch: the http Lambda writes queued->sent and posts itself; no ESM hop, no reads.
 */
export function pushLatency(d: Design, s: Scenario, typical: boolean): Latency {
  const h = (n: HopName) => (typical ? HOPS[n].p50 : HOPS[n].best);
  const accept = h('lambdaWarm') + DYNAMO_CALLS.accept * h('dynamo') + h('sqsCall');
  const dispatch = h('lambdaWarm') + DYNAMO_CALLS.dispatch * h('dynamo') + h('postToConnection');
  const dispatcherMs = dispatch + h('sqsCall'); // + its ChangeMessageVisibility
  const messageMs =
    h('lambdaWarm') +
    (DYNAMO_CALLS.beforeRecord + DYNAMO_CALLS.afterRecord) * h('dynamo') +
    h('sqsCall') +
    (d.noResultAck ? 0 : h('postToConnection'));
  // From the start of the wait (SendMessage returned) to the acked record.
  const toRelay = d.inlineDispatch
    ? h('dynamo') + h('postToConnection') // queued->sent and the post, in the http Lambda
    : h('esm') - h('sqsCall') + dispatch; // ESM latency is measured from the send's start
  const recordedAt =
    toRelay +
    s.wanRttMs / 2 +
    s.deviceAckMs +
    s.wanRttMs / 2 +
    h('apiGateway') / 2 +
    h('lambdaWarm') +
    DYNAMO_CALLS.beforeRecord * h('dynamo');
  const detect = fixedDetection(recordedAt, STATUS_POLL_MS, typical);
  const read = h('dynamo');
  const httpMs = accept + detect.startsAt + read + read; // the poll that sees it, then the final read
  return {
    total: h('apiGateway') + httpMs,
    httpMs,
    dispatcherMs,
    messageMs,
    callerReads: detect.reads + 1,
  };
}

/** What one push costs in calls and bytes on the emulated full path (bench/aws-counts.ts). */
export interface Counted {
  bodyBytes: number;
  invocations: { http: number; message: number; dispatcher: number };
  /**
   * Every DynamoDB operation of one push, with the item size it is billed on (fauxqs receipts).
   * `pushItem`: the status item `push#`; `bodyItem`: `pushbody#`; `caller`: the waiting caller's.
   */
  dynamo: {
    op: 'read' | 'put' | 'update' | 'transact' | 'delete';
    bytes: number;
    holdsReceipt: boolean;
    pushItem: boolean;
    bodyItem: boolean;
    caller: boolean;
  }[];
  sqsRequests: { send: number; visibility: number; delete: number; receive: number };
  wsMessages: number;
  /** Bytes leaving AWS: pushes to the relay, resultAcks, and the HTTP response. */
  bytesOut: number;
  /** Of which the resultAck messages. */
  resultAckBytes: number;
  /** Application log bytes (Powertools logger and metrics) across all Lambdas. */
  logBytes: number;
  /** The status item's size with fauxqs's receipt, as the caller reads it. */
  pushItemBytes: number;
  fauxqsReceiptBytes: number;
}

export const readUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / 4096));
export const writeUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));

/**
 * Body item reads per push on AWS: the dispatcher and the wsMessage Lambda each read it once
 * (each keeps it for its own update); the http Lambda wrote it and keeps its copy. On the
 * emulated path all handlers share one process and one copy, so the counts show none: these
 * are added here.
 */
export const BODY_READS = 2;

export interface CostLine {
  item: string;
  arithmetic: string;
  usd: number;
}

const perM = (units: number, price: number) => units * price;

export interface DynamoUnits {
  rru: number;
  wru: number;
  callerRru: number;
  indexWru: number;
}

/** Read and write units of one push: counted ops with real receipts, modelled polls, index writes. */
export function dynamoUnits(d: Design, c: Counted, s: Scenario): DynamoUnits {
  const lat = pushLatency(d, s, true);
  const receiptDelta = REAL_RECEIPT_BYTES - c.fauxqsReceiptBytes;
  let rru = 0;
  let wru = 0;
  let indexWru = 0;
  let bodyItemBytes = c.bodyBytes;
  for (const o of c.dynamo) {
    const bytes = o.bytes + (o.holdsReceipt ? receiptDelta : 0);
    if (o.bodyItem && o.op === 'put') bodyItemBytes = o.bytes;
    if (o.op === 'read') {
      if (o.bodyItem) continue; // the emulator's shared copy: modelled below
      if (o.caller && o.pushItem) continue; // the caller's polls: modelled below
      rru += readUnits(bytes);
      continue;
    }
    wru += (o.op === 'transact' ? 2 : 1) * writeUnits(bytes);
    if (o.pushItem && (o.op === 'put' || o.op === 'transact' || (o.op === 'update' && !d.keysOnlyIndexes))) indexWru += LIST_INDEX_COUNT;
  }
  rru += BODY_READS * readUnits(bodyItemBytes);
  const callerRru = lat.callerReads * readUnits(c.pushItemBytes + receiptDelta);
  rru += callerRru;
  return { rru, wru: wru + indexWru, callerRru, indexWru };
}

/** Cost per million pushes for one design; every line itemised. */
export function costPerMillion(d: Design, c: Counted, s: Scenario): CostLine[] {
  const lat = pushLatency(d, s, true);
  const u = dynamoUnits(d, c, s);
  const inv = c.invocations;
  const lambdaReq = inv.http + inv.message + inv.dispatcher;
  const gbS = (LAMBDA_GB * (lat.httpMs * inv.http + lat.dispatcherMs * inv.dispatcher + lat.messageMs * inv.message)) / 1000;
  const sqsReq = c.sqsRequests.send + c.sqsRequests.visibility + c.sqsRequests.delete + c.sqsRequests.receive;
  const logBytes = c.logBytes + PLATFORM_LOG_BYTES_PER_INVOCATION * lambdaReq;
  const ws = c.wsMessages - (d.noResultAck ? 1 : 0);
  const bytesOut = c.bytesOut - (d.noResultAck ? c.resultAckBytes : 0);
  return [
    { item: 'API Gateway HTTP API', arithmetic: `1 request x $${PRICES.httpApiPerM.usd}/M`, usd: perM(1, PRICES.httpApiPerM.usd) },
    {
      item: 'API Gateway WebSocket messages',
      arithmetic: `${ws.toFixed(2)} x $${PRICES.wsMessagePerM.usd}/M (each < 32 KB)`,
      usd: perM(ws * Math.max(1, Math.ceil(c.bodyBytes / 32768)), PRICES.wsMessagePerM.usd),
    },
    { item: 'Lambda requests', arithmetic: `${lambdaReq.toFixed(2)} x $0.20/M`, usd: perM(lambdaReq, PRICES.lambdaRequestPerM.usd) },
    {
      item: 'Lambda duration',
      arithmetic: `${LAMBDA_GB} GB x (http ${lat.httpMs.toFixed(0)} + dispatcher ${lat.dispatcherMs.toFixed(0)} + wsMessage ${lat.messageMs.toFixed(0)} ms) = ${gbS.toFixed(4)} GB-s`,
      usd: gbS * 1e6 * PRICES.lambdaArmGbS.usd,
    },
    {
      item: 'DynamoDB reads',
      arithmetic: `${u.rru} RRU (caller ${u.callerRru} in ${lat.callerReads} status reads; body item ${BODY_READS}x) x $0.125/M`,
      usd: perM(u.rru, PRICES.dynamoRruPerM.usd),
    },
    {
      item: 'DynamoDB writes',
      arithmetic: `${u.wru} WRU (of which ${u.indexWru} list-index writes) x $0.625/M`,
      usd: perM(u.wru, PRICES.dynamoWruPerM.usd),
    },
    {
      item: 'SQS FIFO',
      arithmetic: `${sqsReq.toFixed(2)} requests (send, receive, visibility, delete) x $0.50/M`,
      usd: perM(sqsReq, PRICES.sqsFifoPerM.usd),
    },
    {
      item: 'CloudWatch Logs',
      arithmetic: `${logBytes.toFixed(0)} B (app ${c.logBytes.toFixed(0)} counted + platform ${PLATFORM_LOG_BYTES_PER_INVOCATION} x ${lambdaReq.toFixed(2)}) x $0.50/GB`,
      usd: ((logBytes * 1e6) / 1e9) * PRICES.logsIngestPerGb.usd,
    },
    {
      item: 'Data transfer out',
      arithmetic: `${bytesOut.toFixed(0)} B x $0.09/GB`,
      usd: ((bytesOut * 1e6) / 1e9) * PRICES.transferOutPerGb.usd,
    },
  ];
}

export const total = (lines: CostLine[]) => lines.reduce((a, l) => a + l.usd, 0);

/**
 * What no version of this architecture avoids, per million pushes: the HTTP request, the
 * WebSocket messages (push, result, and resultAck unless `noResultAck`), three Lambda
 * requests, four FIFO requests (send, receive, visibility, delete) and the platform log lines
 * of three invocations. Everything else (DynamoDB, duration, app logs, transfer) must fit in
 * what is left under a goal.
 */
export function fixedFloor(noResultAck: boolean): CostLine[] {
  const ws = noResultAck ? 2 : 3;
  const logGb = (3 * PLATFORM_LOG_BYTES_PER_INVOCATION * 1e6) / 1e9;
  return [
    { item: 'API Gateway HTTP API', arithmetic: '1 x $1.00/M', usd: PRICES.httpApiPerM.usd },
    { item: 'API Gateway WebSocket messages', arithmetic: `${ws} x $1.00/M`, usd: ws * PRICES.wsMessagePerM.usd },
    { item: 'Lambda requests', arithmetic: '3 x $0.20/M', usd: 3 * PRICES.lambdaRequestPerM.usd },
    { item: 'SQS FIFO', arithmetic: '4 x $0.50/M', usd: 4 * PRICES.sqsFifoPerM.usd },
    {
      item: 'CloudWatch Logs (platform)',
      arithmetic: `3 x ${PLATFORM_LOG_BYTES_PER_INVOCATION} B x $0.50/GB`,
      usd: logGb * PRICES.logsIngestPerGb.usd,
    },
  ];
}

/**
 * A push to an agent with no relay connected, waitForResponse:true: before the offline answer
 * the http Lambda held the whole waitTimeout, polling; now it answers at once (as in flight).
 */
export function offlinePushLambdaUsd(answersAtOnce: boolean, waitTimeoutMs: number): number {
  const h = (n: HopName) => HOPS[n].p50;
  const accept = h('lambdaWarm') + DYNAMO_CALLS.accept * h('dynamo') + h('sqsCall');
  const ms = answersAtOnce ? accept : accept + waitTimeoutMs;
  const reads = answersAtOnce ? 0 : backoffDetection(waitTimeoutMs, h('dynamo')).reads;
  return LAMBDA_GB * (ms / 1000) * PRICES.lambdaArmGbS.usd * 1e6 + reads * PRICES.dynamoRruPerM.usd;
}

/**
 * Pushes per second to one device. Built: one FIFO cycle per push (receive, dispatch, WAN,
 * device, WAN, record, delete, the next receive). Pipelined: the relay holds a window of
 * pushes and feeds the device one at a time, so the device's ACK time bounds it.
 */
export function perDeviceRate(d: Design, s: Scenario, relayPerMessageMs = 1, window = 10): number {
  const lat = pushLatency(d, s, true);
  const cycle = HOPS.esm.p50 + lat.dispatcherMs + s.wanRttMs + s.deviceAckMs + HOPS.apiGateway.p50 / 2 + lat.messageMs;
  if (!d.pipelined) return 1000 / cycle;
  return Math.min(1000 / (s.deviceAckMs + relayPerMessageMs), (window * 1000) / cycle);
}
