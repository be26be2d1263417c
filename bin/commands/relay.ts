import type { Command } from 'commander';

// Placeholder until this command lands; see the open issues.
export function registerRelayCommand(program: Command): void {
  program.command('relay').description('(not yet implemented)').action(() => {
    throw new Error('relay is not implemented yet');
  });
}
