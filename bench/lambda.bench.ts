/**
 * Lambda bundles, cold load, AWS calls and cost per push (`npm run bench -- lambda`). Prints markdown.
 *
 * 1. Bundles each Lambda entry with the construct's esbuild options (lib/lambda-bundling.ts:
 *    minified, CJS, node24, AWS SDK external) and reads the sizes from esbuild's metafile.
 * 2. Cold module load: `require()` of each bundle in a fresh Node process, median of 5.
 * 3. AWS calls per push on the emulated full path (test/aws/emulated-aws.ts: real handlers,
 *    dynalite, fauxqs, the WebSocket gateway, the real relay and an HL7 listener). SDK clients
 *    are wrapped with a middleware that counts commands and asks DynamoDB for the consumed
 *    capacity (ReturnConsumedCapacity), so WRU/RRU reflect real item sizes.
 * 4. Cost per million pushes at public us-east-1 prices, with the arithmetic.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import pino from 'pino';
import { startHl7Listener } from '../edge-agent/mllp/listener';
import { resolveConfig } from '../edge-agent/relay/config-schema';
import { Relay } from '../edge-agent/relay/relay';
import { LAMBDA_DEFINE, LAMBDA_ENTRIES, LAMBDA_EXTERNALS, LAMBDA_NODE_TARGET, type LambdaName } from '../lib/lambda-bundling';
import { startEmulatedAws } from '../test/aws/emulated-aws';

const ROOT = path.join(__dirname, '..');
// Inside the repo so the bundles resolve @aws-sdk/* from node_modules, as Lambda's runtime provides it.
const OUT = path.join(ROOT, 'node_modules/.cache/edgepush-lambda-bench');
const PUSHES = Number(process.env.LAMBDA_BENCH_PUSHES ?? 50);
const LOAD_RUNS = 5;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const kb = (bytes: number) => (bytes / 1024).toFixed(1);

async function bundles(): Promise<{ name: LambdaName; bytes: number; file: string; topInputs: string }[]> {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const rows = [];
  for (const [name, entry] of Object.entries(LAMBDA_ENTRIES) as [LambdaName, string][]) {
    const outfile = path.join(OUT, `${name}.js`);
    const result = await build({
      entryPoints: [path.join(ROOT, entry)],
      outfile,
      bundle: true,
      minify: true,
      platform: 'node',
      target: LAMBDA_NODE_TARGET,
      define: LAMBDA_DEFINE,
      format: 'cjs',
      external: LAMBDA_EXTERNALS,
      metafile: true,
      logLevel: 'error',
    });
    const bytes = result.metafile.outputs[path.relative(process.cwd(), outfile)]?.bytes ?? statSync(outfile).size;
    const inputs = Object.entries(result.metafile.outputs[path.relative(process.cwd(), outfile)]?.inputs ?? {})
      .map(([file, info]) => ({ pkg: /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1] ?? 'edgepush', bytes: info.bytesInOutput }))
      .reduce((acc, { pkg, bytes: b }) => acc.set(pkg, (acc.get(pkg) ?? 0) + b), new Map<string, number>());
    const topInputs = [...inputs.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([p, b]) => `${p} ${kb(b)}`)
      .join(', ');
    rows.push({ name, bytes, file: outfile, topInputs });
  }
  return rows;
}

function coldLoadMs(file: string): number {
  const script = `const t=process.hrtime.bigint();require(${JSON.stringify(file)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  const runs = Array.from({ length: LOAD_RUNS }, () => Number(execFileSync(process.execPath, ['-e', script], { cwd: OUT }).toString()));
  return median(runs);
}

type Counts = Record<string, number>;

function countMiddleware(
  client: { middlewareStack: { add: (...args: any[]) => unknown } },
  prefix: string,
  counts: Counts,
  capacity?: { read: number; write: number },
) {
  client.middlewareStack.add(
    (next: (args: { input: Record<string, unknown> }) => Promise<{ output: Record<string, any> }>, context: { commandName?: string }) =>
      async (args: { input: Record<string, unknown> }) => {
        const name = `${prefix}:${(context.commandName ?? 'unknown').replace(/Command$/, '')}`;
        counts[name] = (counts[name] ?? 0) + 1;
        if (capacity) args.input.ReturnConsumedCapacity = 'TOTAL';
        const out = await next(args);
        const used = out.output?.ConsumedCapacity?.CapacityUnits;
        if (capacity && typeof used === 'number') {
          if (/Get/.test(name)) capacity.read += used;
          else capacity.write += used;
        }
        return out;
      },
    { step: 'initialize', name: `count-${prefix}` },
  );
}

const ADT = [
  'MSH|^~\\&|EPIC|HOSP|LAB|HOSP|20240101120000||ADT^A01^ADT_A01|CTRL|P|2.5.1',
  'EVN|A01|20240101120000',
  'PID|1||123456^^^HOSP^MR||DOE^JANE^Q||19800101|F|||100 MAIN ST^^SPRINGFIELD^IL^62701||555-555-0100|||S||ACCT123',
  'PV1|1|I|WARD1^101^A^HOSP||||1234^SMITH^JOHN^^^DR|||MED||||ADM|||1234^SMITH^JOHN^^^DR|IN||||||||||||||||||||||||20240101120000',
  'AL1|1|DA|PCN^PENICILLIN|SV|HIVES',
  'DG1|1||I10^Essential hypertension^I10|||A',
].join('\r');

async function callsPerPush() {
  const aws = await startEmulatedAws({ pollIntervalMs: 20 });
  const device = await startHl7Listener({ port: 0 });
  const api = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(aws.httpUrl + p, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as any };
  };
  const agent = (await api('POST', '/agents', { agentId: 'bench-site' })).json;
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
    const a = (await api('GET', '/agents/bench-site')).json;
    if (a.status === 'connected' && a.devices.length) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const rt = aws.handlers.runtime.getRuntime();
  const counts: Counts = {};
  const capacity = { read: 0, write: 0 };
  countMiddleware(rt.clients.dynamo, 'DynamoDB', counts, capacity);
  countMiddleware(rt.clients.sqs, 'SQS', counts);
  countMiddleware(rt.clients.management, 'ApiGwMgmt', counts);

  const push = (i: number) => api('POST', '/agents/bench-site/push', { destination: 'lab', body: ADT.replace('|CTRL|', `|CTRL${i}|`) });
  await push(-1); // warm-up: connections open, nothing counted from setup
  for (const k of Object.keys(counts)) delete counts[k];
  capacity.read = capacity.write = 0;
  const inv0 = { ...aws.invocations };
  const poll0 = { ...aws.pollerCalls };
  const durations: number[] = [];
  for (let i = 0; i < PUSHES; i++) {
    const t = performance.now();
    const res = await push(i);
    durations.push(performance.now() - t);
    if (res.status !== 200) throw new Error(`push ${i} answered ${res.status}`);
  }
  // Let the last dispatcher batch settle.
  await new Promise((r) => setTimeout(r, 300));
  const invocations = Object.fromEntries(Object.entries(aws.invocations).map(([k, v]) => [k, (v - inv0[k as keyof typeof inv0]) / PUSHES]));
  const poller = { receive: aws.pollerCalls.receive - poll0.receive, delete: (aws.pollerCalls.delete - poll0.delete) / PUSHES };
  await relay.stop();
  await aws.stop();
  await device.close();
  return {
    perPush: Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, v / PUSHES])),
    rru: capacity.read / PUSHES,
    wru: capacity.write / PUSHES,
    invocations,
    pollerDeletes: poller.delete,
    p50: median(durations),
    bodyBytes: Buffer.byteLength(ADT),
  };
}

// us-east-1 list prices (AWS pricing pages, 2025-2026), USD.
const PRICE = {
  httpApiPerM: 1.0, // HTTP API, first 300M requests/month
  wsMessagePerM: 1.0, // WebSocket messages (32 KB units), first 1B
  lambdaRequestPerM: 0.2,
  lambdaArmGbS: 0.0000133334, // arm64, first 7.5B GB-s
  dynamoWruPerM: 0.625, // on-demand
  dynamoRruPerM: 0.125, // on-demand; a strongly consistent read of <= 4 KB = 1 RRU
  sqsFifoPerM: 0.5, // per request per 64 KB chunk
};

async function main() {
  const rows = await bundles();
  const lines: string[] = [];
  lines.push('## Lambda bundles, cold load, AWS calls and cost per push', '');
  lines.push(`Command: \`npm run bench -- lambda\` (bench/lambda.bench.ts), Node ${process.version}, this 2-core machine.`, '');
  lines.push('| Lambda | minified bundle | largest inputs (KB) | cold require(), median of 5 |', '| --- | ---: | --- | ---: |');
  for (const r of rows) lines.push(`| ${r.name} | ${kb(r.bytes)} KB | ${r.topInputs} | ${coldLoadMs(r.file).toFixed(1)} ms |`);
  lines.push('', 'Target <= 150 KB each: ' + (rows.every((r) => r.bytes <= 150 * 1024) ? 'met.' : 'NOT met.'), '');

  const m = await callsPerPush();
  lines.push(
    `AWS calls per push, ${PUSHES} sequential acked pushes of a ${m.bodyBytes}-byte ADT^A01 (emulated full path, relay connected, p50 round trip ${m.p50.toFixed(1)} ms on loopback):`,
    '',
  );
  lines.push('| call | per push |', '| --- | ---: |');
  for (const [k, v] of Object.entries(m.perPush).sort()) lines.push(`| ${k} | ${v.toFixed(2)} |`);
  lines.push(`| SQS:DeleteMessage by the event source mapping | ${m.pollerDeletes.toFixed(2)} |`);
  lines.push(`| DynamoDB consumed RRU / WRU (ReturnConsumedCapacity) | ${m.rru.toFixed(2)} / ${m.wru.toFixed(2)} |`);
  for (const [k, v] of Object.entries(m.invocations)) lines.push(`| Lambda invocations: ${k} | ${v.toFixed(2)} |`);

  const n = (k: string) => m.perPush[k] ?? 0;
  const sqsReq = n('SQS:SendMessage') + n('SQS:ChangeMessageVisibility') + n('SQS:DeleteMessage') + m.pollerDeletes + 1; // +1: the receive that delivered it (batch of 1 at this load)
  const wsMessages = n('ApiGwMgmt:PostToConnection') + m.invocations.message;
  const lambdaReq = m.invocations.http + m.invocations.message + m.invocations.dispatcher;
  // Duration assumption (not measured on AWS): HTTP Lambda waits for the ACK (~300 ms incl. device), others ~30 ms each, 256 MB.
  const gbS = 0.25 * (0.3 + 0.03 * (m.invocations.message + m.invocations.dispatcher));
  const cost = {
    http: 1 * PRICE.httpApiPerM,
    ws: wsMessages * PRICE.wsMessagePerM,
    lambdaReq: lambdaReq * PRICE.lambdaRequestPerM,
    lambdaGbS: gbS * 1e6 * PRICE.lambdaArmGbS,
    rru: m.rru * PRICE.dynamoRruPerM,
    wru: m.wru * PRICE.dynamoWruPerM,
    sqs: sqsReq * PRICE.sqsFifoPerM,
  };
  const total = Object.values(cost).reduce((a, b) => a + b, 0);
  lines.push('', 'Cost per million pushes, us-east-1 list prices:', '');
  lines.push('| item | arithmetic | USD |', '| --- | --- | ---: |');
  lines.push(`| HTTP API | 1 request x $1.00/M | ${cost.http.toFixed(2)} |`);
  lines.push(`| WebSocket messages | ${wsMessages.toFixed(2)} (push, result, resultAck; each < 32 KB) x $1.00/M | ${cost.ws.toFixed(2)} |`);
  lines.push(`| Lambda requests | ${lambdaReq.toFixed(2)} x $0.20/M | ${cost.lambdaReq.toFixed(2)} |`);
  lines.push(
    `| Lambda duration (assumed) | 0.25 GB x (0.3 s + ${(m.invocations.message + m.invocations.dispatcher).toFixed(2)} x 0.03 s) = ${gbS.toFixed(4)} GB-s x 1M x $0.0000133334 | ${cost.lambdaGbS.toFixed(2)} |`,
  );
  lines.push(`| DynamoDB reads | ${m.rru.toFixed(2)} RRU x $0.125/M | ${cost.rru.toFixed(2)} |`);
  lines.push(`| DynamoDB writes | ${m.wru.toFixed(2)} WRU x $0.625/M | ${cost.wru.toFixed(2)} |`);
  lines.push(`| SQS FIFO | ${sqsReq.toFixed(2)} requests (send, visibility, deletes, 1 receive) x $0.50/M | ${cost.sqs.toFixed(2)} |`);
  lines.push(`| **total** | | **${total.toFixed(2)}** |`);
  console.log(lines.join('\n'));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
