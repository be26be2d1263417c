/**
 * AWS per device: pushes/s to ONE device against its ACK time, one push per SQS FIFO cycle
 * (dispatch window 1, as before pipelining) and pipelined (window 10), side by side in one run
 * (`npm run bench -- aws-pipeline`). Prints markdown.
 *
 * Measured on the emulated path (test/aws/emulated-aws.ts: the real Lambda handlers, dynalite,
 * fauxqs with real FIFO batches, the WebSocket gateway, the real relay, an HL7 listener per
 * device), with per-hop delays from bench/aws-model.ts HOPS injected: each DynamoDB and SQS call,
 * postToConnection, the event source mapping before each dispatcher invocation, the WebSocket
 * route before ws-message, and the WAN (a TCP proxy holding each chunk half the round trip).
 * Callers accept the pushes with waitForResponse:false from several concurrent clients, faster
 * than any device here takes them; the rate is taken from the pushes' completedAt over the run
 * after the first WARMUP pushes (the pipeline filling up), so it is the steady per-device rate.
 */
import pino from 'pino';
import { startHl7Listener, type Hl7Listener } from '../edge-agent/mllp/listener';
import { resolveConfig } from '../edge-agent/relay/config-schema';
import { Relay } from '../edge-agent/relay/relay';
import { DISPATCH_WINDOW_ENV } from '../lambdas/handlers/dispatch-window';
import { startEmulatedAws, type EmulatedAws } from '../test/aws/emulated-aws';
import { startWanProxy, type HopDelays } from '../test/aws/hop-delays';
import { HOPS } from './aws-model';

const ACK_TIMES_MS = [1, 5, 10, 20, 50, 100];
const WINDOWS = [1, 10];
const PUSHES = Number(process.env.AWS_PIPELINE_BENCH_PUSHES ?? 60);
const WARMUP = 10;
const CALLERS = 8;
/** AWS_PIPELINE_BENCH_NO_HOPS=1: no delays at all, to see the emulators' own ceiling on this machine. */
const NO_HOPS = process.env.AWS_PIPELINE_BENCH_NO_HOPS === '1';
const WAN_RTT_MS = NO_HOPS ? 0 : 30;

const DELAYS: Required<HopDelays> = NO_HOPS
  ? { esmMs: 0, dynamoMs: 0, sqsMs: 0, postToConnectionMs: 0, wsRouteMs: 0 }
  : {
      esmMs: HOPS.esm.p50,
      dynamoMs: HOPS.dynamo.p50,
      sqsMs: HOPS.sqsCall.p50,
      postToConnectionMs: HOPS.postToConnection.p50,
      wsRouteMs: HOPS.apiGateway.p50,
    };

const hl7 = (id: string) => `MSH|^~\\&|EP|CLOUD|LAB|HOSP|20240101120000||ADT^A01|${id}|P|2.5\rPID|1||123^^^HOSP||DOE^JANE\r`;

async function api(aws: EmulatedAws, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(aws.httpUrl + path, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return res.json();
}

/** Pushes/s to `destination` in steady state, with the given dispatch window. */
async function measure(aws: EmulatedAws, agentId: string, destination: string, window: number): Promise<number> {
  process.env[DISPATCH_WINDOW_ENV] = String(window);
  const ids: string[] = new Array<string>(PUSHES);
  let next = 0;
  await Promise.all(
    Array.from({ length: CALLERS }, async () => {
      while (next < PUSHES) {
        const i = next++;
        const res = await api(aws, 'POST', `/agents/${agentId}/push`, {
          destination,
          body: hl7(`B-${window}-${i}`),
          waitForResponse: false,
        });
        ids[i] = res.pushId as string;
      }
    }),
  );
  const terminal = new Set(['acked', 'nacked', 'failed', 'expired', 'cancelled']);
  for (;;) {
    await new Promise((r) => setTimeout(r, 250));
    // Order is kept, so the last push accepted finishes last: watching it alone keeps the
    // benchmark's own reads from loading the emulators while they are measured.
    if (!terminal.has((await api(aws, 'GET', `/pushes/${ids[PUSHES - 1]}`)).status)) continue;
    const all = await Promise.all(ids.map((id) => api(aws, 'GET', `/pushes/${id}`)));
    if (all.every((p) => terminal.has(p.status))) {
      const bad = all.filter((p) => p.status !== 'acked');
      if (bad.length) throw new Error(`${bad.length} pushes did not end acked: ${bad[0].status} ${bad[0].error ?? ''}`);
      const done = all.map((p) => Date.parse(p.completedAt as string)).sort((a, b) => a - b);
      return (done.length - 1 - WARMUP) / ((done[done.length - 1] - done[WARMUP]) / 1000);
    }
  }
}

async function main(): Promise<void> {
  const aws = await startEmulatedAws({ delays: DELAYS, pollWaitSeconds: 1, env: { POWERTOOLS_LOG_LEVEL: 'SILENT' } });
  const wan = await startWanProxy(aws.wsUrl, WAN_RTT_MS / 2);
  const devices: Hl7Listener[] = [];
  for (const ms of ACK_TIMES_MS) devices.push(await startHl7Listener({ port: 0, delayMs: ms }));
  const agentId = `bench-${Date.now()}`;
  const { secret } = await api(aws, 'POST', '/agents', { agentId });
  const relay = new Relay(
    resolveConfig({
      url: wan.url,
      agentId,
      secret,
      devices: Object.fromEntries(ACK_TIMES_MS.map((ms, i) => [`ack${ms}`, `mllp://127.0.0.1:${devices[i].port}`])),
      logLevel: 'silent',
    }),
    pino({ enabled: false }),
  );
  relay.start();
  for (;;) {
    const a = await api(aws, 'GET', `/agents/${agentId}`);
    if (a.status === 'connected' && (a.devices ?? []).length === ACK_TIMES_MS.length) break;
    await new Promise((r) => setTimeout(r, 100));
  }

  const rows: string[] = [];
  for (const ms of ACK_TIMES_MS) {
    const rates = [];
    for (const w of WINDOWS) rates.push(await measure(aws, agentId, `ack${ms}`, w));
    rows.push(`| ${ms} | ${rates.map((r) => r.toFixed(1)).join(' | ')} | ${(rates[1] / rates[0]).toFixed(1)}x |`);
  }
  const hops = `ESM ${DELAYS.esmMs} ms, DynamoDB ${DELAYS.dynamoMs} ms/call, SQS ${DELAYS.sqsMs} ms/call, postToConnection ${DELAYS.postToConnectionMs} ms, WebSocket route ${DELAYS.wsRouteMs} ms, WAN ${WAN_RTT_MS} ms RTT`;
  console.log(
    [
      `AWS per device, emulated path, hops injected: ${hops}; ${PUSHES} pushes per run, rate after the first ${WARMUP}.`,
      '',
      `| device ACK ms | pushes/s, window 1 (one per FIFO cycle) | pushes/s, window 10 (pipelined) | speed-up |`,
      '| --- | --- | --- | --- |',
      ...rows,
    ].join('\n'),
  );

  await relay.stop();
  await wan.close();
  await aws.stop();
  await Promise.all(devices.map((d) => d.close()));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
