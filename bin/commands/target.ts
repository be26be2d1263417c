/** --api / --token with EDGEPUSH_API / EDGEPUSH_TOKEN fallbacks, shared by `agent` and `push`. */
import type { ApiTarget } from '../api-client';

export function resolveTarget(flags: { api?: string; token?: string }, env: NodeJS.ProcessEnv = process.env): ApiTarget {
  const api = flags.api ?? env.EDGEPUSH_API;
  const token = flags.token ?? env.EDGEPUSH_TOKEN;
  const missing: string[] = [];
  if (!api) missing.push('--api <url> (or EDGEPUSH_API)');
  if (!token) missing.push('--token <jwt> (or EDGEPUSH_TOKEN; get one with `edgepush token`)');
  if (missing.length) throw new UsageError(`missing ${missing.join(' and ')}`);
  return { api: api!, token: token! };
}

export class UsageError extends Error {
  readonly exitCode = 2;
}

/** Runs a command body; prints errors as one line on stderr and sets the exit code. */
export async function runCommand(name: string, body: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await body();
  } catch (err) {
    process.stderr.write(`edgepush ${name}: ${(err as Error).message}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  }
}
