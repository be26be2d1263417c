/**
 * The `edgepush` CLI. Each command group lives in bin/commands/, one file per group.
 *
 * Groups are loaded lazily: `edgepush relay` on a site should not load the hub's store (a
 * native addon) or its JWT code. Only the group named on the command line is registered;
 * `--help`, `--version` or an unknown command register them all.
 */
import type { Command as CommandType } from 'commander';
import { Command } from 'commander';
import { VERSION } from '../protocol/version';
import { UsageError } from './commands/target';

type Register = (program: CommandType) => void;

// Plain require() calls inside functions: esbuild then initialises each module on first use.
/* eslint-disable @typescript-eslint/no-require-imports */
/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-return */
const GROUPS: Record<string, () => Register> = {
  hub: () => require('./commands/hub').registerHubCommand,
  token: () => require('./commands/token').registerTokenCommand,
  agent: () => require('./commands/agent').registerAgentCommands,
  relay: () => require('./commands/relay').registerRelayCommand,
  push: () => require('./commands/push').registerPushCommand,
  hl7: () => require('./commands/hl7').registerHl7Commands,
  astm: () => require('./commands/astm').registerAstmCommands,
  demo: () => require('./commands/demo').registerDemoCommand,
};

const program = new Command('edgepush')
  .description('Push HL7 v2 messages from the cloud to devices behind hospital firewalls.')
  .version(VERSION);

const named = process.argv[2];
const groups = named !== undefined && named in GROUPS ? [named] : Object.keys(GROUPS);
for (const name of groups) GROUPS[name]()(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`edgepush: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(err instanceof UsageError ? err.exitCode : 1);
});
