/**
 * The `edgepush` CLI. Each command group lives in bin/commands/, one file per group.
 *
 * Groups are loaded lazily: `edgepush relay` on a site should not load the hub's store (a
 * native addon) or its JWT code. Only the group named on the command line is registered;
 * `--help`, `--version` or an unknown command register them all.
 */
import type { Command as CommandType } from 'commander';
import { Command, CommanderError } from 'commander';
import { VERSION } from '../protocol/version';
import { EXIT_CODES_HELP, EXIT_NEGATIVE, EXIT_OK, EXIT_USAGE } from './exit-codes';

type Register = (program: CommandType) => void;

// Plain require() calls inside functions: scripts/build.mjs makes each group a bundle of its own
// (dist/edgepush-<group>.js) that only this require loads.
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
  webhook: () => require('./commands/webhook').registerWebhookCommands,
  messages: () => require('./commands/messages').registerMessagesCommand,
  template: () => require('./commands/template').registerTemplateCommands,
};

const program = new Command('edgepush')
  .description('Push HL7 v2 messages from the cloud to devices behind hospital firewalls.')
  .version(VERSION)
  // Commander's own parse errors (unknown option, missing argument) throw instead of exiting 1,
  // so they exit 2 like every other usage error. Set before the groups: subcommands inherit it.
  .exitOverride();

const named = process.argv[2];
const groups = named !== undefined && named in GROUPS ? [named] : Object.keys(GROUPS);
for (const name of groups) GROUPS[name]()(program);
addExitCodesHelp(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    // Commander has printed its message already; --help and --version are successes.
    const shown = err.code === 'commander.helpDisplayed' || err.code === 'commander.version';
    process.exit(shown ? EXIT_OK : EXIT_USAGE);
  }
  process.stderr.write(`edgepush: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(isUsageError(err) ? EXIT_USAGE : EXIT_NEGATIVE);
});

/**
 * A UsageError (bin/commands/target.ts), known by its exitCode rather than by instanceof: each
 * group's bundle carries its own copy of the class.
 */
function isUsageError(err: unknown): boolean {
  return err instanceof Error && (err as { exitCode?: unknown }).exitCode === EXIT_USAGE;
}

function addExitCodesHelp(command: CommandType): void {
  command.addHelpText('after', EXIT_CODES_HELP);
  for (const sub of command.commands) addExitCodesHelp(sub);
}
