/**
 * Per-hop latencies injected into the emulated AWS path, so a benchmark on loopback sees the
 * waits a deployed stack has (bench/aws-model.ts HOPS gives the published figures):
 * - each SDK call the Lambdas make waits `dynamoMs` / `sqsMs` / `postToConnectionMs` first;
 * - the event source mapping waits `esmMs` before it invokes the dispatcher;
 * - a relay message waits `wsRouteMs` before its Lambda runs (API Gateway's route);
 * - the WAN between relay and API Gateway is a TCP proxy that holds every chunk `oneWayMs`
 *   in each direction, in order, without blocking the sender (as a network does).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface HopDelays {
  esmMs?: number;
  dynamoMs?: number;
  sqsMs?: number;
  postToConnectionMs?: number;
  wsRouteMs?: number;
}

type Client = { middlewareStack: { add: (...args: any[]) => unknown } };

export const sleep = (ms: number): Promise<void> => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());

/** Every call through `client` waits `ms` before it is sent. */
export function delayCalls(client: Client, ms: number | undefined): void {
  if (!ms) return;
  client.middlewareStack.add(
    (next: (args: unknown) => Promise<unknown>) => async (args: unknown) => {
      await sleep(ms);
      return next(args);
    },
    { step: 'initialize', name: 'emulatedHopDelay' },
  );
}

export interface WanProxy {
  /** ws:// URL to give the relay instead of the gateway's. */
  url: string;
  /** Cuts every connection through it, as a network blip does; new ones are let through. */
  drop(): void;
  close(): Promise<void>;
}

/** A TCP proxy in front of `targetUrl` (ws://host:port/path) adding `oneWayMs` each way. */
export async function startWanProxy(targetUrl: string, oneWayMs: number): Promise<WanProxy> {
  const target = new URL(targetUrl);
  const sockets = new Set<Socket>();
  const pipe = (from: Socket, to: Socket) => {
    // Equal delays fire in the order they were set, so the byte stream keeps its order.
    from.on('data', (chunk: Buffer) => setTimeout(() => to.destroyed || to.write(chunk), oneWayMs));
    from.on('end', () => setTimeout(() => to.end(), oneWayMs));
    from.on('error', () => to.destroy());
    from.on('close', () => setTimeout(() => to.destroy(), oneWayMs));
  };
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    client.on('close', () => sockets.delete(client));
    upstream.on('close', () => sockets.delete(upstream));
    pipe(client, upstream);
    pipe(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}${target.pathname}${target.search}`,
    drop() {
      for (const s of sockets) s.destroy();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
