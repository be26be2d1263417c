/** `edgepush agent create|get|list|disable|enable|rotate-secret|delete`: manage agents through the HTTP API (admin scope). */
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
        process.stdout.write(`${JSON.stringify(res.body)}\n`);
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
        process.stdout.write(`${JSON.stringify(res.body)}\n`);
        return 0;
      }),
    );

  registerLifecycleCommands(agent);
}

const withTarget = (cmd: Command): Command =>
  cmd
    .option('--api <url>', 'EdgePush API base URL (env EDGEPUSH_API)')
    .option('--token <jwt>', 'bearer token with edgepush/admin (env EDGEPUSH_TOKEN)')
    .option('--sigv4', SIGV4_HELP)
    .option('--region <region>', REGION_HELP);

/** list, disable, enable, rotate-secret, delete: each prints the API's JSON answer (delete prints nothing). */
function registerLifecycleCommands(agent: Command): void {
  withTarget(agent.command('list'))
    .description('List every agent with its status, version, last-seen time and devices.')
    .action((flags: ApiFlags) =>
      runCommand('agent list', async () => {
        const res = await callApi(resolveTarget(flags), 'GET', '/agents');
        if (res.status !== 200) throw toApiError(res);
        process.stdout.write(`${JSON.stringify(res.body)}\n`);
        return 0;
      }),
    );

  const lifecycle: { name: string; description: string; method: string; path: (id: string) => string; body?: unknown; ok: number }[] = [
    {
      name: 'disable',
      description: 'Disable an agent: its relay is disconnected and refused, and pushes to it get 409.',
      method: 'PATCH',
      path: (id) => `/agents/${id}`,
      body: { enabled: false },
      ok: 200,
    },
    {
      name: 'enable',
      description: 'Enable a disabled agent again.',
      method: 'PATCH',
      path: (id) => `/agents/${id}`,
      body: { enabled: true },
      ok: 200,
    },
    {
      name: 'rotate-secret',
      description: 'Give the agent a new secret (shown once); the old one stops working and its relay is disconnected.',
      method: 'POST',
      path: (id) => `/agents/${id}/secret`,
      ok: 200,
    },
    {
      name: 'delete',
      description: 'Delete an agent; its relay is disconnected.',
      method: 'DELETE',
      path: (id) => `/agents/${id}`,
      ok: 204,
    },
  ];
  for (const c of lifecycle) {
    withTarget(agent.command(c.name))
      .description(c.description)
      .argument('<agentId>')
      .action((agentId: string, flags: ApiFlags) =>
        runCommand(`agent ${c.name}`, async () => {
          const res = await callApi(resolveTarget(flags), c.method, c.path(encodeURIComponent(agentId)), c.body);
          if (res.status !== c.ok) throw toApiError(res);
          if (c.ok !== 204) process.stdout.write(`${JSON.stringify(res.body)}\n`);
          return 0;
        }),
      );
  }
}
