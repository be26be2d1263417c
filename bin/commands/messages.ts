/**
 * `edgepush messages <agentId>`: an agent's inbound messages, oldest first, one JSON message per
 * line on stdout. The cursor to continue from goes to stderr. --follow long-polls for new ones
 * until interrupted (SIGINT ends it with exit 0: following has no outcome to wait for).
 * Exit codes: 0 done; 1 the API refused (unknown agent); 2 usage (a bad cursor or limit too).
 */
import type { Command } from 'commander';
import { callApi, toApiError } from '../api-client';
import { REGION_HELP, SIGV4_HELP, UsageError, resolveTarget, runCommand, type TargetFlags } from './target';

interface MessagesFlags extends TargetFlags {
  channel?: string;
  after?: string;
  limit?: string;
  follow?: boolean;
}

interface Page {
  messages: unknown[];
  next?: string;
}

/** The API's long-poll maximum: each request waits at most this long for a new message. */
const FOLLOW_WAIT_S = 20;

export function registerMessagesCommand(program: Command): void {
  program
    .command('messages')
    .description("Print an agent's inbound messages, one JSON object per line, oldest first (scope edgepush/receive).")
    .argument('<agentId>')
    .option('--channel <name>', 'only this channel')
    .option('--after <cursor>', 'start after this cursor (the `next` printed on stderr by an earlier run)')
    .option('--limit <n>', 'at most this many per request (1-500, default 100)')
    .option('--follow', 'keep waiting for new messages and print them as they come, until Ctrl-C')
    .option('--api <url>', 'EdgePush API base URL (env EDGEPUSH_API)')
    .option('--token <jwt>', 'bearer token with edgepush/receive (env EDGEPUSH_TOKEN)')
    .option('--sigv4', SIGV4_HELP)
    .option('--region <region>', REGION_HELP)
    .action((agentId: string, flags: MessagesFlags) =>
      runCommand('messages', async () => {
        if (flags.limit !== undefined && !/^\d+$/.test(flags.limit))
          throw new UsageError(`--limit must be a whole number, got ${flags.limit}`);
        const target = resolveTarget(flags);
        let after = flags.after;
        const printNext = (): void => {
          if (after !== undefined) process.stderr.write(`next: ${after} (continue with --after ${after})\n`);
        };
        const interrupted = (): void => {
          printNext();
          process.exit(0);
        };
        if (flags.follow) process.once('SIGINT', interrupted);
        try {
          for (;;) {
            const query = new URLSearchParams();
            if (flags.channel) query.set('channel', flags.channel);
            if (after) query.set('after', after);
            if (flags.limit) query.set('limit', flags.limit);
            if (flags.follow) query.set('wait', String(FOLLOW_WAIT_S));
            const res = await callApi(target, 'GET', `/agents/${encodeURIComponent(agentId)}/messages?${query.toString()}`);
            if (res.status === 400) throw new UsageError(toApiError(res).message);
            if (res.status !== 200) throw toApiError(res);
            const page = res.body as unknown as Page;
            for (const message of page.messages) process.stdout.write(`${JSON.stringify(message)}\n`);
            if (page.next !== undefined) after = page.next;
            if (!flags.follow) break;
          }
        } finally {
          process.off('SIGINT', interrupted);
        }
        printNext();
        return 0;
      }),
    );
}
