/**
 * AWS latency and cost model (`npm run bench -- aws-model`). Prints markdown.
 *
 * Counts calls, item sizes, bytes out and bytes logged on the emulated full path
 * (bench/aws-counts.ts) for 400-byte and 10 KB pushes, then prices them with the model in
 * bench/aws-model.ts (per-hop latencies from published measurements, us-east-1 list prices),
 * for the built design and for the designs issue 14 asks for. Real receipt handles (~400
 * bytes, not fauxqs's 36) are put into every item that stores one.
 */
import { countPushes, type CountRun } from './aws-counts';
import {
  DESIGNS,
  HOPS,
  PRICES,
  REAL_RECEIPT_BYTES,
  costPerMillion,
  fixedFloor,
  offlinePushLambdaUsd,
  perDeviceRate,
  pushLatency,
  total,
  type Scenario,
} from './aws-model';

const PUSHES = Number(process.env.AWS_MODEL_PUSHES ?? 20);
const SCENARIO: Scenario = { wanRttMs: 30, deviceAckMs: 5 };

async function main() {
  const runs: [string, CountRun][] = [
    ['400 B', await countPushes(400, PUSHES)],
    ['10 KB', await countPushes(10 * 1024, PUSHES)],
  ];
  const out: string[] = [];
  out.push('## AWS latency and cost model (issue 14)', '');
  out.push(
    `Command: \`npm run bench -- aws-model\`, Node ${process.version}; ${PUSHES} sequential acked pushes per size on the emulated full path.`,
    '',
  );
  out.push('Counted per push (emulated full path; fauxqs receipts, which the model widens to ' + `${REAL_RECEIPT_BYTES} bytes):`, '');
  const keys = [...new Set(runs.flatMap(([, r]) => Object.keys(r.perPush)))].sort();
  out.push(`| call | ${runs.map(([n]) => n).join(' | ')} |`, `| --- | ${runs.map(() => '---:').join(' | ')} |`);
  for (const k of keys) out.push(`| ${k} | ${runs.map(([, r]) => (r.perPush[k] ?? 0).toFixed(2)).join(' | ')} |`);
  const row = (label: string, f: (r: CountRun) => string) => out.push(`| ${label} | ${runs.map(([, r]) => f(r)).join(' | ')} |`);
  row('caller reads of the push item (loopback)', (r) => r.callerReads.toFixed(2));
  row('dynalite RRU / WRU (ReturnConsumedCapacity)', (r) => `${r.consumed.rru.toFixed(2)} / ${r.consumed.wru.toFixed(2)}`);
  row('push item as the caller reads it, bytes', (r) => String(r.counted.pushItemBytes));
  row('Lambda invocations http / wsMessage / dispatcher', (r) =>
    Object.values(r.counted.invocations)
      .map((v) => v.toFixed(2))
      .join(' / '),
  );
  row('WebSocket messages', (r) => r.counted.wsMessages.toFixed(2));
  row('bytes out of AWS (relay + caller)', (r) => r.counted.bytesOut.toFixed(0));
  row('bytes logged by the Lambdas (app + EMF metrics)', (r) => r.counted.logBytes.toFixed(0));

  row('resultAck bytes (of bytes out)', (r) => r.counted.resultAckBytes.toFixed(0));
  const designs = DESIGNS.filter((d) => !d.pipelined);

  out.push('', `Latency of one push, device ACK ${SCENARIO.deviceAckMs} ms over a ${SCENARIO.wanRttMs} ms WAN round trip (model):`, '');
  out.push(
    '| design | typical p50 | best case | caller status reads | goal p50 <= 200, best <= 100 |',
    '| --- | ---: | ---: | ---: | --- |',
  );
  for (const d of designs) {
    const t = pushLatency(d, SCENARIO, true);
    const b = pushLatency(d, SCENARIO, false);
    out.push(
      `| ${d.title} | ${t.total.toFixed(0)} ms | ${b.total.toFixed(0)} ms | ${t.callerReads} | p50 ${t.total <= 200 ? 'met' : `missed by ${(t.total - 200).toFixed(0)} ms`}, best ${b.total <= 100 ? 'met' : `missed by ${(b.total - 100).toFixed(0)} ms`} |`,
    );
  }

  out.push('', 'Cost per million pushes, USD (us-east-1 list prices), itemised:', '');
  for (const [size, r] of runs) {
    out.push(`| ${size} | ${designs.map((d) => d.title).join(' | ')} |`, `| --- | ${designs.map(() => '---:').join(' | ')} |`);
    const tables = designs.map((d) => costPerMillion(d, r.counted, SCENARIO));
    for (let i = 0; i < tables[0].length; i++) out.push(`| ${tables[0][i].item} | ${tables.map((t) => t[i].usd.toFixed(2)).join(' | ')} |`);
    const goal = size === '400 B' ? 8 : 15;
    out.push(`| **total** (goal <= $${goal}) | ${tables.map((t) => `**${total(t).toFixed(2)}**`).join(' | ')} |`);
    out.push(`| missed by | ${tables.map((t) => (total(t) <= goal ? 'met' : `$${(total(t) - goal).toFixed(2)}`)).join(' | ')} |`, '');
    out.push(`Arithmetic, ${size}, built design:`, '');
    for (const l of tables[0]) out.push(`- ${l.item}: ${l.arithmetic} = $${l.usd.toFixed(2)}`);
    out.push('');
  }

  out.push('Fixed floor of this architecture, per million pushes (no DynamoDB, duration, app logs or transfer yet):', '');
  out.push('| item | with resultAck | without |', '| --- | ---: | ---: |');
  const [withAck, withoutAck] = [fixedFloor(false), fixedFloor(true)];
  for (let i = 0; i < withAck.length; i++)
    out.push(`| ${withAck[i].item} (${withAck[i].arithmetic}) | ${withAck[i].usd.toFixed(2)} | ${withoutAck[i].usd.toFixed(2)} |`);
  out.push(`| **total** | **${total(withAck).toFixed(2)}** | **${total(withoutAck).toFixed(2)}** |`, '');

  out.push('Not built, and why:', '');
  for (const d of DESIGNS.filter((x) => !x.built)) out.push(`- ${d.title}: ${d.whyNot}`);

  out.push('', 'A push to an agent whose relay is not connected (waitForResponse:true, default waitTimeout 10 s), per million:', '');
  out.push('| design | Lambda duration + caller reads, USD/M |', '| --- | ---: |');
  out.push(`| waiting the whole waitTimeout (before issue 14) | ${offlinePushLambdaUsd(false, 10_000).toFixed(2)} |`);
  out.push(`| answered at once, as in flight (built) | ${offlinePushLambdaUsd(true, 10_000).toFixed(2)} |`);

  out.push('', 'Pushes per second to one device against its ACK time (model; WAN 30 ms):', '');
  const acks = [1, 5, 10, 20, 50, 100];
  out.push(`| design | ${acks.map((a) => `${a} ms`).join(' | ')} |`, `| --- | ${acks.map(() => '---:').join(' | ')} |`);
  for (const d of DESIGNS.filter((x) => x.id === 'built' || x.pipelined)) {
    out.push(`| ${d.title} | ${acks.map((a) => perDeviceRate(d, { wanRttMs: 30, deviceAckMs: a }).toFixed(1)).join(' | ')} |`);
  }

  out.push('', 'Sources: latencies', '');
  for (const [k, h] of Object.entries(HOPS)) out.push(`- ${k}: p50 ${h.p50} ms, best ${h.best} ms. ${h.source}`);
  out.push('', 'Sources: prices', '');
  for (const [k, p] of Object.entries(PRICES)) out.push(`- ${k}: $${p.usd}. ${p.source}`);
  console.log(out.join('\n'));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
