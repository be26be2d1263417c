/** The `edgepush` CLI. Each command lives in bin/commands/, one file per command group. */
import { Command } from 'commander';
import { VERSION } from '../protocol/version';
import { registerAgentCommands } from './commands/agent';
import { registerDemoCommand } from './commands/demo';
import { registerHl7Commands } from './commands/hl7';
import { registerHubCommand } from './commands/hub';
import { registerPushCommand } from './commands/push';
import { registerRelayCommand } from './commands/relay';
import { registerTokenCommand } from './commands/token';

const program = new Command('edgepush')
  .description('Push HL7 v2 messages from the cloud to devices behind hospital firewalls.')
  .version(VERSION);

registerHubCommand(program);
registerTokenCommand(program);
registerAgentCommands(program);
registerRelayCommand(program);
registerPushCommand(program);
registerHl7Commands(program);
registerDemoCommand(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`edgepush: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
