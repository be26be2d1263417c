/** `edgepush agent create|get`: manage agents through the HTTP API (admin scope). */
import type { Command } from 'commander';
import { callApi, toApiError } from '../api-client';
import { REGION_HELP, SIGV4_HELP, resolveTarget, runCommand, type TargetFlags } from './target';

type ApiFlags = TargetFlags;

export function registerAgentCommands(program: Command): void {
  const agent = program.command('agent').description('Create and inspect agents (the relays that may connect).');

  agent
    .command('create')
    .description('Create an agent; prints {agentId, secret}. The secret is shown once: give it to the relay.')
    .argument('<agentId>', 'letters, digits, dot, dash, underscore')
    .option('--api <url>', 'EdgePush API base URL (env EDGEPUSH_API)')
    .option('--token <jwt>', 'bearer token with edgepush/admin (env EDGEPUSH_TOKEN)')
    .option('--sigv4', SIGV4_HELP)
    .option('--region <region>', REGION_HELP)
    .action((agentId: string, flags: ApiFlags) =>
      runCommand('agent create', async () => {
        const res = await callApi(resolveTarget(flags), 'POST', '/agents', { agentId });
        if (res.status !== 201 && res.status !== 200) throw toApiError(res);
        process.stdout.write(`${JSON.stringify(res.body, null, 2)}\n`);
        return 0;
      }),
    );

  agent
    .command('get')
    .description('Show an agent: connected or not, last seen, relay version, devices.')
    .argument('<agentId>')
    .option('--api <url>', 'EdgePush API base URL (env EDGEPUSH_API)')
    .option('--token <jwt>', 'bearer token with edgepush/admin (env EDGEPUSH_TOKEN)')
    .option('--sigv4', SIGV4_HELP)
    .option('--region <region>', REGION_HELP)
    .action((agentId: string, flags: ApiFlags) =>
      runCommand('agent get', async () => {
        const res = await callApi(resolveTarget(flags), 'GET', `/agents/${encodeURIComponent(agentId)}`);
        if (res.status !== 200) throw toApiError(res);
        process.stdout.write(`${JSON.stringify(res.body, null, 2)}\n`);
        return 0;
      }),
    );
}
