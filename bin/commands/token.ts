import type { Command } from 'commander';

// Placeholder until this command lands; see the open issues.
export function registerTokenCommand(program: Command): void {
  program.command('token').description('(not yet implemented)').action(() => {
    throw new Error('token is not implemented yet');
  });
}
