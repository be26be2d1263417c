/**
 * `edgepush agent|push --sigv4` as users run it: the built CLI in a child process, credentials
 * from the standard AWS chain (here its first link, AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
 * AWS_SESSION_TOKEN), against a local HTTP server that checks each request's Authorization header
 * against a signature it computes itself, by the SigV4 steps of AWS's documentation
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html), with the same
 * credentials.
 */
import { spawn } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CLI = join(__dirname, '../../dist/edgepush.js');
const CREDS = { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

interface Seen {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  expectedSignature: string;
}

let server: Server;
let api: string;
let home: string;
const seen: Seen[] = [];

const sha256 = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/** SigV4 by the documented steps, from what arrived on the wire. */
function expectedSignature(req: IncomingMessage, body: string, secret: string): string {
  const auth = String(req.headers.authorization);
  const [, scope, signedHeaders] = /Credential=[^/]+\/([^,]+), SignedHeaders=([^,]+),/.exec(auth)!;
  const [date, region, service] = scope.split('/');
  const url = new URL(req.url!, 'http://placeholder');
  const query = [...url.searchParams]
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .sort()
    .join('&');
  const canonicalHeaders = signedHeaders
    .split(';')
    .map((name) => `${name}:${String(req.headers[name]).trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  const payloadHash = (req.headers['x-amz-content-sha256'] as string | undefined) ?? sha256(body);
  const canonicalRequest = [req.method, url.pathname, query, canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', String(req.headers['x-amz-date']), scope, sha256(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
  return createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
}

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'edgepush-sigv4-'));
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({
        method: req.method!,
        path: req.url!,
        headers: req.headers,
        body,
        expectedSignature: expectedSignature(req, body, CREDS.AWS_SECRET_ACCESS_KEY),
      });
      const reply = req.url === '/agents' ? { agentId: 'site-s', secret: 'x' } : { pushId: 'p-1', status: 'queued', attempts: 0 };
      res.writeHead(req.url === '/agents' ? 201 : 202, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(home, { recursive: true, force: true });
});

function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // HOME points at an empty dir: no ~/.aws config to pick up, only what the test gives.
  const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', HOME: home, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

const AUTH =
  /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/(\d{8})\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;

it('agent create --sigv4 signs the request with the credential chain, as AWS computes it', async () => {
  seen.length = 0;
  const out = await cli(['agent', 'create', 'site-s', '--api', api, '--sigv4', '--region', 'eu-west-1'], CREDS);
  expect(out.stderr).toBe('');
  expect(out.code).toBe(0);
  expect(seen).toHaveLength(1);
  const req = seen[0];
  const match = AUTH.exec(String(req.headers.authorization));
  expect(match).not.toBeNull();
  const [, date, signedHeaders, signature] = match!;
  expect(signedHeaders.split(';')).toEqual(expect.arrayContaining(['host', 'x-amz-date']));
  expect(String(req.headers['x-amz-date'])).toMatch(new RegExp(`^${date}T\\d{6}Z$`));
  expect(signature).toBe(req.expectedSignature);
  expect(JSON.parse(req.body)).toEqual({ agentId: 'site-s' });
});

it('push --sigv4 signs a POST with a body and carries a session token; the Region can come from AWS_REGION', async () => {
  seen.length = 0;
  const out = await cli(['push', 'site-s', 'lab', '--generate-example', '--no-wait', '--api', api, '--sigv4'], {
    ...CREDS,
    AWS_SESSION_TOKEN: 'session-token-example',
    AWS_REGION: 'eu-west-1',
  });
  expect(out.code).toBe(0);
  const req = seen[0];
  expect(req.path).toBe('/agents/site-s/push');
  const [, , signedHeaders, signature] = AUTH.exec(String(req.headers.authorization))!;
  expect(req.headers['x-amz-security-token']).toBe('session-token-example');
  expect(signedHeaders.split(';')).toContain('x-amz-security-token');
  expect(signature).toBe(req.expectedSignature);
});

it('a tampered signature does not match: the independent check is real', async () => {
  seen.length = 0;
  await cli(['agent', 'create', 'site-s', '--api', api, '--sigv4', '--region', 'eu-west-1'], {
    ...CREDS,
    AWS_SECRET_ACCESS_KEY: 'a-different-secret',
  });
  expect(AUTH.exec(String(seen[0].headers.authorization))![3]).not.toBe(seen[0].expectedSignature);
});

it('without credentials, --sigv4 fails with the credential chain’s error and sends nothing', async () => {
  seen.length = 0;
  const out = await cli(['agent', 'get', 'site-s', '--api', api, '--sigv4', '--region', 'eu-west-1'], {
    AWS_EC2_METADATA_DISABLED: 'true',
  });
  expect(out.code).toBe(1);
  expect(out.stderr).toMatch(/credential/i);
  expect(seen).toHaveLength(0);
});
