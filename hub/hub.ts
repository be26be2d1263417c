/**
 * `edgepush hub`: the domain core behind the local adapters, on one port.
 *   HTTP API  http://host:port/      (auth.ts + http-server.ts -> lambdas/http/router.ts -> core)
 *   relays    ws://host:port/ws      (WsGateway -> relay-backend.ts -> core.relay*)
 * Store: lmdb in <dataDir>/store. Queue: in-process, rebuilt from the store at start, so
 * queued and in-flight pushes survive a restart (kill -9 included).
 * Inbound: lmdb in <dataDir>/inbound, webhook deliveries on an in-process queue rebuilt from its
 * pending messages at start.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { resolve as resolvePath, join } from 'node:path';
import pino, { type Logger } from 'pino';
import { EventWatcher } from './adapters/event-watcher';
import { InboundMemoryQueue } from './adapters/inbound-queue';
import { InboundEventWatcher } from './adapters/inbound-watcher';
import { LmdbInboundStore } from './adapters/lmdb-inbound-store';
import { FetchWebhookSender } from '../lambdas/adapters/fetch-webhook-sender';
import { LmdbStore, type SyncMode } from './adapters/lmdb-store';
import { MemoryQueue } from './adapters/memory-queue';
import { StoreUnavailableError } from './adapters/store-health';
import { systemClock } from './adapters/system-clock';
import { WsConnectionGateway } from './adapters/ws-connection-gateway';
import { createCore, type CoreConfig, type EdgePushCore } from '../lambdas/core/core';
import type { Log, Ports } from '../lambdas/core/ports';
import { FetchFhirClient } from '../lambdas/adapters/http/fetch-fhir-client';
import { WsGateway } from './gateway/ws-gateway';
import type { UpgradeGuardOptions } from './gateway/upgrade-guard';
import { AGENT_ID_HEADER } from '../protocol/messages';
import { HubAuth } from './auth';
import { lockDataDir } from './data-lock';
import { secureDataDir } from './data-dir';
import { loadStaticSite } from '../lambdas/http/static-site';
import { consoleDir } from './console-dir';
import { createHttpHandler, requestBytesFor } from './http-server';
import { loadOrCreateAgentSecretKey, loadOrCreateKeys } from './keys';
import { relayBackend } from './relay-backend';
import { ChunkBudget } from '../protocol/chunks';

export interface HubOptions {
  port?: number;
  host?: string;
  dataDir: string;
  logger?: Logger;
  /** Store durability, see lmdb-store.ts. Default 'flush'. */
  sync?: SyncMode;
  /** Pushes of one destination sent ahead to the relay at once (memory-queue.ts); 1 = one at a time. Default 8. */
  dispatchWindow?: number;
  /** Finished pushes older than this are deleted. Default 30 days; 0 keeps them forever. */
  retentionDays?: number;
  core?: Partial<CoreConfig>;
  /**
   * PEM files: serve https:// and wss:// instead of plain HTTP. For a single-site install where
   * relays reach the hub over the network (a relay refuses plain ws:// to another host).
   */
  tls?: { certFile: string; keyFile: string };
  /**
   * The hub's address as its callers reach it (e.g. behind a reverse proxy), used in Location
   * headers. Default: the request's own Host header, which a caller controls (issue 9 #14).
   */
  publicUrl?: string;
  /** Limits on relay upgrades (concurrent secret checks, failures per source and agent); defaults in upgrade-guard.ts. */
  upgradeGuard?: UpgradeGuardOptions;
  /** WebSocket limits, for tests. */
  idleTimeoutMs?: number;
  /** Free disk bytes below which new pushes get 507 STORE_FULL (see store-health.ts). Default 64 MiB. */
  storeReserveBytes?: number;
  /** The built web console served at /console/. Default: dist/console/ (see console-dir.ts). */
  consoleDir?: string;
  /** Largest HTTP request body; default from the core's maxBodyBytes (requestBytesFor). */
  maxRequestBytes?: number;
  /** All relays' partial chunked messages together, in bytes. Default 256 MiB. */
  maxChunkBytes?: number;
}

/**
 * Partial chunked messages of all relays together: a dozen 10 MB messages in flight at once.
 * Each connection is further bounded by protocol/chunks.ts DEFAULT_CHUNK_LIMITS.
 */
const DEFAULT_MAX_CHUNK_BYTES = 256 * 1024 * 1024;

/** The first retention run, after start-up work (queue rebuild, relays reconnecting) has settled. */
const FIRST_PURGE_DELAY_MS = 5_000;

export interface Hub {
  url: string;
  wsUrl: string;
  port: number;
  dataDir: string;
  core: EdgePushCore;
  close(): Promise<void>;
}

export async function startHub(options: HubOptions): Promise<Hub> {
  const logger = options.logger ?? pino({ level: 'silent' });
  const host = options.host ?? '127.0.0.1';
  const dataDir = resolvePath(options.dataDir);
  secureDataDir(dataDir);
  const keys = await loadOrCreateKeys(dataDir);
  const agentSecretKey = loadOrCreateAgentSecretKey(dataDir);
  const lock = await lockDataDir(dataDir);
  const log = pinoLog(logger);
  const store = new LmdbStore({ path: join(dataDir, 'store'), sync: options.sync, reserveBytes: options.storeReserveBytes, log });
  const inboundStore = new LmdbInboundStore({ path: join(dataDir, 'inbound'), sync: options.sync });
  // On a full disk this write fails: start anyway (reads and the API still work), or systemd
  // would restart the hub into the same failure forever.
  const stale = await store.clearAllConnections().catch((err: unknown) => {
    logger.error({ err: (err as Error).message }, 'could not clear relay connections from the last run');
    return 0;
  });
  secureDataDir(dataDir); // the files lmdb just created follow the umask

  const queue = new MemoryQueue({
    onError: (err, item) => {
      // The store reports its own failure once; one line per retry would flood the log.
      if (!(err instanceof StoreUnavailableError)) logger.error({ err, pushId: item.pushId }, 'dispatch failed');
    },
    onExpire: (item, sentAhead) => core.expireQueued(item.pushId, sentAhead),
    window: options.dispatchWindow,
  });
  const watcher = new EventWatcher(store);
  const inboundQueue = new InboundMemoryQueue({
    onError: (err, item) => logger.error({ err, messageId: item.messageId }, 'inbound delivery failed'),
  });
  const inboundWatcher = new InboundEventWatcher();
  // Assigned below: the core needs the gateway and the gateway's backend needs the core.
  // eslint-disable-next-line prefer-const
  let core!: EdgePushCore;
  const gateway = new WsGateway({
    backend: relayBackend(() => core, { logger, chunks: { budget: new ChunkBudget(options.maxChunkBytes ?? DEFAULT_MAX_CHUNK_BYTES) } }),
    logger,
    idleTimeoutMs: options.idleTimeoutMs,
    upgradeGuard: options.upgradeGuard ?? {},
    claimedAgentId: (headers) => {
      const id = headers[AGENT_ID_HEADER];
      return typeof id === 'string' ? id.slice(0, 64) : undefined;
    },
  });
  const ports: Ports = {
    pushes: store,
    agents: store.agentStore(),
    queue,
    gateway: new WsConnectionGateway(gateway),
    watcher,
    clock: systemClock,
    secretKey: { get: () => Promise.resolve(agentSecretKey) },
    inbound: {
      store: inboundStore,
      webhooks: inboundStore.webhookStore(),
      queue: inboundQueue,
      sender: new FetchWebhookSender(),
      watcher: inboundWatcher,
    },
    templates: store.templateStore(),
    fhir: new FetchFhirClient(),
    log,
  };
  const retentionDays = options.retentionDays ?? 30;
  core = createCore(ports, {
    // The application often runs on the same machine as the hub.
    allowLocalHttpWebhooks: true,
    // --retention-days 0 keeps everything: a century is forever for a message.
    inboundRetentionMs: (retentionDays > 0 ? retentionDays : 36_500) * 86_400_000,
    ...options.core,
  });

  const handler = createHttpHandler({
    core,
    auth: new HubAuth(keys),
    logger,
    publicUrl: options.publicUrl,
    console: loadStaticSite(options.consoleDir ?? consoleDir()),
    maxRequestBytes: options.maxRequestBytes ?? requestBytesFor(core.config.maxBodyBytes),
  });
  const server = options.tls
    ? createTlsServer({ cert: readFileSync(options.tls.certFile), key: readFileSync(options.tls.keyFile) }, handler)
    : createServer(handler);
  server.keepAliveTimeout = 65_000;
  gateway.attach(server);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 8080, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await store.close();
    await inboundStore.close();
    lock.release();
    throw err;
  }
  const { port } = server.address() as AddressInfo;

  const open = store.listOpen();
  queue.start(
    (item, dispatchOptions) => core.dispatch(item, undefined, dispatchOptions),
    open.map((p) => ({ pushId: p.pushId, agentId: p.agentId, destination: p.destination, expiresAt: p.expiresAt })),
  );
  const pendingInbound = inboundStore.listPending();
  inboundQueue.start(
    (item) => core.deliverInbound(item),
    pendingInbound.map((m) => ({ messageId: m.messageId, agentId: m.agentId, channel: m.channel })),
  );
  logger.info(
    { port, host, dataDir, requeued: open.length, inboundRequeued: pendingInbound.length, staleConnections: stale },
    'hub started',
  );

  let purging: Promise<void> | undefined;
  const stopPurge = new AbortController();
  const runPurge = (): void => {
    if (purging) return; // the last run is still deleting
    purging = store
      .purgeFinished(Date.now() - retentionDays * 86_400_000, undefined, stopPurge.signal)
      .then(
        (n) => void (n && logger.info({ purged: n }, 'retention: deleted finished pushes')),
        (err: unknown) => logger.error({ err }, 'retention purge failed'),
      )
      // Inbound messages carry their own expiresAt (stored + inboundRetentionMs).
      .then(() => inboundStore.purgeExpired(Date.now()))
      .then(
        (n) => void (n && logger.info({ purged: n }, 'retention: deleted expired inbound messages')),
        (err: unknown) => logger.error({ err }, 'inbound retention purge failed'),
      )
      .finally(() => (purging = undefined));
  };
  // Soon after start, not an hour later: a hub restarted more often than hourly would never purge.
  const firstPurge = retentionDays > 0 ? setTimeout(runPurge, FIRST_PURGE_DELAY_MS) : undefined;
  const purge = retentionDays > 0 ? setInterval(runPurge, 3_600_000) : undefined;
  firstPurge?.unref();
  purge?.unref();

  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `${options.tls ? 'https' : 'http'}://${urlHost}:${port}`,
    wsUrl: `${options.tls ? 'wss' : 'ws'}://${urlHost}:${port}${gateway.path}`,
    port,
    dataDir,
    core,
    close() {
      closing ??= (async () => {
        clearTimeout(firstPurge);
        clearInterval(purge);
        stopPurge.abort(); // a long purge stops after its current batch; the next start goes on
        await purging;
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        watcher.close(); // requests waiting for a result answer now, while the store is still open
        inboundWatcher.close(); // long polls answer now too
        // Let those answers (a chain of promise callbacks: read the push, build the response)
        // be written before connections are cut below.
        await new Promise<void>((resolve) => setImmediate(resolve));
        await gateway.closeAll();
        await queue.stop();
        await inboundQueue.stop();
        server.closeAllConnections(); // requests still waiting for a result: the push continues after a restart
        await serverClosed;
        await store.close();
        await inboundStore.close();
        lock.release();
        logger.info('hub stopped');
      })();
      return closing;
    },
  };
}

function pinoLog(logger: Logger): Log {
  return {
    info: (msg, fields) => logger.info(fields ?? {}, msg),
    warn: (msg, fields) => logger.warn(fields ?? {}, msg),
    error: (msg, fields) => logger.error(fields ?? {}, msg),
  };
}
