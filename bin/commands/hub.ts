/** `edgepush hub`: the local cloud side (HTTP API + relay WebSocket on one port). */
import type { Command } from 'commander';
import pino from 'pino';
import { startHub } from '../../hub/hub';
import { startupBanner } from '../../hub/banner';
import { logDestination, logFormatOption, resolveLogFormat } from '../log-format';
import { UsageError, runCommand } from './target';

interface HubFlags {
  port: string;
  host: string;
  data: string;
  logLevel: string;
  logFormat?: string;
  sync: string;
  retentionDays: string;
  tlsCert?: string;
  tlsKey?: string;
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
    .option('--retention-days <days>', 'delete finished pushes after this many days (0 keeps them)', '30')
    .option('--tls-cert <file>', 'PEM certificate: serve https:// and wss:// (with --tls-key)')
    .option('--tls-key <file>', 'PEM private key for --tls-cert')
    .action((flags: HubFlags) =>
      runCommand('hub', async () => {
        const port = Number(flags.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0-65535, got ${flags.port}`);
        if (flags.sync !== 'flush' && flags.sync !== 'commit') throw new UsageError('--sync must be flush or commit');
        if (Boolean(flags.tlsCert) !== Boolean(flags.tlsKey)) throw new UsageError('--tls-cert and --tls-key go together');
        const tls = flags.tlsCert && flags.tlsKey ? { certFile: flags.tlsCert, keyFile: flags.tlsKey } : undefined;
        const retentionDays = Number(flags.retentionDays);
        if (!Number.isFinite(retentionDays) || retentionDays < 0) throw new UsageError('--retention-days must be 0 or more');
        // Logs go to stderr; stdout is for people (and scripts reading the address).
        const logger = pino({ name: 'edgepush-hub', level: flags.logLevel }, logDestination(resolveLogFormat(flags.logFormat)));
        const hub = await startHub({ port, host: flags.host, dataDir: flags.data, logger, sync: flags.sync, retentionDays, tls });
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
