/** `edgepush hub`: the local cloud side (HTTP API + relay WebSocket on one port). */
import type { Command } from 'commander';
import pino from 'pino';
import { DEFAULT_HUB_DISPATCH_WINDOW } from '../../hub/adapters/memory-queue';
import { startHub } from '../../hub/hub';
import { MAX_BODY_BYTES } from '../../protocol/limits';
import { startupBanner } from '../../hub/banner';
import { installProcessGuard } from '../../hub/process-guard';
import { parseDuration } from '../duration';
import { logDestination, logFormatOption, resolveLogFormat } from '../log-format';
import { UsageError, runCommand } from './target';

interface HubFlags {
  port: string;
  host: string;
  data: string;
  logLevel: string;
  logFormat?: string;
  sync: string;
  dispatchWindow: string;
  retentionDays: string;
  storeReserveMb: string;
  maxQueuedPerDestination: string;
  maxQueuedPerAgent: string;
  maxDestinationsBeforeHello: string;
  maxBodyKb: string;
  tlsCert?: string;
  tlsKey?: string;
  publicUrl?: string;
  webhookRetryPeriod: string;
  webhookMaxBackoff: string;
  webhookTimeout: string;
  inboundDedupeWindow: string;
}

export function registerHubCommand(program: Command): void {
  program
    .command('hub')
    .description('Run the local hub: the push API at http://host:port/ and the relay WebSocket at ws://host:port/ws.')
    .option('--port <port>', 'TCP port (0 picks a free one)', '8080')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--data <dir>', 'data dir: the store and the token signing key', '.edgepush')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent', 'info')
    .addOption(logFormatOption())
    .option('--sync <mode>', 'flush (fsync each write, default) or commit (survives a process crash, not a power cut)', 'flush')
    .option(
      '--dispatch-window <n>',
      "pushes of one device sent ahead to its relay while the one before waits for the device's answer (1: one at a time)",
      String(DEFAULT_HUB_DISPATCH_WINDOW),
    )
    .option('--retention-days <days>', 'delete finished pushes after this many days (0 keeps them)', '30')
    .option('--max-queued-per-destination <n>', 'open pushes per device before new ones get 429 TOO_MANY_QUEUED', '1000')
    .option('--max-queued-per-agent <n>', 'open pushes per agent before new ones get 429 TOO_MANY_QUEUED', '10000')
    .option(
      '--max-destinations-before-hello <n>',
      "destinations with open pushes per agent before its relay's hello names its devices",
      '100',
    )
    .option(
      '--max-body-kb <kb>',
      `largest push body in KiB; over it 413 PAYLOAD_TOO_LARGE (at most ${MAX_BODY_BYTES / 1024}; the HTTP request cap follows it)`,
      String(MAX_BODY_BYTES / 1024),
    )
    .option('--store-reserve-mb <mb>', 'refuse new pushes (507 STORE_FULL) while the disk has less free space than this', '64')
    .option('--tls-cert <file>', 'PEM certificate: serve https:// and wss:// (with --tls-key)')
    .option('--tls-key <file>', 'PEM private key for --tls-cert')
    .option('--public-url <url>', "the hub's address as callers reach it, for Location headers (default: the request's Host)")
    .option(
      '--webhook-retry-period <duration>',
      "retry a failed webhook delivery this long, then mark it failed and go on with the channel's next",
      '24h',
    )
    .option(
      '--webhook-max-backoff <duration>',
      'longest wait between two webhook delivery attempts (they back off from 1s, doubling)',
      '5m',
    )
    .option('--webhook-timeout <duration>', 'how long one webhook delivery may take', '10s')
    .option(
      '--inbound-dedupe-window <duration>',
      'inbound messages with the same channel and MSH-10 within this window are stored once',
      '24h',
    )
    .action((flags: HubFlags) =>
      runCommand('hub', async () => {
        const port = Number(flags.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0-65535, got ${flags.port}`);
        if (flags.sync !== 'flush' && flags.sync !== 'commit') throw new UsageError('--sync must be flush or commit');
        if (Boolean(flags.tlsCert) !== Boolean(flags.tlsKey)) throw new UsageError('--tls-cert and --tls-key go together');
        const tls = flags.tlsCert && flags.tlsKey ? { certFile: flags.tlsCert, keyFile: flags.tlsKey } : undefined;
        const retentionDays = Number(flags.retentionDays);
        if (!Number.isFinite(retentionDays) || retentionDays < 0) throw new UsageError('--retention-days must be 0 or more');
        const positiveInt = (flag: string, raw: string): number => {
          const n = Number(raw);
          if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a whole number of 1 or more, got ${raw}`);
          return n;
        };
        const positiveDuration = (flag: string, raw: string): number => {
          const ms = parseDuration(flag, raw, 's');
          if (ms < 1) throw new UsageError(`${flag} must be more than 0, got ${raw}`);
          return ms;
        };
        const core = {
          maxQueuedPerDestination: positiveInt('--max-queued-per-destination', flags.maxQueuedPerDestination),
          maxQueuedPerAgent: positiveInt('--max-queued-per-agent', flags.maxQueuedPerAgent),
          maxDestinationsBeforeHello: positiveInt('--max-destinations-before-hello', flags.maxDestinationsBeforeHello),
          maxBodyBytes: positiveInt('--max-body-kb', flags.maxBodyKb) * 1024,
          webhookRetryPeriodMs: parseDuration('--webhook-retry-period', flags.webhookRetryPeriod, 's'),
          webhookMaxBackoffMs: positiveDuration('--webhook-max-backoff', flags.webhookMaxBackoff),
          webhookTimeoutMs: positiveDuration('--webhook-timeout', flags.webhookTimeout),
          inboundDedupeWindowMs: parseDuration('--inbound-dedupe-window', flags.inboundDedupeWindow, 's'),
        };
        const dispatchWindow = positiveInt('--dispatch-window', flags.dispatchWindow);
        if (core.maxBodyBytes > MAX_BODY_BYTES)
          throw new UsageError(`--max-body-kb must be at most ${MAX_BODY_BYTES / 1024}, got ${flags.maxBodyKb}`);
        const reserveMb = Number(flags.storeReserveMb);
        if (!Number.isFinite(reserveMb) || reserveMb < 0) throw new UsageError('--store-reserve-mb must be 0 or more');
        const publicUrl = flags.publicUrl === undefined ? undefined : parsePublicUrl(flags.publicUrl);
        // Logs go to stderr; stdout is for people (and scripts reading the address).
        const logger = pino({ name: 'edgepush-hub', level: flags.logLevel }, logDestination(resolveLogFormat(flags.logFormat)));
        installProcessGuard(logger);
        const hub = await startHub({
          port,
          host: flags.host,
          dataDir: flags.data,
          logger,
          sync: flags.sync,
          dispatchWindow,
          retentionDays,
          tls,
          storeReserveBytes: Math.round(reserveMb * 1024 * 1024),
          core,
          publicUrl,
        });
        process.stdout.write(startupBanner(hub));
        await new Promise<void>((resolve) => {
          const stop = (signal: NodeJS.Signals): void => {
            logger.info({ signal }, 'shutting down');
            hub.close().then(resolve, (err: unknown) => {
              logger.error({ err }, 'shutdown failed');
              resolve();
            });
          };
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        return 0;
      }),
    );
}

/** An http(s) base URL without a trailing slash, query or fragment. */
function parsePublicUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--public-url must be an absolute http:// or https:// URL, got ${value}`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash || url.username || url.password) {
    throw new UsageError(`--public-url must be an http:// or https:// URL without query, fragment or credentials, got ${value}`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}
