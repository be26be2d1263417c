import type { Command } from 'commander';

// Placeholder until this command lands; see the open issues.
export function registerHubCommand(program: Command): void {
  program.command('hub').description('(not yet implemented)').action(() => {
    throw new Error('hub is not implemented yet');
  });
}
