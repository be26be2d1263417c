/**
 * Real processes for the end-to-end suite: `edgepush hub`, `edgepush relay` and
 * `edgepush hl7 listen`, run from dist/edgepush.js (npm test builds it first) on loopback.
 * Every child is tracked and killed in stopAll(), so jest exits by itself.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const CLI = resolve(__dirname, '../../dist/edgepush.js');

export interface Proc {
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first stdout match of `pattern`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

const running = new Set<ChildProcessWithoutNullStreams>();

export function run(args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: 'pipe' });
  running.add(child);
  let out = '';
  let err = '';
  const waiters: (() => void)[] = [];
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    waiters.forEach((w) => w());
  });
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((res) =>
    child.once('exit', (code) => {
      running.delete(child);
      waiters.forEach((w) => w());
      res(code);
    }),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(pattern, timeoutMs = 10_000) {
      return new Promise((resolveMatch, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern} in:\n${out}\n${err.slice(-2000)}`)), timeoutMs);
        const check = (): void => {
          const m = out.match(pattern);
          if (m) {
            clearTimeout(timer);
            resolveMatch(m);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            clearTimeout(timer);
            reject(new Error(`process exited before ${pattern}:\n${out}\n${err.slice(-2000)}`));
          }
        };
        waiters.push(check);
        check();
      });
    },
  };
}

/** Runs a CLI command to completion. */
export async function runToEnd(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = run(args, env);
  const code = await p.exited;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

export async function stopAll(): Promise<void> {
  const children = [...running];
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((res) => {
          if (c.exitCode !== null || c.signalCode !== null) return res();
          c.once('exit', () => res());
          c.kill('SIGKILL');
        }),
    ),
  );
}

export function tempDir(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'edgepush-e2e-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export interface HubProc extends Proc {
  url: string;
  wsUrl: string;
}

export async function startHub(dataDir: string, port = 0): Promise<HubProc> {
  const p = run(['hub', '--port', String(port), '--data', dataDir, '--log-level', 'warn']);
  const [, url] = await p.waitFor(/Push API:\s+(http:\/\/\S+?)\/\s/);
  const [, wsUrl] = await p.waitFor(/Relay WebSocket:\s+(ws:\/\/\S+)/);
  return Object.assign(p, { url: url, wsUrl: wsUrl });
}

export async function startDevice(port = 0, ack: 'AA' | 'AE' | 'AR' = 'AA'): Promise<Proc & { port: number }> {
  const p = run(['hl7', 'listen', String(port), '--ack', ack, '--log-level', 'warn']);
  const [, actual] = await p.waitFor(/on 127\.0\.0\.1:(\d+)/);
  return Object.assign(p, { port: Number(actual) });
}

export function startRelay(wsUrl: string, agentId: string, secret: string, devices: Record<string, number>): Proc {
  const args = ['relay', '--url', wsUrl, '--agent', agentId, '--log-level', 'warn'];
  for (const [name, port] of Object.entries(devices)) args.push('--device', `${name}=mllp://127.0.0.1:${port}`);
  // The secret goes through the environment, as with systemd, not the process list.
  return run(args, { EDGEPUSH_AGENT_SECRET: secret });
}

export async function token(dataDir: string, scopes?: string[]): Promise<string> {
  const res = await runToEnd(['token', '--data', dataDir, ...(scopes ? ['--scope', ...scopes] : [])]);
  if (res.code !== 0) throw new Error(`token failed: ${res.stderr}`);
  return res.stdout.trim();
}

export interface Http {
  status: number;
  body: Record<string, any>;
  text: string;
  headers: Headers;
}

export async function http(url: string, init: { method?: string; token?: string; body?: unknown; raw?: string } = {}): Promise<Http> {
  const headers: Record<string, string> = {};
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.body !== undefined || init.raw !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, {
    method: init.method ?? (init.body !== undefined || init.raw !== undefined ? 'POST' : 'GET'),
    headers,
    body: init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body)),
  });
  const text = await res.text();
  let body: Record<string, any> = {};
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body, text, headers: res.headers };
}
