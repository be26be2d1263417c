/** `edgepush token`: a JWT for the local hub, signed with the key in its data dir. */
import type { Command } from 'commander';
import { SigningKeyMissingError, loadOrCreateKeys } from '../../hub/keys';
import { ALL_SCOPES, mintToken } from '../../hub/tokens';
import { parseDuration } from '../duration';
import { AGENT_ID_RULE, isAgentId } from '../../protocol/names';
import { UsageError, runCommand } from './target';

export function registerTokenCommand(program: Command): void {
  program
    .command('token')
    .description("Print a JWT for the local hub (both scopes unless --scope narrows it), signed with the key in the hub's --data dir.")
    .option('--data <dir>', 'the hub data dir holding its signing key', '.edgepush')
    .option('--scope <scope...>', `scopes to grant: ${ALL_SCOPES.join(', ')}`)
    .option('--ttl <duration>', 'lifetime, e.g. 30m, 12h, 30d', '24h')
    .option('--agent <agentId...>', 'restrict the token to these agents (repeat the flag); others get 403 and lists are filtered')
    .option('--init', 'create the signing key if the data dir has none (the hub creates it at start otherwise)')
    .action((flags: { data: string; scope?: string[]; ttl: string; init?: boolean; agent?: string[] }) =>
      runCommand('token', async () => {
        const ttlS = Math.ceil(parseDuration('--ttl', flags.ttl) / 1000);
        if (ttlS < 1) throw new UsageError(`--ttl must be at least 1s, got ${JSON.stringify(flags.ttl)}`);
        let keys;
        try {
          keys = await loadOrCreateKeys(flags.data, { create: flags.init === true });
        } catch (err) {
          if (!(err instanceof SigningKeyMissingError)) throw err;
          throw new UsageError(
            `${err.message}: give the hub's --data dir (the hub creates its key when it starts), or pass --init to create a new key`,
          );
        }
        const scopes = flags.scope?.flatMap((s) => s.split(/[\s,]+/)).filter(Boolean);
        const unknown = scopes?.find((s) => !(ALL_SCOPES as readonly string[]).includes(s));
        if (unknown) throw new UsageError(`--scope: unknown scope ${unknown}; use ${ALL_SCOPES.join(' or ')}`);
        const agents = flags.agent?.flatMap((a) => a.split(',')).filter(Boolean);
        const badAgent = agents?.find((a) => !isAgentId(a));
        if (badAgent !== undefined) throw new UsageError(`--agent: ${JSON.stringify(badAgent)} is not an agent id (${AGENT_ID_RULE})`);
        if (flags.agent && agents?.length === 0) throw new UsageError('--agent needs an agent id');
        process.stdout.write(`${await mintToken(keys, { scopes, ttl: `${ttlS}s`, agents })}\n`);
        return 0;
      }),
    );
}
