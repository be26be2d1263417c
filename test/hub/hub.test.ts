/**
 * The hub as `edgepush hub` (a child process: jose is ESM-only and jest's module loader cannot
 * import it): auth, the request cap, its key file, and relay auth on the WebSocket.
 */
import { sign as cryptoSign } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { startHub as startHubProcess, stopAll, runToEnd, type HubProc } from '../e2e/harness';
import { requestBytesFor } from '../../hub/http-server';
import { MAX_BODY_BYTES } from '../../protocol/limits';
import { tempDir } from './fixtures';

/** The request cap of a hub with the default largest body (10 MB). */
const REQUEST_CAP = requestBytesFor(MAX_BODY_BYTES);

type Hub = HubProc & { close(): Promise<void> };
async function startHub(options: { port: number; dataDir: string; sync?: string }): Promise<Hub> {
  const proc = await startHubProcess(options.dataDir, options.port);
  return Object.assign(proc, {
    close: async () => {
      proc.child.kill('SIGTERM');
      await proc.exited;
    },
  });
}

const keyFile = (dataDir: string) =>
  join(
    dataDir,
    readdirSync(dataDir).find((f) => f.endsWith('.key.pem'))!,
  );
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** Signs a JWT by hand with the hub's key (node:crypto), to craft tokens `edgepush token` never makes. */
function handToken(dataDir: string, claims: Record<string, unknown>, alg = 'ES256'): string {
  const input = `${b64({ alg, typ: 'JWT' })}.${b64(claims)}`;
  const sig = cryptoSign('sha256', Buffer.from(input), { key: readFileSync(keyFile(dataDir), 'utf8'), dsaEncoding: 'ieee-p1363' });
  return `${input}.${sig.toString('base64url')}`;
}

async function mintToken(dataDir: string, scopes?: string[]): Promise<string> {
  const res = await runToEnd(['token', '--data', dataDir, ...(scopes ? ['--scope', ...scopes] : [])]);
  if (res.code !== 0) throw new Error(res.stderr);
  return res.stdout.trim();
}

async function call(url: string, init: { method?: string; token?: string; body?: string } = {}) {
  const res = await fetch(url, {
    method: init.method ?? (init.body ? 'POST' : 'GET'),
    headers: {
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: init.body,
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

describe('hub (edgepush hub process)', () => {
  const dir = tempDir();
  let hub: Hub;
  let token: string;
  beforeAll(async () => {
    hub = await startHub({ port: 0, dataDir: dir.path });
    token = await mintToken(dir.path);
  });
  afterAll(async () => {
    await stopAll();
    dir.remove();
  });

  it('keeps its signing key private (0600) and reuses it', async () => {
    expect(statSync(keyFile(dir.path)).mode & 0o777).toBe(0o600);
    expect(statSync(dir.path).mode & 0o077).toBe(0);
    expect((await call(`${hub.url}/agents`, { token: await mintToken(dir.path), body: '{"agentId":"k1"}' })).status).toBe(201);
  });

  it('401 without a token, with garbage, with an expired token, with a token of the wrong algorithm or audience', async () => {
    const url = `${hub.url}/agents/x`;
    const now = Math.floor(Date.now() / 1000);
    const base = { iss: 'edgepush-hub', aud: 'edgepush', scope: 'edgepush/admin' };
    // The hand-made token is accepted when its claims are right, so the 401s below are about the claims.
    expect((await call(url, { token: handToken(dir.path, { ...base, exp: now + 600 }) })).status).toBe(404);
    const none = await call(url);
    expect(none).toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED', error: expect.stringContaining('Bearer') } });
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await call(url, { token: 'not.a.jwt' })).status).toBe(401);
    expect((await call(url, { token: handToken(dir.path, { ...base, exp: now - 60 }) })).body).toMatchObject({
      code: 'UNAUTHORIZED',
      error: 'token expired',
    });
    expect((await call(url, { token: handToken(dir.path, { ...base, aud: 'other', exp: now + 600 }) })).status).toBe(401);
    expect((await call(url, { token: handToken(dir.path, { ...base }) })).status).toBe(401); // no exp
    expect((await call(url, { token: handToken(dir.path, { ...base, exp: now + 600 }, 'HS256') })).status).toBe(401);
  });

  it("403 when the token lacks the route's scope; FHIR route errors are OperationOutcome", async () => {
    const pushOnly = await mintToken(dir.path, ['edgepush/push']);
    expect((await call(`${hub.url}/agents`, { token: pushOnly, body: '{"agentId":"nope"}' })).body).toMatchObject({ code: 'FORBIDDEN' });
    const fhir = await call(`${hub.url}/fhir/R4/Agent/a1/$push`, { body: '{}' });
    expect(fhir.status).toBe(401);
    expect(fhir.body.resourceType).toBe('OperationOutcome');
    await expect(mintToken(dir.path, ['edgepush/root'])).rejects.toThrow(/unknown scope/);
  });

  it('/health needs no token; an unknown route is 404 without a token', async () => {
    expect((await call(`${hub.url}/health`)).status).toBe(200);
    expect((await call(`${hub.url}/nothing-here`)).status).toBe(404);
  });

  it("413 for a chunked body over the hub's request cap, without reading it all, and the hub keeps serving", async () => {
    const { port } = new URL(hub.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/agents/a1/push',
          headers: { authorization: `Bearer ${token}`, 'transfer-encoding': 'chunked' },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode!);
          req.destroy();
        },
      );
      req.on('error', reject);
      const chunk = Buffer.alloc(64 * 1024, 120);
      let sent = 0;
      const pump = (): void => {
        while (sent < REQUEST_CAP + 4 * 1024 * 1024) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    expect(status).toBe(413);
    const declared = await call(`${hub.url}/agents/a1/push`, { token, body: 'x'.repeat(REQUEST_CAP + 1) });
    expect(declared).toMatchObject({ status: 413, body: { code: 'PAYLOAD_TOO_LARGE' } });
    expect((await call(`${hub.url}/health`)).status).toBe(200);
  });

  it('refuses a relay with a wrong secret at the WebSocket upgrade (401), accepts the right one', async () => {
    const created = await call(`${hub.url}/agents`, { token, body: '{"agentId":"ws-site"}' });
    const secret = created.body.secret as string;
    const attempt = (s: string) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(hub.wsUrl, { headers: { 'x-edgepush-agent-id': 'ws-site', 'x-edgepush-agent-secret': s } });
        ws.once('open', () => {
          ws.close();
          resolve(101);
        });
        ws.once('unexpected-response', (_req, res) => resolve(res.statusCode!));
        ws.once('error', () => undefined);
      });
    expect(await attempt('wrong')).toBe(401);
    expect(await attempt(secret)).toBe(101);
  });

  it('refuses a result for a push that was never dispatched to this relay, and the relay stays connected', async () => {
    const created = await call(`${hub.url}/agents`, { token, body: '{"agentId":"rogue-site"}' });
    const ws = new WebSocket(hub.wsUrl, {
      headers: { 'x-edgepush-agent-id': 'rogue-site', 'x-edgepush-agent-secret': created.body.secret as string },
    });
    await new Promise((r) => ws.once('open', r));
    const reply = new Promise<Record<string, unknown>>((r) => ws.once('message', (d) => r(JSON.parse(d.toString()))));
    ws.send(JSON.stringify({ action: 'result', v: 1, pushId: 'not-mine', status: 'acked', ackCode: 'AA' }));
    expect(await reply).toMatchObject({ type: 'error' });
    const junk = new Promise<Record<string, unknown>>((r) => ws.once('message', (d) => r(JSON.parse(d.toString()))));
    ws.send('{{{ junk');
    expect(await junk).toMatchObject({ type: 'error', code: 'MALFORMED_JSON' });
    expect(ws.readyState).toBe(WebSocket.OPEN);
    ws.close();
  });
});

describe('hub data dir', () => {
  it('a second start on the same data dir finds the agents and forgets stale connections', async () => {
    const dir = tempDir();
    try {
      let hub = await startHub({ port: 0, dataDir: dir.path });
      const token = await mintToken(dir.path);
      const created = await call(`${hub.url}/agents`, { token, body: '{"agentId":"again"}' });
      const ws = new WebSocket(hub.wsUrl, {
        headers: { 'x-edgepush-agent-id': 'again', 'x-edgepush-agent-secret': created.body.secret as string },
      });
      await new Promise((r) => ws.once('open', r));
      ws.terminate();
      await hub.close();
      hub = await startHub({ port: 0, dataDir: join(dir.path) });
      expect((await call(`${hub.url}/agents/again`, { token })).body).toMatchObject({ agentId: 'again', status: 'disconnected' });
      await hub.close();
    } finally {
      dir.remove();
    }
  });
});

describe('hub shutdown', () => {
  it('stops at once on SIGTERM while a request waits for a result, answering it 504 (the push continues after a restart)', async () => {
    const dir = tempDir();
    try {
      const hub = await startHubProcess(dir.path, 0);
      const token = await mintToken(dir.path);
      expect((await call(`${hub.url}/agents`, { token, body: JSON.stringify({ agentId: 'offline' }) })).status).toBe(201);
      // The agent never connects: the request waits up to its waitTimeout (20 s).
      const waiting = call(`${hub.url}/agents/offline/push`, {
        token,
        body: JSON.stringify({ destination: 'lab', body: 'MSH|^~\\&|A|B|C|D|2024||ADT^A01|W1|P|2.5\r', waitTimeout: 20_000 }),
      });
      await new Promise((r) => setTimeout(r, 500));
      const t0 = Date.now();
      hub.child.kill('SIGTERM');
      const [code, answer] = await Promise.all([hub.exited, waiting.catch((err: unknown) => err)]);
      expect(Date.now() - t0).toBeLessThan(5_000);
      expect(code).toBe(0);
      expect(answer).toMatchObject({ status: 504, body: { status: 'queued' } });
      expect(hub.stderr()).not.toMatch(/closed database/);
    } finally {
      await stopAll();
      dir.remove();
    }
  }, 30_000);
});
