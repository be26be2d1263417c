/**
 * `npm run smoke:aws -- --profile P --region R`: the whole AWS path once, on a real account.
 * Deploys a throwaway stage (`-c removal=destroy`, so nothing is retained), creates an agent
 * with a SigV4-signed call, runs a local relay and an `hl7 listen` device, pushes one message,
 * checks the device's ACK comes back, and destroys the stage, even when a step fails.
 * CI cannot run it (no AWS account, loopback-only network); `--help` and the argument checks
 * run offline (test/cdk/smoke-aws.test.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';

const ROOT = path.join(__dirname, '..');
const CLI = path.join(ROOT, 'dist', 'edgepush.js');

const USAGE = `Usage: npm run smoke:aws -- --profile <profile> --region <region> [--stage <name>] [--keep]

Deploys EdgePush to a throwaway stage of your AWS account, creates an agent, runs a local relay
and a simulated device, pushes one HL7 message through AWS, checks the ACK, then destroys the
stage. Run "npx cdk bootstrap" for the profile and Region first. It creates billable
resources for a few minutes; CI cannot run it.

Options:
  --profile <profile>  AWS profile (credentials and account) to deploy with
  --region <region>    AWS Region, e.g. eu-west-1
  --stage <name>       stage name, lower-case letters and digits (default: smoke)
  --keep               do not destroy the stage at the end
  -h, --help           show this help
`;

export interface SmokeArgs {
  profile: string;
  region: string;
  stage: string;
  keep: boolean;
}

class UsageError extends Error {}

function parseArgs(argv: string[]): SmokeArgs | 'help' {
  const values: Record<string, string> = {};
  let keep = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') return 'help';
    if (arg === '--keep') {
      keep = true;
      continue;
    }
    const [flag, inline] = arg.split(/=(.*)/s, 2);
    if (!['--profile', '--region', '--stage'].includes(flag)) throw new UsageError(`unknown option ${arg}`);
    const value = inline ?? argv[++i];
    if (value === undefined || value.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    values[flag.slice(2)] = value;
  }
  const { profile, region, stage = 'smoke' } = values;
  if (!profile) throw new UsageError('--profile is required');
  if (!region) throw new UsageError('--region is required');
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) throw new UsageError(`--region must be an AWS Region such as eu-west-1, not ${region}`);
  if (!/^[a-z][a-z0-9]{0,15}$/.test(stage)) throw new UsageError(`--stage must be lower-case letters and digits, not ${stage}`);
  if (stage === 'prod' || stage === 'dev') throw new UsageError(`--stage ${stage} is a real stage; the smoke test destroys its stage`);
  return { profile, region, stage, keep };
}

function log(message: string): void {
  process.stderr.write(`smoke:aws: ${message}\n`);
}

/** Runs a command to completion, output passed through; rejects on a non-zero exit. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  log(`$ ${command} ${args.join(' ')}`);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args[0]} exited with ${code}`))));
  });
}

function bytes(data: string | ArrayBuffer | ArrayBufferView): string | Uint8Array {
  if (typeof data === 'string') return data;
  return ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
}

/** node:crypto as the checksum constructor SignatureV4 expects. */
class Sha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(bytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
}

/** A SigV4-signed call to the push API (IAM auth, the stack's default). */
async function signedFetch(signer: SignatureV4, method: string, url: URL, body?: unknown): Promise<{ status: number; json: unknown }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = { host: url.host };
  if (payload !== undefined) headers['content-type'] = 'application/json';
  const signed = await signer.sign({
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    path: url.pathname,
    headers,
    body: payload,
  });
  const res = await fetch(url, { method, headers: signed.headers, body: payload });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json };
}

/** Starts a long-running CLI process and resolves with the first stdout line matching `ready`. */
function startCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: RegExp,
  what: string,
): Promise<{ child: ChildProcess; match: RegExpMatchArray }> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start within 30 s`)), 30_000);
    child.on('exit', (code) => reject(new Error(`${what} exited with ${code}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const match = ready.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve({ child, match });
      }
    });
  });
}

async function waitFor<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 2000));
  }
  throw new Error(`${what}: not within ${ms / 1000} s`);
}

async function smoke(args: SmokeArgs): Promise<void> {
  const stackName = `EdgePush-${args.stage}`;
  // The CLI reads the profile and Region from these; the app binds the stack to them.
  const env = { ...process.env, AWS_PROFILE: args.profile, AWS_REGION: args.region, AWS_DEFAULT_REGION: args.region };
  const context = ['-c', `stage=${args.stage}`, '-c', 'removal=destroy'];
  const work = mkdtempSync(path.join(tmpdir(), 'edgepush-smoke-'));
  const children: ChildProcess[] = [];
  let deployed = false;
  try {
    await run('node', [path.join(ROOT, 'scripts', 'build.mjs')], env);
    const outputsFile = path.join(work, 'outputs.json');
    deployed = true; // a failed deploy can leave a stack behind: destroy in any case
    await run('npx', ['cdk', 'deploy', stackName, ...context, '--require-approval', 'never', '--outputs-file', outputsFile], env);
    const outputs = (JSON.parse(readFileSync(outputsFile, 'utf8')) as Record<string, Record<string, string>>)[stackName];
    const api = new URL(outputs.PushApiUrl);
    log(`push API ${api.href}, relay URL ${outputs.RelayWebSocketUrl}`);

    const signer = new SignatureV4({
      service: 'execute-api',
      region: args.region,
      credentials: defaultProvider({ profile: args.profile }),
      sha256: Sha256,
    });
    const agentId = `smoke-${randomBytes(4).toString('hex')}`;
    const created = await signedFetch(signer, 'POST', new URL('agents', api), { agentId });
    if (created.status !== 201) throw new Error(`POST /agents answered ${created.status}: ${JSON.stringify(created.json)}`);
    const secret = (created.json as { secret: string }).secret;
    log(`agent ${agentId} created`);

    const device = await startCli(['hl7', 'listen', '0', '--log-level', 'warn'], env, /on 127\.0\.0\.1:(\d+)/, 'the device (hl7 listen)');
    children.push(device.child);
    // The relay prints nothing on stdout when it connects: its agent's status says so.
    const relay = spawn(
      process.execPath,
      [CLI, 'relay', '--url', outputs.RelayWebSocketUrl, '--agent', agentId, '--device', `lab=mllp://127.0.0.1:${device.match[1]}`],
      { cwd: ROOT, env: { ...env, EDGEPUSH_AGENT_SECRET: secret }, stdio: ['ignore', 'inherit', 'inherit'] },
    );
    children.push(relay);
    await waitFor('the relay connects', 60_000, async () => {
      const res = await signedFetch(signer, 'GET', new URL(`agents/${agentId}`, api));
      return (res.json as { status?: string }).status === 'connected' ? true : undefined;
    });
    log('relay connected');

    const controlId = `SMOKE${Date.now()}`;
    const message = [
      `MSH|^~\\&|EDGEPUSH|SMOKE|LAB|LAB|${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}||ADT^A01|${controlId}|P|2.5`,
      'PID|1||SMOKE^^^EDGEPUSH||TEST^SMOKE',
    ].join('\r');
    const pushed = await signedFetch(signer, 'POST', new URL(`agents/${agentId}/push`, api), {
      destination: 'lab',
      body: message,
      waitTimeout: 20_000,
    });
    const push = pushed.json as { status?: string; ackCode?: string; response?: string };
    if (pushed.status !== 200 || push.status !== 'acked' || push.ackCode !== 'AA' || !push.response?.includes(controlId)) {
      throw new Error(
        `the push did not come back acked: ${pushed.status} ${JSON.stringify({ status: push.status, ackCode: push.ackCode })}`,
      );
    }
    log(`push acked (MSA|AA|${controlId}): the AWS path works`);
  } finally {
    for (const child of children) child.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
    if (deployed && !args.keep) {
      await run('npx', ['cdk', 'destroy', stackName, ...context, '--force'], env).catch((err: Error) =>
        log(`destroy failed (${err.message}); delete the stack ${stackName} by hand`),
      );
    }
  }
}

async function main(): Promise<number> {
  let args: SmokeArgs | 'help';
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`smoke:aws: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (args === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  try {
    await smoke(args);
    return 0;
  } catch (err) {
    log(`FAILED: ${(err as Error).message}`);
    return 1;
  }
}

void main().then((code) => process.exit(code));
