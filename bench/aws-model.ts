/**
 * The AWS latency and cost model behind `npm run bench -- aws-model` (bench/aws-model.bench.ts).
 * Pure arithmetic, no I/O, so test/unit/bench/aws-model.test.ts pins it to the price table.
 *
 * Inputs: what one push costs in calls and bytes (counted on the emulated full path) and
 * per-hop latencies from published measurements (HOPS, each with its source). Outputs: a
 * push's latency (typical p50 and best case) and cost per million pushes, line by line, for
 * the current design and for the designs issue 14 asks for (DESIGNS says which are built).
 */

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

/** The caller's wait in the built design: PollingWatcher reads after 0, 50, 100, 200, 250, 250... ms. */
export const BACKOFF_POLL = { initialDelayMs: 50, maxDelayMs: 250 };
/** Modelled: a small status item read every 20 ms (or a wake-up that lands within 20 ms). */
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

export type DesignId = 'current' | 'offlineAnswers' | 'statusItem' | 'all';

export interface Design {
  id: DesignId;
  title: string;
  built: boolean;
  /** The caller polls a small status item at STATUS_POLL_MS instead of the body-sized item with backoff. */
  statusItem: boolean;
  /** Bodies kept apart (body item or S3): status reads/writes are 1 unit; the body is read once. */
  bodiesApart: boolean;
  /** An offline relay is answered at once (no waitTimeout billed). */
  offlineAnswers: boolean;
  /** Per-device pipelining: several pushes of one destination in flight to the relay. */
  pipelined: boolean;
}

export const DESIGNS: Design[] = [
  { id: 'current', title: 'current (built)', built: true, statusItem: false, bodiesApart: false, offlineAnswers: false, pipelined: false },
  {
    id: 'offlineAnswers',
    title: '(iii) offline answered at once (built)',
    built: true,
    statusItem: false,
    bodiesApart: false,
    offlineAnswers: true,
    pipelined: false,
  },
  {
    id: 'statusItem',
    title: '+(i) status item polled 20 ms, (ii) bodies apart (modelled)',
    built: false,
    statusItem: true,
    bodiesApart: true,
    offlineAnswers: true,
    pipelined: false,
  },
  {
    id: 'all',
    title: '+(iv) per-device pipelining (modelled)',
    built: false,
    statusItem: true,
    bodiesApart: true,
    offlineAnswers: true,
    pipelined: true,
  },
];

export interface Latency {
  total: number;
  /** Billed Lambda ms per push, by function. */
  httpMs: number;
  dispatcherMs: number;
  messageMs: number;
  callerReads: number;
}

/**
 * One push, hop by hop. Caller side: API Gateway -> http Lambda: agent read, create
 * PutItem, SendMessage, then the wait. Delivery: ESM -> dispatcher (push + agent reads,
 * queued->sent, visibility, postToConnection) -> WAN -> device -> WAN -> API Gateway ->
 * wsMessage (push read, sent->acked). After the record (off the caller's path): DeleteMessage,
 * resultAck postToConnection.
 */
export function pushLatency(design: Design, s: Scenario, typical: boolean): Latency {
  const h = (n: HopName) => (typical ? HOPS[n].p50 : HOPS[n].best);
  const accept = h('lambdaWarm') + 2 * h('dynamo') + h('sqsCall');
  const dispatcherMs = h('lambdaWarm') + 3 * h('dynamo') + h('sqsCall') + h('postToConnection');
  const messageMs = h('lambdaWarm') + 2 * h('dynamo') + h('sqsCall') + h('postToConnection');
  // From the start of the wait (SendMessage returned) to the acked record.
  const recordedAt =
    h('esm') -
    h('sqsCall') + // ESM latency is measured from the send's start
    dispatcherMs +
    s.wanRttMs / 2 +
    s.deviceAckMs +
    s.wanRttMs / 2 +
    h('apiGateway') / 2 +
    h('lambdaWarm') +
    2 * h('dynamo');
  const read = h('dynamo');
  const detect = design.statusItem ? fixedDetection(recordedAt, STATUS_POLL_MS, typical) : backoffDetection(recordedAt, read);
  // Bodies apart: the final read of the full push (for the response) is one more read.
  const finalRead = design.bodiesApart ? read : 0;
  const httpMs = accept + detect.startsAt + read + finalRead;
  return {
    total: h('apiGateway') + httpMs,
    httpMs,
    dispatcherMs,
    messageMs,
    callerReads: detect.reads + (design.bodiesApart ? 1 : 0),
  };
}

/** What one push costs in calls and bytes on the emulated full path (bench/aws-counts.ts). */
export interface Counted {
  bodyBytes: number;
  invocations: { http: number; message: number; dispatcher: number };
  /** Every DynamoDB operation of one push, with the item size it is billed on (fauxqs receipts). */
  dynamo: { op: 'read' | 'write' | 'transact'; bytes: number; holdsReceipt: boolean; pushItem: boolean; caller: boolean }[];
  /** Caller (http Lambda) reads of the push item counted on loopback; replaced by the model's poll count. */
  sqsRequests: { send: number; visibility: number; delete: number; receive: number };
  wsMessages: number;
  /** Bytes leaving AWS: pushes to the relay, resultAcks, and the HTTP response. */
  bytesOut: number;
  /** Application log bytes (Powertools logger and metrics) across all Lambdas. */
  logBytes: number;
  /** The push item's size with fauxqs's receipt, as the caller reads it. */
  pushItemBytes: number;
  fauxqsReceiptBytes: number;
}

export const readUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / 4096));
export const writeUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));

export interface CostLine {
  item: string;
  arithmetic: string;
  usd: number;
}

const perM = (units: number, price: number) => units * price;
const STATUS_ITEM_BYTES = 300;

/** Cost per million pushes for one design; every line itemised. */
export function costPerMillion(design: Design, c: Counted, s: Scenario): CostLine[] {
  const lat = pushLatency(design, s, true);
  const receiptDelta = REAL_RECEIPT_BYTES - c.fauxqsReceiptBytes;
  let rru = 0;
  let wru = 0;
  for (const o of c.dynamo) {
    if (o.caller && o.op === 'read' && o.pushItem) continue; // the caller's polls: from the model below
    let bytes = o.bytes + (o.holdsReceipt ? receiptDelta : 0);
    if (design.bodiesApart && o.pushItem) bytes = STATUS_ITEM_BYTES + (o.holdsReceipt ? REAL_RECEIPT_BYTES : 0);
    if (o.op === 'read') rru += readUnits(bytes);
    else wru += (o.op === 'transact' ? 2 : 1) * writeUnits(bytes);
  }
  // Bodies apart: written once (with the push) and read once by the dispatcher.
  if (design.bodiesApart) {
    wru += writeUnits(c.bodyBytes + 100);
    rru += readUnits(c.bodyBytes + 100);
  }
  const pushReadBytes = c.pushItemBytes + receiptDelta;
  const callerRru = design.statusItem
    ? (lat.callerReads - 1) * readUnits(STATUS_ITEM_BYTES + REAL_RECEIPT_BYTES) + readUnits(pushReadBytes)
    : lat.callerReads * readUnits(pushReadBytes);
  rru += callerRru;

  const inv = c.invocations;
  const lambdaReq = inv.http + inv.message + inv.dispatcher;
  const gbS = (LAMBDA_GB * (lat.httpMs * inv.http + lat.dispatcherMs * inv.dispatcher + lat.messageMs * inv.message)) / 1000;
  const sqsReq = c.sqsRequests.send + c.sqsRequests.visibility + c.sqsRequests.delete + c.sqsRequests.receive;
  const logBytes = c.logBytes + PLATFORM_LOG_BYTES_PER_INVOCATION * lambdaReq;
  const lines: CostLine[] = [
    { item: 'API Gateway HTTP API', arithmetic: `1 request x $${PRICES.httpApiPerM.usd}/M`, usd: perM(1, PRICES.httpApiPerM.usd) },
    {
      item: 'API Gateway WebSocket messages',
      arithmetic: `${c.wsMessages.toFixed(2)} x $${PRICES.wsMessagePerM.usd}/M (each < 32 KB)`,
      usd: perM(c.wsMessages * Math.max(1, Math.ceil(c.bodyBytes / 32768)), PRICES.wsMessagePerM.usd),
    },
    { item: 'Lambda requests', arithmetic: `${lambdaReq.toFixed(2)} x $0.20/M`, usd: perM(lambdaReq, PRICES.lambdaRequestPerM.usd) },
    {
      item: 'Lambda duration',
      arithmetic: `${LAMBDA_GB} GB x (http ${lat.httpMs.toFixed(0)} + dispatcher ${lat.dispatcherMs.toFixed(0)} + wsMessage ${lat.messageMs.toFixed(0)} ms) = ${gbS.toFixed(4)} GB-s`,
      usd: gbS * 1e6 * PRICES.lambdaArmGbS.usd,
    },
    {
      item: 'DynamoDB reads',
      arithmetic: `${rru} RRU (caller ${callerRru} in ${lat.callerReads} reads) x $0.125/M`,
      usd: perM(rru, PRICES.dynamoRruPerM.usd),
    },
    { item: 'DynamoDB writes', arithmetic: `${wru} WRU x $0.625/M`, usd: perM(wru, PRICES.dynamoWruPerM.usd) },
    {
      item: 'SQS FIFO',
      arithmetic: `${sqsReq.toFixed(2)} requests (send, visibility, deletes, receive) x $0.50/M`,
      usd: perM(sqsReq, PRICES.sqsFifoPerM.usd),
    },
    {
      item: 'CloudWatch Logs',
      arithmetic: `${logBytes.toFixed(0)} B (app ${c.logBytes.toFixed(0)} counted + platform ${PLATFORM_LOG_BYTES_PER_INVOCATION} x ${lambdaReq.toFixed(2)}) x $0.50/GB`,
      usd: ((logBytes * 1e6) / 1e9) * PRICES.logsIngestPerGb.usd,
    },
    {
      item: 'Data transfer out',
      arithmetic: `${c.bytesOut.toFixed(0)} B x $0.09/GB`,
      usd: ((c.bytesOut * 1e6) / 1e9) * PRICES.transferOutPerGb.usd,
    },
  ];
  return lines;
}

export const total = (lines: CostLine[]) => lines.reduce((a, l) => a + l.usd, 0);

/**
 * A push to an agent with no relay connected, waitForResponse:true: the built design before
 * (iii) holds the http Lambda for the whole waitTimeout, polling; with (iii) it answers 202 at once.
 */
export function offlinePushLambdaUsd(design: Design, waitTimeoutMs: number): number {
  const h = (n: HopName) => HOPS[n].p50;
  const accept = h('lambdaWarm') + 2 * h('dynamo') + h('sqsCall');
  const ms = design.offlineAnswers ? accept : accept + waitTimeoutMs;
  const reads = design.offlineAnswers ? 0 : backoffDetection(waitTimeoutMs, h('dynamo')).reads;
  return LAMBDA_GB * (ms / 1000) * PRICES.lambdaArmGbS.usd * 1e6 + reads * PRICES.dynamoRruPerM.usd;
}

/**
 * Pushes per second to one device. Built: one FIFO cycle per push (receive, dispatch, WAN,
 * device, WAN, record, delete, the next receive). Pipelined: the relay holds a window of
 * pushes and feeds the device one at a time, so the device's ACK time bounds it.
 */
export function perDeviceRate(design: Design, s: Scenario, relayPerMessageMs = 1, window = 10): number {
  const lat = pushLatency(design, s, true);
  const cycle = HOPS.esm.p50 + lat.dispatcherMs + s.wanRttMs + s.deviceAckMs + HOPS.apiGateway.p50 / 2 + lat.messageMs;
  if (!design.pipelined) return 1000 / cycle;
  return Math.min(1000 / (s.deviceAckMs + relayPerMessageMs), (window * 1000) / cycle);
}
