/**
 * Counts what pushes cost on the emulated full path (test/aws/emulated-aws.ts: the real
 * handlers, dynalite, fauxqs, the WebSocket gateway, the real relay and an HL7 listener):
 * every AWS call, the item size each DynamoDB call is billed on, bytes sent to the relay and
 * the caller, and bytes the Lambdas log. Used by aws-model.bench.ts; no timing is taken from it.
 */
import { unmarshall } from '@aws-sdk/util-dynamodb';
import pino from 'pino';
import { startHl7Listener } from '../edge-agent/mllp/listener';
import { resolveConfig } from '../edge-agent/relay/config-schema';
import { Relay } from '../edge-agent/relay/relay';
import { startEmulatedAws } from '../test/aws/emulated-aws';
import type { Counted } from './aws-model';

type Client = { middlewareStack: { add: (...args: any[]) => unknown } };
type Mw = (args: { input: Record<string, any> }) => Promise<{ output: Record<string, any> }>;

/** DynamoDB's item size rule: attribute names plus values (numbers ~ 1 byte per 2 digits + 1). */
export function itemBytes(value: unknown): number {
  if (value === null || value === undefined || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number') return Math.ceil(String(Math.abs(value)).replace(/[.-]/g, '').length / 2) + 1;
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return value.length;
  if (Array.isArray(value)) return 3 + value.reduce((a: number, v) => a + 1 + itemBytes(v), 0);
  if (value instanceof Set) return [...value].reduce((a: number, v) => a + itemBytes(v), 0);
  return 3 + Object.entries(value as Record<string, unknown>).reduce((a, [k, v]) => a + 1 + Buffer.byteLength(k) + itemBytes(v), 0);
}

const ATTR = new Set(['S', 'N', 'B', 'BOOL', 'NULL', 'M', 'L', 'SS', 'NS', 'BS']);
const marshalled = (v: Record<string, unknown>) =>
  Object.values(v).every((a) => a !== null && typeof a === 'object' && Object.keys(a).length === 1 && ATTR.has(Object.keys(a)[0]));
/** The middleware sees DynamoDB JSON or plain values depending on the command's layer. */
const um = (v: any): Record<string, any> | undefined => (v ? (marshalled(v) ? unmarshall(v) : v) : undefined);

export interface CountRun {
  counted: Counted;
  /** Raw per-push command counts, for the table. */
  perPush: Record<string, number>;
  /** RRU/WRU dynalite reported (ReturnConsumedCapacity), per push. */
  consumed: { rru: number; wru: number };
  /** Caller reads of the push item on loopback (the model replaces these by its poll schedule). */
  callerReads: number;
}

export async function countPushes(bodyBytes: number, pushes: number): Promise<CountRun> {
  // Logs and metrics on, as deployed (the construct's settings), so their bytes can be counted.
  const aws = await startEmulatedAws({
    pollIntervalMs: 20,
    env: {
      POWERTOOLS_LOG_LEVEL: 'INFO',
      POWERTOOLS_METRICS_DISABLED: 'false',
      POWERTOOLS_SERVICE_NAME: 'edgepush',
      POWERTOOLS_METRICS_NAMESPACE: 'EdgePush',
    },
  });
  // Nothing the Lambdas log reaches this bench's output; the counted window's bytes are kept.
  let logBytes = 0;
  let counting = false;
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (chunk: string | Uint8Array) => {
    if (counting) logBytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    return true;
  };
  const device = await startHl7Listener({ port: 0 });
  const api = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(aws.httpUrl + p, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, text, json: JSON.parse(text) };
  };
  const agent = (await api('POST', '/agents', { agentId: 'model-site' })).json;
  const relay = new Relay(
    resolveConfig({
      url: aws.wsUrl,
      agentId: agent.agentId,
      secret: agent.secret,
      devices: { lab: `mllp://127.0.0.1:${device.port}` },
      logLevel: 'silent',
    }),
    pino({ enabled: false }),
  );
  relay.start();
  for (let i = 0; i < 200; i++) {
    const a = (await api('GET', '/agents/model-site')).json;
    if (a.status === 'connected' && a.devices.length) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const rt = aws.handlers.runtime.getRuntime();
  const counts: Record<string, number> = {};
  const consumed = { rru: 0, wru: 0 };
  const ops: Counted['dynamo'] = [];
  let wsBytes = 0;
  let resultAckBytes = 0;
  let callerReads = 0;
  let receiptBytes = 36;
  const lastSize = new Map<string, number>();
  /** Items that hold a receipt handle now: every later write is billed on it too. */
  const hasReceipt = new Set<string>();
  const countErrors: string[] = [];
  const byKey: Record<string, number> = {};
  const add = (
    client: Client,
    prefix: string,
    onCall?: (name: string, input: Record<string, any>, output: Record<string, any>, stack: string) => void,
  ) =>
    client.middlewareStack.add(
      (next: Mw, context: { commandName?: string }) => async (args: { input: Record<string, any> }) => {
        const name = (context.commandName ?? 'unknown').replace(/Command$/, '');
        // The stack at call time tells who called: the caller's wait lives in the watcher.
        const stack = counting ? (new Error().stack ?? '') : '';
        if (counting) counts[`${prefix}:${name}`] = (counts[`${prefix}:${name}`] ?? 0) + 1;
        if (prefix === 'DynamoDB') args.input.ReturnConsumedCapacity = 'TOTAL';
        const out = await next(args);
        if (counting && onCall) {
          try {
            onCall(name, args.input, out.output ?? {}, stack);
          } catch (err) {
            countErrors.push(`${name}: ${(err as Error).message}`);
          }
        }

        return out;
      },
      { step: 'initialize', name: `count-${prefix}` },
    );
  add(rt.clients.dynamo, 'DynamoDB', (name, input, output, stack) => {
    const cap = output.ConsumedCapacity;
    const units = (Array.isArray(cap) ? cap : [cap]).reduce((a: number, c: any) => a + (c?.CapacityUnits ?? 0), 0);
    if (/Get|Query|Scan/.test(name)) consumed.rru += units;
    else consumed.wru += units;
    const caller = /polling-watcher|push-status-reader/.test(stack);
    const key = um(input.Key);
    const inItem = um(input.Item);
    const outItem = um(output.Item);
    const pk = String(key?.pk ?? inItem?.pk ?? '');
    const pushItem = pk.startsWith('push#');
    const bodyItem = pk.startsWith('pushbody#');
    const kind = `DynamoDB:${name} ${pk.replace(/#.*/, '#')}`;
    byKey[kind] = (byKey[kind] ?? 0) + 1;
    if (name === 'GetItem') {
      const bytes = outItem ? itemBytes(outItem) : 100;
      if (outItem?.queueReceipt) {
        receiptBytes = String(outItem.queueReceipt).length;
        hasReceipt.add(pk);
      }
      lastSize.set(pk, bytes);
      if (caller && pushItem) callerReads++;
      ops.push({ op: 'read', bytes, holdsReceipt: Boolean(outItem?.queueReceipt), pushItem, bodyItem, caller });
    } else if (name === 'PutItem') {
      const bytes = itemBytes(inItem);
      lastSize.set(pk, bytes);
      hasReceipt.delete(pk);
      ops.push({ op: 'put', bytes, holdsReceipt: false, pushItem, bodyItem, caller });
    } else if (name === 'UpdateItem') {
      // Billed on the larger of the item before and after: before + the values it sets. The
      // receipt counts if the item held one before, or this sets one.
      if (Object.values(input.ExpressionAttributeNames ?? {}).includes('queueReceipt')) hasReceipt.add(pk);
      const bytes = (lastSize.get(pk) ?? 100) + itemBytes(um(input.ExpressionAttributeValues) ?? {});
      const after = um(output.Attributes);
      if (after && input.ReturnValues === 'ALL_NEW') lastSize.set(pk, itemBytes(after));
      ops.push({ op: 'update', bytes, holdsReceipt: hasReceipt.has(pk), pushItem, bodyItem, caller });
    } else if (name === 'TransactWriteItems') {
      for (const t of input.TransactItems ?? []) {
        const item = um(t.Put?.Item);
        ops.push({
          op: 'transact',
          bytes: item ? itemBytes(item) : 100,
          holdsReceipt: false,
          pushItem: String(item?.pk ?? '').startsWith('push#'),
          bodyItem: false,
          caller,
        });
      }
    } else if (name === 'DeleteItem') {
      ops.push({ op: 'delete', bytes: lastSize.get(pk) ?? 100, holdsReceipt: false, pushItem, bodyItem, caller });
    }
  });
  add(rt.clients.sqs, 'SQS');
  add(rt.clients.management, 'ApiGwMgmt', (name, input) => {
    if (name !== 'PostToConnection') return;
    const data = Buffer.from(input.Data ?? '');
    wsBytes += data.length;
    if (data.includes('"resultAck"')) resultAckBytes += data.length;
  });

  const filler = 'OBX|1|TX|NOTE||' + 'x'.repeat(Math.max(0, bodyBytes - 80)) + '|||||F';
  const body = (i: number) =>
    `MSH|^~\\&|EPIC|HOSP|LAB|HOSP|20240101120000||ORU^R01|C${i}|P|2.5.1\r${filler}`.slice(0, Math.max(bodyBytes, 60));
  await api('POST', '/agents/model-site/push', { destination: 'lab', body: body(-1) }); // warm-up
  const inv0 = { ...aws.invocations };
  const poll0 = { ...aws.pollerCalls };
  let httpOut = 0;
  counting = true;
  for (let i = 0; i < pushes; i++) {
    const res = await api('POST', '/agents/model-site/push', { destination: 'lab', body: body(i) });
    if (res.status !== 200) throw new Error(`push ${i} answered ${res.status}: ${res.text}`);
    httpOut += Buffer.byteLength(res.text) + 200; // + status line and headers
  }
  await new Promise((r) => setTimeout(r, 500)); // the last resultAck and deletes
  counting = false;
  const per = (v: number) => v / pushes;
  const inv = (k: keyof typeof inv0) => per(aws.invocations[k] - inv0[k]);
  const perPush = Object.fromEntries(Object.entries({ ...counts, ...byKey }).map(([k, v]) => [k, per(v)]));
  perPush['SQS:DeleteMessage (event source mapping)'] = per(aws.pollerCalls.delete - poll0.delete);
  await relay.stop();
  await aws.stop();
  await device.close();
  process.stdout.write = write;
  if (countErrors.length) throw new Error(`counting failed: ${countErrors.slice(0, 3).join('; ')}`);
  const n = (k: string) => perPush[k] ?? 0;
  const pushReads = ops.filter((o) => o.caller && o.pushItem && o.op === 'read');
  const counted: Counted = {
    bodyBytes: Buffer.byteLength(body(0)),
    invocations: { http: inv('http'), message: inv('message'), dispatcher: inv('dispatcher') },
    dynamo: scaleOps(ops, pushes),
    sqsRequests: {
      send: n('SQS:SendMessage'),
      visibility: n('SQS:ChangeMessageVisibility') + n('SQS:ChangeMessageVisibilityBatch'),
      delete: n('SQS:DeleteMessage') + n('SQS:DeleteMessage (event source mapping)'),
      // One ReceiveMessage delivered each push at this load (batch of 1); idle long polls are per relay, not per push.
      receive: 1,
    },
    wsMessages: n('ApiGwMgmt:PostToConnection') + inv('message'),
    bytesOut: per(wsBytes + httpOut),
    resultAckBytes: per(resultAckBytes),
    logBytes: per(logBytes),
    pushItemBytes: pushReads.length ? Math.max(...pushReads.map((o) => o.bytes)) : 0,
    fauxqsReceiptBytes: receiptBytes,
  };
  return { counted, perPush, consumed: { rru: per(consumed.rru), wru: per(consumed.wru) }, callerReads: per(callerReads) };
}

/**
 * One push's operations: the same kinds repeat every push, so group by kind, keep the average
 * count per push (rounded) and the largest size seen (the bill's upper bound).
 */
function scaleOps(ops: Counted['dynamo'], pushes: number): Counted['dynamo'] {
  const groups = new Map<string, { o: Counted['dynamo'][number]; n: number; bytes: number }>();
  for (const o of ops) {
    const key = `${o.op}|${o.pushItem}|${o.bodyItem}|${o.caller}|${o.holdsReceipt}`;
    const g = groups.get(key) ?? { o, n: 0, bytes: 0 };
    g.n++;
    g.bytes = Math.max(g.bytes, o.bytes);
    groups.set(key, g);
  }
  const out: Counted['dynamo'] = [];
  for (const g of groups.values()) {
    const perPush = Math.round(g.n / pushes);
    for (let i = 0; i < perPush; i++) out.push({ ...g.o, bytes: g.bytes });
  }
  return out;
}
