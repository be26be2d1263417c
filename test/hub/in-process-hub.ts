/**
 * The hub's relay side assembled in-process, the way hub.ts does it (lmdb store, in-process
 * queue, WsGateway on a real loopback server, relay backend, domain core), without the JWT
 * layer (jose is ESM-only and jest cannot load it). HTTP calls go straight to core.handleHttp.
 */
import { memoryInboundPorts } from '../support/memory-ports';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { WebSocket } from 'ws';
import { EventWatcher } from '../../hub/adapters/event-watcher';
import { LmdbStore } from '../../hub/adapters/lmdb-store';
import { MemoryQueue } from '../../hub/adapters/memory-queue';
import { systemClock } from '../../hub/adapters/system-clock';
import { WsConnectionGateway } from '../../hub/adapters/ws-connection-gateway';
import { WsGateway, type WsGatewayOptions } from '../../hub/gateway/ws-gateway';
import { relayBackend, type RelayBackendOptions } from '../../hub/relay-backend';
import { createCore, type CoreConfig, type EdgePushCore } from '../../lambdas/core/core';
import type { Ports } from '../../lambdas/core/ports';
import { handleHttp } from '../../lambdas/http/router';
import { FetchFhirClient } from '../../lambdas/adapters/http/fetch-fhir-client';
import { tempDir } from './fixtures';

export interface InProcessHub {
  core: EdgePushCore;
  store: LmdbStore;
  gateway: WsGateway;
  wsUrl: string;
  logLines: string[];
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, any> }>;
  close(): Promise<void>;
}

export async function startInProcessHub(
  options: { core?: Partial<CoreConfig>; gateway?: Partial<WsGatewayOptions>; relay?: Omit<RelayBackendOptions, 'logger'> } = {},
): Promise<InProcessHub> {
  const dir = tempDir('edgepush-inproc-');
  const logLines: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) });
  const store = new LmdbStore({ path: dir.path, sync: 'commit' });
  const queue = new MemoryQueue();
  const watcher = new EventWatcher(store);
  let core!: EdgePushCore;
  const gateway = new WsGateway({ backend: relayBackend(() => core, { logger, ...options.relay }), logger, ...options.gateway });
  const ports: Ports = {
    pushes: store,
    agents: store.agentStore(),
    queue,
    gateway: new WsConnectionGateway(gateway),
    watcher,
    clock: systemClock,
    secretKey: { get: () => Promise.resolve(Buffer.alloc(32, 9)) },
    // In memory: these tests are about the push path and the gateway; test/e2e/inbound covers the hub's own.
    inbound: memoryInboundPorts(),
    templates: store.templateStore(),
    fhir: new FetchFhirClient(),
    log: {
      info: (msg, fields) => logger.info(fields ?? {}, msg),
      warn: (msg, fields) => logger.warn(fields ?? {}, msg),
      error: (msg, fields) => logger.error(fields ?? {}, msg),
    },
  };
  core = createCore(ports, options.core);
  const server: Server = createServer((_req, res) => res.writeHead(404).end());
  gateway.attach(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  queue.start((item) => core.dispatch(item));
  const { port } = server.address() as AddressInfo;
  return {
    core,
    store,
    gateway,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    logLines,
    async api(method, path, body) {
      const res = await handleHttp(core, {
        method,
        path,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: JSON.parse(res.body) as Record<string, any> };
    },
    async close() {
      watcher.close();
      await gateway.closeAll();
      await queue.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.close();
      dir.remove();
    },
  };
}

/** A raw relay connection that ACKs every push: messages in arrival order, and how it was closed. */
export interface RawRelay {
  ws: WebSocket;
  messages: Record<string, any>[];
  closed: Promise<{ code: number; reason: string }>;
  send(message: unknown): void;
}

export function openRelay(url: string, agentId: string, secret: string, instance?: string): Promise<RawRelay> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'x-edgepush-agent-id': agentId, 'x-edgepush-agent-secret': secret };
    if (instance) headers['x-edgepush-relay-instance'] = instance;
    const ws = new WebSocket(url, { headers });
    const messages: Record<string, any>[] = [];
    ws.on('message', (d) => {
      const message = JSON.parse(d.toString()) as Record<string, any>;
      messages.push(message);
      // Answer pushes like a relay whose device ACKs at once, so each destination's queue moves on.
      if (message.type === 'push')
        ws.send(JSON.stringify({ action: 'result', v: 1, pushId: message.pushId, status: 'acked', ackCode: 'AA' }));
    });
    const closed = new Promise<{ code: number; reason: string }>((r) =>
      ws.once('close', (code, reason) => r({ code, reason: reason.toString() })),
    );
    ws.once('open', () => resolve({ ws, messages, closed, send: (m) => ws.send(JSON.stringify(m)) }));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

export async function until<T>(get: () => T | undefined | false, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = get();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}
