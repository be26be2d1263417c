/**
 * `edgepush webhook set|show|delete`: an agent's webhook, where its inbound messages are POSTed
 * (admin scope). `set` prints the signing secret: the only time it is shown.
 * Exit codes: 0 done; 1 the API refused (unknown agent, no webhook); 2 usage (a bad URL too).
 */
import type { Command } from 'commander';
import { callApi, toApiError, type ApiResponse } from '../api-client';
import { REGION_HELP, SIGV4_HELP, UsageError, resolveTarget, runCommand, type TargetFlags } from './target';

const withTarget = (cmd: Command): Command =>
  cmd
    .option('--api <url>', 'EdgePush API base URL (env EDGEPUSH_API)')
    .option('--token <jwt>', 'bearer token with edgepush/admin (env EDGEPUSH_TOKEN)')
    .option('--sigv4', SIGV4_HELP)
    .option('--region <region>', REGION_HELP);

const path = (agentId: string): string => `/agents/${encodeURIComponent(agentId)}/webhook`;

function expect(res: ApiResponse, status: number): ApiResponse {
  // The API checks the URL; its 400 is a usage error here.
  if (res.status === 400) throw new UsageError(toApiError(res).message);
  if (res.status !== status) throw toApiError(res);
  return res;
}

export function registerWebhookCommands(program: Command): void {
  const webhook = program.command('webhook').description("Set, show or delete an agent's webhook (where its inbound messages are POSTed).");

  withTarget(webhook.command('set'))
    .description('Set the webhook URL (https; http only to localhost on the hub); prints {url, secret}. The secret is shown once.')
    .argument('<agentId>')
    .requiredOption('--url <url>', 'the application URL that receives each message (HTTPS POST, signed)')
    .action((agentId: string, flags: TargetFlags & { url: string }) =>
      runCommand('webhook set', async () => {
        const res = expect(await callApi(resolveTarget(flags), 'PUT', path(agentId), { url: flags.url }), 200);
        process.stdout.write(`${JSON.stringify(res.body, null, 2)}\n`);
        return 0;
      }),
    );

  withTarget(webhook.command('show').alias('get'))
    .description('Show the webhook URL (never the secret).')
    .argument('<agentId>')
    .action((agentId: string, flags: TargetFlags) =>
      runCommand('webhook show', async () => {
        const res = expect(await callApi(resolveTarget(flags), 'GET', path(agentId)), 200);
        process.stdout.write(`${JSON.stringify(res.body, null, 2)}\n`);
        return 0;
      }),
    );

  withTarget(webhook.command('delete'))
    .description('Delete the webhook: new messages are kept for pull (edgepush messages) instead.')
    .argument('<agentId>')
    .action((agentId: string, flags: TargetFlags) =>
      runCommand('webhook delete', async () => {
        expect(await callApi(resolveTarget(flags), 'DELETE', path(agentId)), 204);
        return 0;
      }),
    );
}
