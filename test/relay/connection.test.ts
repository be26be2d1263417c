import { WebSocketServer } from 'ws';
import { ChunkAssembler, cloudWireMessages, sha256Hex } from '../../protocol/chunks';
import { CHUNK_DATA_BYTES, MAX_CHUNKED_MESSAGE_BYTES } from '../../protocol/limits';
import { MAX_FRAME_BYTES, BASE_MESSAGE_VERSION } from '../../protocol/messages';
import { CloudConnection, type CloudConnectionOptions } from '../../edge-agent/relay/cloud-connection';
import { MessageTooLargeError } from '../../edge-agent/relay/frame-sender';
import { FakeCloud } from './fake-cloud';
import { startFrameMeter } from './frame-meter';
import { freePort } from '../support/free-port';
import { sleep, waitFor } from '../support/wait';
import { memoryLogger } from './helpers';

const heartbeat = JSON.stringify({ action: 'heartbeat', v: BASE_MESSAGE_VERSION });
const hello = JSON.stringify({ action: 'hello', v: BASE_MESSAGE_VERSION, version: 't', devices: ['lab'] });

function connection(url: string, over: Partial<CloudConnectionOptions> = {}): CloudConnection {
  const conn = new CloudConnection({
    url,
    agentId: 'agent-1',
    secret: 's3cret',
    heartbeatIntervalMs: 60_000,
    heartbeatTimeoutMs: 20_000,
    maxConnectionAgeMs: 60 * 60_000,
    reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
    heartbeat,
    logger: memoryLogger().logger,
    ...over,
  });
  conn.on('open', () => conn.send(hello));
  return conn;
}

describe('CloudConnection', () => {
  let cloud: FakeCloud | undefined;
  let conn: CloudConnection | undefined;
  afterEach(async () => {
    await conn?.stop();
    await cloud?.close();
    conn = cloud = undefined;
  });

  it('authenticates with headers on the upgrade and never puts the secret in the URL', async () => {
    cloud = await FakeCloud.start();
    conn = connection(cloud.url);
    conn.start();
    await cloud.waitFor(() => cloud!.count('hello') === 1, 5_000, 'hello');
    const up = cloud.upgrades[0];
    expect(up.headers['x-edgepush-agent-id']).toBe('agent-1');
    expect(up.headers['x-edgepush-agent-secret']).toBe('s3cret');
    expect(up.headers['x-edgepush-protocol']).toBe('2');
    expect(up.url).toBe('/ws');
    expect(up.url).not.toContain('s3cret');
  });

  it('keeps retrying with backoff when the secret is refused, and says it is the credentials', async () => {
    cloud = await FakeCloud.start({ secret: 'other' });
    const log = memoryLogger();
    conn = connection(cloud.url, { logger: log.logger });
    conn.start();
    await cloud.waitFor(() => cloud!.upgrades.length >= 3, 5_000, 'three upgrade attempts');
    expect(cloud.connections).toBe(0);
    expect(conn.isOpen).toBe(false);
    const refusals = log.lines.map((l) => JSON.parse(l)).filter((l) => l.level === 50);
    expect(refusals.length).toBeGreaterThanOrEqual(1);
    expect(refusals[0]).toMatchObject({ status: 401, agentId: 'agent-1' });
    expect(refusals[0].msg).toMatch(/refused this relay's agent id or secret/);
    expect(log.lines.join('\n')).not.toContain('s3cret');
  });

  it('reconnects with backoff when the cloud is down at start', async () => {
    const port = await freePort();
    conn = connection(`ws://127.0.0.1:${port}/ws`);
    conn.start();
    await sleep(300);
    const failedAttempts = conn.attempts;
    expect(failedAttempts).toBeGreaterThanOrEqual(2);
    // Backoff grows: with a 20 ms start and a 200 ms cap, 300 ms allows only a handful, not hundreds.
    expect(failedAttempts).toBeLessThan(15);
    cloud = await FakeCloud.start({ port });
    await cloud.waitFor(() => cloud!.count('hello') === 1, 5_000, 'hello after the cloud came up');
    expect(conn.isOpen).toBe(true);
  });

  it('sends heartbeats and drops a connection that stops answering', async () => {
    cloud = await FakeCloud.start();
    conn = connection(cloud.url, { heartbeatIntervalMs: 50, heartbeatTimeoutMs: 100 });
    const closes: number[] = [];
    conn.on('close', ({ code }) => closes.push(code));
    conn.start();
    await cloud.waitFor(() => cloud!.count('heartbeat') >= 3, 5_000, 'heartbeats');
    expect(cloud.connections).toBe(1); // answered heartbeats keep it alive
    cloud.answerHeartbeats = false;
    await cloud.waitFor(() => cloud!.connections === 2, 5_000, 'a reconnect after the silence');
    expect(closes).toEqual([1006]); // terminated by the relay, no close handshake
  });

  it('rotates the connection on its own before the maximum age', async () => {
    cloud = await FakeCloud.start();
    conn = connection(cloud.url, { maxConnectionAgeMs: 300 });
    conn.start();
    await cloud.waitFor(() => cloud!.count('hello') >= 3, 5_000, 'two rotations');
    expect(cloud.connections).toBeGreaterThanOrEqual(3);
  });

  it('sends a 64 KB message as frames of at most 32 KB, intact', async () => {
    cloud = await FakeCloud.start();
    const meter = await startFrameMeter(cloud.port);
    try {
      conn = connection(`ws://127.0.0.1:${meter.port}/ws`);
      conn.start();
      await cloud.waitFor(() => cloud!.count('hello') === 1, 5_000, 'hello');
      // Multi-byte characters make sure splitting never cuts a UTF-8 sequence the receiver would reject.
      const response = 'MSH|^~\\&|LAB\rMSA|AA|1\rNTE|1||' + 'é€'.repeat(13_200);
      const result = { action: 'result', v: 1, pushId: 'big', status: 'acked', ackCode: 'AA', response };
      const text = JSON.stringify(result);
      expect(Buffer.byteLength(text)).toBeGreaterThan(64 * 1024);
      expect(conn.send(text)).toBe(true);
      await cloud.waitFor(() => cloud!.results('big').length === 1, 5_000, 'the big result');
      expect(cloud.results('big')[0].response).toBe(response);
      const frames = meter.parsers[0].frames;
      expect(Math.max(...frames.map((f) => f.frameBytes))).toBeLessThanOrEqual(MAX_FRAME_BYTES);
      const big = frames.slice(1); // frames[0] is the hello
      expect(big.length).toBe(Math.ceil(Buffer.byteLength(text) / (MAX_FRAME_BYTES - 14)));
      expect(big[0]).toMatchObject({ opcode: 1, fin: false }); // text, then continuations
      expect(big.slice(1).every((f) => f.opcode === 0)).toBe(true);
      expect(big.map((f) => f.fin)).toEqual(big.map((_, i) => i === big.length - 1));
      expect(big.reduce((n, f) => n + f.payloadBytes, 0)).toBe(Buffer.byteLength(text));
    } finally {
      await conn?.stop();
      await meter.close();
    }
  });

  it('sends a message over 128 KB as chunk messages (frames of at most 32 KB) that join to the original', async () => {
    cloud = await FakeCloud.start();
    const meter = await startFrameMeter(cloud.port);
    try {
      conn = connection(`ws://127.0.0.1:${meter.port}/ws`);
      conn.start();
      await cloud.waitFor(() => cloud!.count('hello') === 1, 5_000, 'hello');
      const text = JSON.stringify({ action: 'heartbeat', v: 1, padding: 'é€🧪'.repeat(60_000) });
      expect(conn.send(text)).toBe(true);
      const count = Math.ceil(Buffer.byteLength(text) / CHUNK_DATA_BYTES);
      await cloud.waitFor(() => cloud!.count('chunk') === count, 5_000, 'all chunks');
      expect(cloud.invalid).toEqual([]);
      const assembler = new ChunkAssembler();
      const joined = cloud.received.filter((m) => m.action === 'chunk').map((m) => assembler.add(m));
      expect(joined[joined.length - 1]).toStrictEqual({ complete: true, text });
      expect(Math.max(...meter.parsers[0].frames.map((f) => f.frameBytes))).toBeLessThanOrEqual(MAX_FRAME_BYTES);
    } finally {
      await conn?.stop();
      await meter.close();
    }
  });

  it('refuses a message over the chunked limit before writing anything', async () => {
    cloud = await FakeCloud.start();
    conn = connection(cloud.url);
    conn.start();
    await cloud.waitFor(() => cloud!.count('hello') === 1, 5_000, 'hello');
    expect(() => conn!.send('x'.repeat(MAX_CHUNKED_MESSAGE_BYTES + 1))).toThrow(MessageTooLargeError);
    // Still usable afterwards.
    expect(conn.send(heartbeat)).toBe(true);
    await cloud.waitFor(() => cloud!.count('heartbeat') === 1, 5_000, 'heartbeat');
    expect(cloud.invalid).toEqual([]);
    expect(cloud.count('chunk')).toBe(0);
  });

  it("joins the cloud's chunks into one message; a bad chunk is logged and dropped, the rest goes on", async () => {
    cloud = await FakeCloud.start();
    const log = memoryLogger();
    conn = connection(cloud.url, { logger: log.logger });
    const got: [string, boolean][] = [];
    // Digests, not texts: a failure must not print 400 KB.
    conn.on('message', (text, reassembled) => {
      if (!text.includes('helloAck')) got.push([sha256Hex(Buffer.from(text)), reassembled]);
    });
    conn.start();
    await cloud.waitFor(() => cloud!.count('hello') === 1, 5_000, 'hello');
    const push = JSON.stringify({
      type: 'push',
      v: 1,
      pushId: 'p',
      destination: 'lab',
      contentType: 'x',
      body: 'Ü'.repeat(200_000),
      returnAck: 'first',
      expiresAt: 1,
    });
    const wire = cloudWireMessages(push);
    const bad = JSON.parse(wire[0]) as Record<string, unknown>;
    cloud.current!.send(JSON.stringify({ ...bad, chunkId: 'other', data: 'not base64!' }));
    for (const part of [...wire].reverse()) cloud.current!.send(part);
    cloud.current!.send(JSON.stringify({ type: 'heartbeatAck', v: 1 }));
    await waitFor(() => got.length >= 2, 5_000, 'two messages');
    expect(got).toStrictEqual([
      [sha256Hex(Buffer.from(push)), true],
      [sha256Hex(Buffer.from('{"type":"heartbeatAck","v":1}')), false],
    ]);
    const warn = log.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'chunk from cloud refused');
    expect(warn).toMatchObject({ code: 'CHUNK_INVALID', chunkId: 'other' });
    expect(log.lines.join('\n')).not.toContain('ÜÜ');
  });

  it('returns false from send() while disconnected', () => {
    conn = connection('ws://127.0.0.1:1/ws');
    expect(conn.send(heartbeat)).toBe(false);
  });
});

describe('CloudConnection refused because another relay of the agent is live', () => {
  let server: WebSocketServer | undefined;
  let conn: CloudConnection | undefined;
  afterEach(async () => {
    await conn?.stop();
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    conn = server = undefined;
  });

  /** A cloud that refuses every connection: `close` closes with 4409 (the hub), `upgrade` answers 409 (API Gateway). */
  async function refusingCloud(how: 'close' | 'upgrade') {
    const upgrades: (string | undefined)[] = [];
    server = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      verifyClient: (
        info: { req: { headers: Record<string, string | string[] | undefined> } },
        done: (ok: boolean, code?: number) => void,
      ) => {
        upgrades.push(info.req.headers['x-edgepush-relay-instance'] as string | undefined);
        done(how === 'close', 409);
      },
    });
    server.on('connection', (ws) => ws.close(4409, 'agent already connected'));
    await new Promise((r) => server!.once('listening', r));
    return { url: `ws://127.0.0.1:${(server.address() as { port: number }).port}/ws`, upgrades };
  }

  it.each(['close', 'upgrade'] as const)('logs an error and backs off for the conflict delay, not the short backoff (%s)', async (how) => {
    const cloud = await refusingCloud(how);
    const log = memoryLogger();
    conn = connection(cloud.url, { logger: log.logger, conflictRetryMs: 1_000, random: () => 0 });
    conn.start();
    await waitUntil(() => cloud.upgrades.length === 1);
    // The normal backoff here is 20 ms: without the conflict rule it would have retried many times.
    await sleep(500);
    expect(cloud.upgrades).toHaveLength(1);
    const errors = log.lines.map((l) => JSON.parse(l)).filter((l) => l.level === 50);
    expect(errors).toEqual([expect.objectContaining({ agentId: 'agent-1', retryInMs: 750, msg: expect.stringMatching(/another relay/) })]);
    await waitUntil(() => cloud.upgrades.length === 2, 2_000);
    // One relay process, one instance id, on every attempt.
    expect(cloud.upgrades[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(cloud.upgrades[1]).toBe(cloud.upgrades[0]);
  });
});

async function waitUntil(check: () => boolean, ms = 3_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(10);
  }
}
