/** `edgepush relay`: the on-site relay. Flags override EDGEPUSH_* variables, which override --config. */
import { setFlagsFromString } from 'node:v8';
import type { Command } from 'commander';
import { ConfigError, resolveConfig } from '../../edge-agent/relay/config-schema';
import { configFromEnv, configFromFlags, mergeRaw, readConfigFile, type RelayFlags } from '../../edge-agent/relay/config-sources';
import { Relay } from '../../edge-agent/relay/relay';

interface RelayCommandFlags extends RelayFlags {
  config?: string;
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
    .option('--heartbeat <ms>', 'heartbeat interval in ms (default 60000)')
    .option('--allow-insecure', 'allow plain ws:// to another host (secret and messages in clear); env EDGEPUSH_ALLOW_INSECURE=1')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (env EDGEPUSH_LOG_LEVEL)')
    .action((flags: RelayCommandFlags) => {
      // A relay waits on sockets, not on the CPU: have V8 favour a small heap over peak speed.
      // Measured (BENCHMARKS.md): RSS after a 10,000-push burst falls from ~75 MB to under
      // 60 MB; the relay still moves thousands of pushes a second, far above what devices take.
      setFlagsFromString('--optimize-for-size');
      let config;
      try {
        const fromFile = flags.config ? readConfigFile(flags.config) : {};
        config = resolveConfig(mergeRaw(fromFile, configFromEnv(process.env), configFromFlags(flags)));
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        process.stderr.write(`edgepush relay: ${err.message}\n`);
        process.exit(2);
      }
      const relay = new Relay(config);
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
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
