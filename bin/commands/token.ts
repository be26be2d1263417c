/** `edgepush token`: a JWT for the local hub, signed with the key in its data dir. */
import type { Command } from 'commander';
import { loadOrCreateKeys } from '../../hub/keys';
import { ALL_SCOPES, mintToken } from '../../hub/tokens';
import { runCommand } from './target';

export function registerTokenCommand(program: Command): void {
  program
    .command('token')
    .description('Print a JWT for the local hub (both scopes unless --scope narrows it).')
    .option('--data <dir>', 'the hub data dir holding its signing key', '.edgepush')
    .option('--scope <scope...>', `scopes to grant: ${ALL_SCOPES.join(', ')}`)
    .option('--ttl <span>', 'lifetime, e.g. 30m, 12h, 30d', '24h')
    .action((flags: { data: string; scope?: string[]; ttl: string }) =>
      runCommand('token', async () => {
        const keys = await loadOrCreateKeys(flags.data);
        const scopes = flags.scope?.flatMap((s) => s.split(/[\s,]+/)).filter(Boolean);
        process.stdout.write(`${await mintToken(keys, { scopes, ttl: flags.ttl })}\n`);
        return 0;
      }),
    );
}
