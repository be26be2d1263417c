/**
 * A lab analyser simulator for `edgepush astm listen`: it takes ASTM connections (TCP, or one
 * serial line) as the instrument side of the link, hands each received message to `onMessage`,
 * and, when asked, answers an order with a canned result message for the same specimen and tests.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { buildHeader, buildRecordAt, parseMessage, readField } from '../../astm/records';
import type { AstmEndpoint } from './astm-url';
import { attachLink, type LinkStream } from './link-stream';
import { openSerial } from './serial';

export interface AnalyserSimulatorOptions {
  endpoint: Extract<AstmEndpoint, { kind: 'listen' | 'serial' }>;
  replyResults?: boolean;
  onMessage?(text: string): void;
  onError?(err: Error): void;
}

export interface AnalyserSimulator {
  /** The TCP port listened on (0 for serial). */
  readonly port: number;
  readonly received: number;
  close(): Promise<void>;
}

export async function startAnalyserSimulator(options: AnalyserSimulatorOptions): Promise<AnalyserSimulator> {
  let received = 0;
  const links = new Set<LinkStream>();
  const onLink = (link: LinkStream, text: string) => {
    received++;
    options.onMessage?.(text);
    const reply = options.replyResults ? cannedResults(text) : undefined;
    if (reply) link.send(reply).catch((err: Error) => options.onError?.(err));
  };
  const attach = (stream: Socket | import('node:stream').Duplex) => {
    const link: LinkStream = attachLink(stream, {
      role: 'instrument',
      encoding: options.endpoint.encoding,
      onMessage: (text) => onLink(link, text),
      onClose: () => links.delete(link),
    });
    links.add(link);
  };

  const { endpoint } = options;
  if (endpoint.kind === 'serial') {
    const stream = await openSerial(endpoint);
    attach(stream);
    return {
      port: 0,
      get received() {
        return received;
      },
      close: async () => {
        for (const l of links) l.close();
        await new Promise((r) => setTimeout(r, 0));
      },
    };
  }

  const server: Server = createServer((socket) => attach(socket));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(endpoint.port, endpoint.host, () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : endpoint.port,
    get received() {
      return received;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const l of links) l.close();
        server.close(() => resolve());
      }),
  };
}

/**
 * A result message for an order message: for each O record, an R record per ordered test with a
 * deterministic value, final status. Undefined when the message holds no order (a result, a query).
 */
export function cannedResults(orderText: string): string | undefined {
  let parsed;
  try {
    parsed = parseMessage(orderText);
  } catch {
    return undefined;
  }
  const { records, delimiters } = parsed;
  const orders = records.filter((r) => r.type === 'O');
  if (orders.length === 0) return undefined;
  const out: string[] = [
    buildHeader([
      undefined,
      undefined,
      ['EdgePush analyser simulator', '1'],
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      'P',
      'LIS2-A2',
    ]),
  ];
  out.push(buildRecordAt('P', { 2: '1' }));
  orders.forEach((order, oi) => {
    const specimen = readField(order, 3, delimiters)[0]?.[0] ?? '';
    const tests = readField(order, 5, delimiters);
    out.push(buildRecordAt('O', { 2: String(oi + 1), 3: specimen, 5: tests, 26: 'F' }));
    tests.forEach((test, ti) => {
      const code = test[3] ?? test[0] ?? '';
      out.push(buildRecordAt('R', { 2: String(ti + 1), 3: ['', '', '', code], 4: simulatedValue(code), 7: 'N', 9: 'F' }));
    });
  });
  out.push(buildRecordAt('L', { 2: '1', 3: 'N' }));
  return out.map((r) => r + '\r').join('');
}

/** A stable pseudo-value per test code, so a test can predict it. */
export function simulatedValue(code: string): string {
  let h = 0;
  for (const ch of code) h = (h * 31 + ch.charCodeAt(0)) % 1000;
  return (h / 10).toFixed(1);
}
