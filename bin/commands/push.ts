import type { Command } from 'commander';

// Placeholder until this command lands; see the open issues.
export function registerPushCommand(program: Command): void {
  program.command('push').description('(not yet implemented)').action(() => {
    throw new Error('push is not implemented yet');
  });
}
