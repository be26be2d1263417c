/**
 * `edgepush push status|list|cancel|resend`: managing pushes. Subcommands of `push`, which
 * still takes `push <agentId> <destination>` itself: commander dispatches to a subcommand when
 * the first operand names one, and to push's own action otherwise. So an agent named `status`,
 * `list`, `cancel` or `resend` cannot be pushed to from the CLI (the API takes any name).
 *
 * `push` declares --api/--token/--sigv4/--region itself and commander gives them to it wherever
 * they appear, so the subcommands read them with optsWithGlobals().
 *
 * Exit codes: 0 acked (status) or done (list, cancel, resend); 1 nacked, failed, expired,
 * cancelled (status), or the API refused; 2 usage; 3 still in flight (status, or --follow
 * interrupted).
 */
import type { Command } from 'commander';
import { callApi, toApiError, type ApiResponse } from '../api-client';
import { REGION_HELP, SIGV4_HELP, UsageError, resolveTarget, runCommand, type TargetFlags } from './target';

interface PushView {
  pushId: string;
  status: string;
  attempts: number;
  error?: string;
  /** Only while queued: why it waits (API field waitReason). */
  waitReason?: { code: string; message: string };
}

const TERMINAL = new Set(['acked', 'nacked', 'failed', 'expired', 'cancelled']);
const POLL_MS = 1000;

/** 0 acked, 1 any other end, 3 not finished yet. */
export function exitCodeOf(status: string): number {
  if (status === 'acked') return 0;
  return TERMINAL.has(status) ? 1 : 3;
}

function withTarget(cmd: Command): Command {
  return cmd
    .option('--api <url>', 'EdgePush API base URL (env EDGEPUSH_API)')
    .option('--token <jwt>', 'bearer token with edgepush/push (env EDGEPUSH_TOKEN)')
    .option('--sigv4', SIGV4_HELP)
    .option('--region <region>', REGION_HELP);
}

const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);

function expectOk<T>(res: ApiResponse<T>, ...ok: number[]): T {
  if (!ok.includes(res.status)) throw toApiError(res as ApiResponse);
  return res.body;
}

export function registerPushSubcommands(push: Command): void {
  withTarget(push.command('status'))
    .description('Show a push (exit 0 acked, 1 nacked/failed/expired/cancelled, 3 in flight); --follow waits for its end.')
    .argument('<pushId>')
    .option('--follow', 'poll until the push ends, printing each status change')
    .action((pushId: string, _flags: unknown, cmd: Command) =>
      runCommand('push status', async () => {
        const target = resolveTarget(cmd.optsWithGlobals<TargetFlags & { follow?: boolean }>());
        const follow = cmd.optsWithGlobals<{ follow?: boolean }>().follow === true;
        const path = `/pushes/${encodeURIComponent(pushId)}`;
        let push = expectOk(await callApi<PushView>(target, 'GET', path), 200);
        print(push);
        const sayWhy = (p: PushView) => p.waitReason && process.stderr.write(`edgepush push status: ${p.waitReason.message}\n`);
        sayWhy(push);
        if (!follow) return exitCodeOf(push.status);
        // Interrupted while following: the push is still in flight.
        const interrupted = () => process.exit(3);
        process.once('SIGINT', interrupted);
        try {
          while (!TERMINAL.has(push.status)) {
            await new Promise((resolve) => setTimeout(resolve, POLL_MS));
            const next = expectOk(await callApi<PushView>(target, 'GET', path), 200);
            const reasonChanged = next.waitReason?.message !== push.waitReason?.message;
            if (next.status !== push.status || next.attempts !== push.attempts || reasonChanged) print(next);
            if (reasonChanged) sayWhy(next);
            push = next;
          }
        } finally {
          process.off('SIGINT', interrupted);
        }
        return exitCodeOf(push.status);
      }),
    );

  withTarget(push.command('list'))
    .description('List pushes, newest first, without bodies; prints {pushes, next}.')
    .option('--agent <agentId>', 'only this agent')
    .option('--destination <name>', 'only this device')
    .option('--status <status>', 'only pushes in this status')
    .option('--limit <n>', 'at most this many (1-500, default 50)')
    .option('--cursor <cursor>', 'the `next` of the previous page')
    .action((_flags: unknown, cmd: Command) =>
      runCommand('push list', async () => {
        const flags = cmd.optsWithGlobals<
          TargetFlags & { agent?: string; destination?: string; status?: string; limit?: string; cursor?: string }
        >();
        if (flags.limit !== undefined && !/^\d+$/.test(flags.limit))
          throw new UsageError(`--limit must be a whole number, got ${flags.limit}`);
        const query = new URLSearchParams();
        if (flags.agent) query.set('agentId', flags.agent);
        if (flags.destination) query.set('destination', flags.destination);
        if (flags.status) query.set('status', flags.status);
        if (flags.limit) query.set('limit', flags.limit);
        if (flags.cursor) query.set('cursor', flags.cursor);
        const res = await callApi(resolveTarget(flags), 'GET', `/pushes${query.size ? `?${query.toString()}` : ''}`);
        // The API checks status, limit and cursor; its 400 is a usage error here.
        if (res.status === 400) throw new UsageError(toApiError(res).message);
        print(expectOk(res, 200));
        return 0;
      }),
    );

  withTarget(push.command('cancel'))
    .description('Cancel a push that is still queued (exit 1 when it was already sent or finished).')
    .argument('<pushId>')
    .action((pushId: string, _flags: unknown, cmd: Command) =>
      runCommand('push cancel', async () => {
        const target = resolveTarget(cmd.optsWithGlobals<TargetFlags>());
        print(expectOk(await callApi(target, 'POST', `/pushes/${encodeURIComponent(pushId)}/cancel`), 200));
        return 0;
      }),
    );

  withTarget(push.command('resend'))
    .description('Send a push again as a new push (linked by resendOf); prints the new push.')
    .argument('<pushId>')
    .action((pushId: string, _flags: unknown, cmd: Command) =>
      runCommand('push resend', async () => {
        const target = resolveTarget(cmd.optsWithGlobals<TargetFlags>());
        print(expectOk(await callApi(target, 'POST', `/pushes/${encodeURIComponent(pushId)}/resend`), 202));
        return 0;
      }),
    );
}
