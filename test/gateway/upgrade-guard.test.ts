/**
 * Upgrade floods and backpressure on the WebSocket gateway (issue 9 #3 and #4), with real
 * sockets: a bounded number of secret checks at once, failure limits per source and agent id
 * answered 429/503 before any check, aggregated logs, paused reads, and unread clients closed.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { WebSocket } from 'ws';
import { startGatewayServer, type GatewayServer } from '../emulators/gateway-server';
import type { GatewayBackend, WsGatewayOptions } from '../../hub/gateway/ws-gateway';
import { memoryLogger } from '../relay/helpers';
import { sleep } from '../support/wait';

interface Backend extends GatewayBackend {
  authorizations: number;
  /** Resolves authorisations held back by `holdAuth`. */
  releaseAuth(): void;
  holdAuth: boolean;
  messages: number;
  maxConcurrentMessages: number;
  holdMessages: boolean;
  releaseMessages(): void;
}

function backend(): Backend {
  let authWaiters: (() => void)[] = [];
  let messageWaiters: (() => void)[] = [];
  let running = 0;
  const b: Backend = {
    authorizations: 0,
    holdAuth: false,
    messages: 0,
    maxConcurrentMessages: 0,
    holdMessages: false,
    releaseAuth() {
      b.holdAuth = false;
      authWaiters.forEach((w) => w());
      authWaiters = [];
    },
    releaseMessages() {
      b.holdMessages = false;
      messageWaiters.forEach((w) => w());
      messageWaiters = [];
    },
    async authorize(headers: IncomingHttpHeaders) {
      b.authorizations++;
      if (b.holdAuth) await new Promise<void>((r) => authWaiters.push(r));
      const id = headers['x-edgepush-agent-id'];
      return typeof id === 'string' && headers['x-edgepush-agent-secret'] === `secret-of-${id}` ? { agentId: id } : undefined;
    },
    async connect() {},
    async message() {
      b.messages++;
      running++;
      b.maxConcurrentMessages = Math.max(b.maxConcurrentMessages, running);
      if (b.holdMessages) await new Promise<void>((r) => messageWaiters.push(r));
      running--;
    },
    async disconnect() {},
  };
  return b;
}

/** The HTTP status of an upgrade attempt (101 when it opened; the socket is then closed). */
function attempt(url: string, agentId: string, secret: string): Promise<{ status: number; retryAfter?: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers: { 'x-edgepush-agent-id': agentId, 'x-edgepush-agent-secret': secret } });
    ws.once('open', () => {
      ws.close();
      resolve({ status: 101 });
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode!, retryAfter: res.headers['retry-after'] });
      res.resume();
    });
    ws.once('error', () => undefined);
  });
}

describe('gateway upgrade guard', () => {
  let server: GatewayServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function start(b: Backend, options: Partial<WsGatewayOptions>) {
    server = await startGatewayServer({
      backend: b,
      claimedAgentId: (h) => h['x-edgepush-agent-id'] as string | undefined,
      ...options,
    });
    return server;
  }

  it('runs at most maxConcurrent secret checks and answers 503 at once beyond them', async () => {
    const b = backend();
    b.holdAuth = true;
    const { wsUrl } = await start(b, { upgradeGuard: { maxConcurrent: 2 } });
    const held = [attempt(wsUrl, 'a1', 'secret-of-a1'), attempt(wsUrl, 'a2', 'secret-of-a2')];
    while (b.authorizations < 2) await sleep(5);
    expect(await attempt(wsUrl, 'a3', 'secret-of-a3')).toEqual({ status: 503, retryAfter: '5' });
    expect(b.authorizations).toBe(2);
    b.releaseAuth();
    expect((await Promise.all(held)).map((r) => r.status)).toEqual([101, 101]);
    expect((await attempt(wsUrl, 'a3', 'secret-of-a3')).status).toBe(101);
  });

  it('answers 429 without checking the secret once a source failed too often, but lets a relay that authenticated from there in', async () => {
    const b = backend();
    const log = memoryLogger();
    const { wsUrl } = await start(b, {
      logger: log.logger,
      upgradeGuard: { maxFailuresPerSource: 3, maxFailuresPerTrustedPair: 2, logIntervalMs: 100 },
    });
    expect((await attempt(wsUrl, 'real', 'secret-of-real')).status).toBe(101);
    for (let i = 0; i < 3; i++) expect((await attempt(wsUrl, `bogus-${i}`, 'nope')).status).toBe(401);
    const before = b.authorizations;
    for (let i = 0; i < 20; i++) expect(await attempt(wsUrl, `bogus-x${i}`, 'nope')).toEqual({ status: 429, retryAfter: '60' });
    expect(b.authorizations).toBe(before);
    // The real relay, from the same address, still gets in; wrong secrets for it stop after a few.
    expect((await attempt(wsUrl, 'real', 'secret-of-real')).status).toBe(101);
    for (let i = 0; i < 2; i++) expect((await attempt(wsUrl, 'real', 'wrong')).status).toBe(401);
    expect((await attempt(wsUrl, 'real', 'wrong')).status).toBe(429);

    // One summary line for the whole flood, none per attempt.
    await sleep(250);
    const lines = log.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => (l.level as number) >= 30);
    const summaries = lines.filter((l) => /upgrades refused/.test(l.msg as string));
    // One line per 100 ms interval at most (the flood takes a few of them), never one per attempt.
    expect(summaries.length).toBeGreaterThanOrEqual(1);
    expect(summaries.length).toBeLessThan(8);
    const total = (key: string) => summaries.reduce((n, l) => n + (l[key] as number), 0);
    expect([total('failed'), total('rateLimited'), total('busy')]).toEqual([5, 21, 0]);
    expect(summaries.every((l) => l.level === 40)).toBe(true);
    expect(lines.filter((l) => /unauthori[sz]ed/i.test(l.msg as string))).toEqual([]);
  });

  it('answers 429 for an agent id that failed too often, from any address', async () => {
    const b = backend();
    const { wsUrl } = await start(b, { upgradeGuard: { maxFailuresPerSource: 1000, maxFailuresPerAgent: 2 } });
    expect((await attempt(wsUrl, 'victim', 'guess-1')).status).toBe(401);
    expect((await attempt(wsUrl, 'victim', 'guess-2')).status).toBe(401);
    expect((await attempt(wsUrl, 'victim', 'guess-3')).status).toBe(429);
    expect((await attempt(wsUrl, 'other', 'secret-of-other')).status).toBe(101);
  });
});

describe('gateway backpressure', () => {
  let server: GatewayServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('stops reading a connection with maxInFlight unhandled messages, and handles every message in the end', async () => {
    const b = backend();
    b.holdMessages = true;
    server = await startGatewayServer({ backend: b, maxInFlight: 8 });
    const ws = new WebSocket(server.wsUrl, { headers: { 'x-edgepush-agent-id': 'a1', 'x-edgepush-agent-secret': 'secret-of-a1' } });
    await new Promise((r) => ws.once('open', r));
    for (let i = 0; i < 2000; i++) ws.send(JSON.stringify({ action: 'heartbeat', v: 1 }));
    await sleep(300);
    expect(b.maxConcurrentMessages).toBeLessThanOrEqual(8);
    expect(b.messages).toBeLessThanOrEqual(8);
    b.releaseMessages();
    const end = Date.now() + 5000;
    while (b.messages < 2000 && Date.now() < end) await sleep(10);
    expect(b.messages).toBe(2000);
    ws.close();
  });

  it('closes a client that does not read what it is sent (1008), instead of buffering it', async () => {
    const b = backend();
    server = await startGatewayServer({ backend: b, maxBufferedBytes: 256 * 1024 });
    const ws = new WebSocket(server.wsUrl, { headers: { 'x-edgepush-agent-id': 'a1', 'x-edgepush-agent-secret': 'secret-of-a1' } });
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    await new Promise((r) => ws.once('open', r));
    ws.pause();
    const [id] = server.gateway.connectionIds();
    const big = 'x'.repeat(100 * 1024);
    let answer: string = 'ok';
    let sent = 0;
    for (; sent < 1000 && answer === 'ok'; sent++) answer = await Promise.race([server.gateway.post(id, big), sleep(5).then(() => 'ok')]);
    expect(answer).toBe('gone');
    expect(sent).toBeLessThan(1000);
    ws.resume();
    expect(await closed).toBe(1008);
  });
});
