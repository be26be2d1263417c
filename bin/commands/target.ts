/** --api / --token (or --sigv4) with EDGEPUSH_API / EDGEPUSH_TOKEN fallbacks, shared by `agent` and `push`. */
import { ApiError, type ApiTarget } from '../api-client';
import { EXIT_NEGATIVE, EXIT_USAGE } from '../exit-codes';
import { regionOf } from '../sigv4';

export interface TargetFlags {
  api?: string;
  token?: string;
  sigv4?: boolean;
  region?: string;
}

export const SIGV4_HELP = 'sign with AWS SigV4 from the AWS credential chain (IAM-auth deployments) instead of --token';
export const REGION_HELP = 'AWS Region for --sigv4 (default: AWS_REGION, or the execute-api URL)';

export function resolveTarget(flags: TargetFlags, env: NodeJS.ProcessEnv = process.env): ApiTarget {
  const api = flags.api ?? env.EDGEPUSH_API;
  const token = flags.token ?? env.EDGEPUSH_TOKEN;
  const missing: string[] = [];
  if (!api) missing.push('--api <url> (or EDGEPUSH_API)');
  if (!token && !flags.sigv4) missing.push('--token <jwt> (or EDGEPUSH_TOKEN; get one with `edgepush token`), or --sigv4');
  if (missing.length) throw new UsageError(`missing ${missing.join(' and ')}`);
  checkApiUrl(api!);
  if (flags.sigv4) {
    let url: URL;
    try {
      url = new URL(api!);
    } catch {
      throw new UsageError(`--api ${api} is not a URL`);
    }
    const region = flags.region ?? regionOf(url, env);
    if (!region) throw new UsageError('--sigv4 needs a Region: --region <region> (or AWS_REGION)');
    return { api: api!, sigv4: { region } };
  }
  return { api: api!, token: token! };
}

/** `localhost:8080` parses as a URL with scheme `localhost:`; fetch would fail far from the cause. */
function checkApiUrl(api: string): void {
  let url: URL | undefined;
  try {
    url = new URL(api);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== 'http:' && url?.protocol !== 'https:') {
    throw new UsageError(
      `--api (or EDGEPUSH_API) must be an http:// or https:// URL, e.g. http://${api.replace(/^\w+:\/\//, '')}; got ${JSON.stringify(api)}`,
    );
  }
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
    process.exitCode = isUsageError(err) ? EXIT_USAGE : EXIT_NEGATIVE;
  }
}

/** A usage error, or the API refusing the token (401/403): configuration to fix, not an outcome. */
function isUsageError(err: unknown): boolean {
  return err instanceof UsageError || (err instanceof ApiError && (err.status === 401 || err.status === 403));
}
