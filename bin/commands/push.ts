/**
 * `edgepush push <agentId> <destination>`: pushes one HL7 message through the HTTP API and
 * prints the device's ACK. Exit codes: 0 acked (or accepted, with --no-wait), 1 nacked /
 * failed / expired / error, 2 usage, 3 still in flight at the timeout (it continues; the
 * pushId is printed so `GET /pushes/{id}` can follow it).
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { generateExampleAdt } from '../../hl7/example';
import { callApi, toApiError } from '../api-client';
import { parseDuration } from '../duration';
import { registerPushSubcommands } from './push-manage';
import { REGION_HELP, SIGV4_HELP, UsageError, resolveTarget, runCommand, type TargetFlags } from './target';

interface PushFlags extends TargetFlags {
  file?: string;
  generateExample?: boolean;
  wait: boolean;
  timeout: string;
  returnAck: string;
  idempotencyKey?: string;
  expiresIn?: string;
  json?: boolean;
}

interface PushView {
  pushId: string;
  status: string;
  ackCode?: string;
  response?: string;
  error?: string;
  attempts: number;
  /** Only while queued: why it waits (API field waitReason). */
  waitReason?: { code: string; message: string };
}

export function registerPushCommand(program: Command): void {
  const push = program
    .command('push')
    .description('Push an HL7 v2 message to a device behind an agent and print its ACK (exit 0 only when acked).')
    .argument('<agentId>', 'the agent (relay) the device sits behind')
    .argument('<destination>', 'the device name in the relay config (or Device/<name>)')
    .option('--file <file>', 'the message to send (ER7; \\n or \\r\\n line endings are fine)')
    .option('--generate-example', 'send a generated example ADT^A01')
    .option('--api <url>', 'EdgePush API base URL (env EDGEPUSH_API)')
    .option('--token <jwt>', 'bearer token with edgepush/push (env EDGEPUSH_TOKEN)')
    .option('--sigv4', SIGV4_HELP)
    .option('--region <region>', REGION_HELP)
    .option('--no-wait', 'do not wait for the ACK: print the pushId and exit 0 once accepted')
    .option('--timeout <duration>', 'how long the API waits for the ACK, up to 25s', '10s')
    .option('--return-ack <mode>', 'first (any ACK) or application (skip commit ACKs)', 'first')
    .option('--idempotency-key <key>', 'the same key and body never push twice')
    .option(
      '--expires-in <duration>',
      'how long the push may wait for an offline relay or device, e.g. 90s, 30m, 2h (bare number: seconds)',
    )
    .option('--json', 'print the push as JSON instead of the ACK text')
    .action((agentId: string, destination: string, flags: PushFlags) =>
      runCommand('push', async () => {
        const target = resolveTarget(flags);
        if (!!flags.file === !!flags.generateExample) throw new UsageError('give exactly one of --file <file> or --generate-example');
        const body = flags.file ? readMessageFile(flags.file) : generateExampleAdt();
        // Checked here so the error names the flag (the API would answer 400 about waitTimeout/returnAck).
        const waitTimeout = parseDuration('--timeout', flags.timeout);
        if (waitTimeout > 25_000) throw new UsageError(`--timeout must be a duration from 0 to 25000 ms (25s), got ${flags.timeout}`);
        if (flags.returnAck !== 'first' && flags.returnAck !== 'application') {
          throw new UsageError(`--return-ack must be first or application, got ${flags.returnAck}`);
        }
        const request: Record<string, unknown> = {
          destination,
          body,
          waitForResponse: flags.wait,
          waitTimeout,
          returnAck: flags.returnAck,
        };
        if (flags.idempotencyKey) request.idempotencyKey = flags.idempotencyKey;
        if (flags.expiresIn !== undefined) request.expiresIn = expiresInSeconds(flags.expiresIn);

        const res = await callApi<PushView & { error?: string; code?: string }>(
          target,
          'POST',
          `/agents/${encodeURIComponent(agentId)}/push`,
          request,
          waitTimeout + 15_000,
        );
        const push = res.body;
        if (typeof push.pushId !== 'string') throw toApiError(res as never);
        if (flags.json) process.stdout.write(`${JSON.stringify(push)}\n`);

        if (res.status === 202) {
          if (!flags.json) process.stdout.write(`${JSON.stringify({ pushId: push.pushId, status: push.status })}\n`);
          // Accepted (exit 0), but say at once when nothing can deliver it yet.
          if (push.waitReason) process.stderr.write(`edgepush push: push ${push.pushId} waits: ${push.waitReason.message}\n`);
          return 0;
        }
        if (push.response && !flags.json) process.stdout.write(`${push.response.replace(/\r\n?/g, '\n').replace(/\n?$/, '\n')}`);
        switch (push.status) {
          case 'acked':
            return 0;
          case 'nacked':
            process.stderr.write(`edgepush push: the device answered ${push.ackCode} (push ${push.pushId})\n`);
            return 1;
          case 'queued':
          case 'sent': {
            const why = push.waitReason ? push.waitReason.message : `no ACK within ${waitTimeout} ms`;
            process.stderr.write(
              `edgepush push: ${why}; push ${push.pushId} is ${push.status} and continues (edgepush push status ${push.pushId} --follow)\n`,
            );
            return 3;
          }
          default:
            process.stderr.write(`edgepush push: push ${push.pushId} ${push.status}${push.error ? `: ${push.error}` : ''}\n`);
            return 1;
        }
      }),
    );
  registerPushSubcommands(push);
}

function readMessageFile(file: string): string {
  try {
    // A byte-order mark (Windows editors save UTF-8 with one) is not part of the message.
    return readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  } catch (err) {
    throw new UsageError(`cannot read --file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** The API takes whole seconds; `2s` used to be sent as null (NaN) and became the 3600 s default. */
function expiresInSeconds(value: string): number {
  const ms = parseDuration('--expires-in', value, 's');
  if (ms < 1000 || ms % 1000 !== 0)
    throw new UsageError(`--expires-in must be a whole number of seconds, at least 1s, got ${JSON.stringify(value)}`);
  return ms / 1000;
}
