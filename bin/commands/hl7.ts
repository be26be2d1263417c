import type { Command } from 'commander';

// Placeholder until this command lands; see the open issues.
export function registerHl7Commands(program: Command): void {
  program.command('hl7').description('(not yet implemented)').action(() => {
    throw new Error('hl7 is not implemented yet');
  });
}
