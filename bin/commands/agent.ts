import type { Command } from 'commander';

// Placeholder until this command lands; see the open issues.
export function registerAgentCommands(program: Command): void {
  program.command('agent').description('(not yet implemented)').action(() => {
    throw new Error('agent is not implemented yet');
  });
}
