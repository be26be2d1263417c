/** `edgepush relay`: the on-site relay. Flags override EDGEPUSH_* variables, which override --config. */
import type { Command } from 'commander';
import { ConfigError, resolveConfig } from '../../edge-agent/relay/config-schema';
import { configFromEnv, configFromFlags, mergeRaw, readConfigFile, type RelayFlags } from '../../edge-agent/relay/config-sources';
import { applyRelayHeapFlags } from '../../edge-agent/relay/heap-flags';
import { createRelayLogger } from '../../edge-agent/relay/logger';
import { Relay } from '../../edge-agent/relay/relay';
import { logDestination, logFormatOption, resolveLogFormat } from '../log-format';
import { parseDuration } from '../duration';
import { EXIT_NEGATIVE, EXIT_OK, EXIT_USAGE } from '../exit-codes';
import { checkChannels, checkDevices } from './relay-check';
import { UsageError } from './target';

interface RelayCommandFlags extends RelayFlags {
  config?: string;
  check?: boolean;
  logFormat?: string;
}

export function registerRelayCommand(program: Command): void {
  program
    .command('relay')
    .description('Run the edge relay: keep a WebSocket open to the cloud and deliver pushes to local MLLP devices.')
    .option('--config <file>', 'JSON config file (see docs/PROTOCOL.md, "Relay configuration")')
    .option('--url <ws-url>', 'cloud WebSocket URL, e.g. wss://hub.example.com/ws (env EDGEPUSH_URL)')
    .option('--agent <id>', 'agent id (env EDGEPUSH_AGENT_ID)')
    .option('--secret <secret>', 'agent secret; prefer env EDGEPUSH_AGENT_SECRET, flags show in ps')
    .option(
      '--device <name=mllp://host:port>',
      'a device this relay may reach, repeatable; ?encoding=windows-1252 sets its charset',
      collect,
      [],
    )
    .option(
      '--channel <name=mllp://0.0.0.0:port>',
      'listen for devices that send to the relay, repeatable; ?ack=fast|cloud|app&encoding=...&timeout=10s',
      collect,
      [],
    )
    .option('--data <dir>', 'state dir: the inbound spool of fast channels (env EDGEPUSH_DATA_DIR; systemd StateDirectory)')
    .option('--heartbeat <duration>', 'heartbeat interval, e.g. 30s or 2m (default 60s)')
    .option('--allow-insecure', 'allow plain ws:// to another host (secret and messages in clear); env EDGEPUSH_ALLOW_INSECURE=1')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (env EDGEPUSH_LOG_LEVEL)')
    .addOption(logFormatOption())
    .option(
      '--check',
      'validate the config, try a TCP connect to each device and bind each channel port, without contacting the cloud; then exit',
    )
    .action(async (flags: RelayCommandFlags) => {
      applyRelayHeapFlags();
      let config;
      let logFormat;
      try {
        logFormat = resolveLogFormat(flags.logFormat);
        const fromFile = flags.config ? readConfigFile(flags.config) : {};
        const heartbeat = flags.heartbeat === undefined ? undefined : String(parseDuration('--heartbeat', flags.heartbeat));
        config = resolveConfig(mergeRaw(fromFile, configFromEnv(process.env), configFromFlags({ ...flags, heartbeat })));
      } catch (err) {
        if (!(err instanceof ConfigError) && !(err instanceof UsageError)) throw err;
        process.stderr.write(`edgepush relay: ${err.message}\n`);
        process.exit(EXIT_USAGE);
      }
      if (flags.check) {
        const results = await checkDevices(config.devices);
        for (const r of results)
          process.stdout.write(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name} ${r.host}:${r.port}${r.ok ? '' : ` ${r.why}`}\n`);
        const channels = await checkChannels(config.channels, config.dataDir);
        for (const r of channels)
          process.stdout.write(`${r.ok ? 'ok  ' : 'FAIL'} channel ${r.name} ${r.host}:${r.port}${r.ok ? '' : ` ${r.why}`}\n`);
        process.exit(results.every((r) => r.ok) && channels.every((r) => r.ok) ? EXIT_OK : EXIT_NEGATIVE);
      }
      let relay: Relay;
      try {
        relay = new Relay(config, createRelayLogger(config.logLevel, logDestination(logFormat)));
      } catch (err) {
        // The spool of a fast channel could not be opened (data dir not writable, a corrupt file).
        const e = err as NodeJS.ErrnoException;
        process.stderr.write(
          `edgepush relay: cannot open the data dir ${config.dataDir}: ${e.code ?? e.message}; give a writable --data DIR\n`,
        );
        process.exit(EXIT_NEGATIVE);
      }
      const onSignal = (signal: NodeJS.Signals): void => {
        relay.logger.info({ signal }, 'signal received');
        relay.stop().then(
          () => process.exit(0),
          (err: unknown) => {
            relay.logger.error({ err }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
      relay.start();
      relay.ready.catch((err: Error) => {
        relay.logger.fatal({ err: err.message }, 'relay cannot start');
        process.stderr.write(`edgepush relay: ${err.message}\n`);
        void relay.stop().finally(() => process.exit(EXIT_NEGATIVE));
      });
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
