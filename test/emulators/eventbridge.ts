/**
 * EventBridge's PutEvents on loopback (awsJson1_1: POST /, X-Amz-Target AWSEvents.PutEvents), so
 * the real EventBridgeClient sends over a socket in tests. It records the entries and checks
 * what EventBridge checks of each (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html):
 * 1 to 10 entries, Source, DetailType and Detail (a JSON object) present, and an entry of at
 * most 256 KB (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html).
 * `failNext` makes the next entries fail as EventBridge reports a throttled entry: HTTP 200, FailedEntryCount.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EventEntry {
  EventBusName?: string;
  Source?: string;
  DetailType?: string;
  Detail?: string;
  Time?: number;
}

export interface EventBridgeEmulator {
  endpoint: string;
  entries: EventEntry[];
  failNext: number;
  close(): Promise<void>;
}

const MAX_ENTRY_BYTES = 256 * 1024;

export async function startEventBridge(): Promise<EventBridgeEmulator> {
  const emulator = { entries: [], failNext: 0 } as unknown as EventBridgeEmulator;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reply = (status: number, body: object) =>
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(body));
      if (req.headers['x-amz-target'] !== 'AWSEvents.PutEvents') {
        return reply(400, { __type: 'UnknownOperationException', message: 'only PutEvents is emulated' });
      }
      const { Entries = [] } = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { Entries?: EventEntry[] };
      if (Entries.length < 1 || Entries.length > 10) return reply(400, { __type: 'ValidationException', message: '1 to 10 entries' });
      const results = Entries.map((entry) => {
        const detail = entry.Detail === undefined ? undefined : (JSON.parse(entry.Detail) as unknown);
        const size = Buffer.byteLength(JSON.stringify(entry));
        if (!entry.Source || !entry.DetailType || typeof detail !== 'object' || detail === null || size > MAX_ENTRY_BYTES) {
          return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail, DetailType and Source are required; at most 256 KB' };
        }
        if (emulator.failNext > 0) {
          emulator.failNext--;
          return { ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' };
        }
        emulator.entries.push(entry);
        return { EventId: `${emulator.entries.length}` };
      });
      reply(200, { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  emulator.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  emulator.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return emulator;
}
