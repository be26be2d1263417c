import type { Command } from 'commander';

// Placeholder until this command lands; see the open issues.
export function registerDemoCommand(program: Command): void {
  program.command('demo').description('(not yet implemented)').action(() => {
    throw new Error('demo is not implemented yet');
  });
}
