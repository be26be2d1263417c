import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  GoneException,
  PayloadTooLargeException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import type { IncomingHttpHeaders } from 'node:http';
import { WebSocket } from 'ws';
import { FrameScanner } from '../../hub/gateway/frame-scanner';
import { startGatewayServer, type GatewayServer } from '../emulators/gateway-server';
import { PayloadTooLargeError, type ConnectionContext, type GatewayBackend } from '../../hub/gateway/ws-gateway';
import { RELAY_ACTIONS } from '../../protocol/relay-routes';
import { waitFor } from '../support/wait';

type Event =
  | { kind: 'connect'; id: string; ctx: ConnectionContext }
  | { kind: 'message'; id: string; raw: string; routeKey: string }
  | { kind: 'disconnect'; id: string };

/** A backend that records what the gateway calls, and accepts agent "a1" with secret "s1". */
function recordingBackend() {
  const events: Event[] = [];
  const backend: GatewayBackend = {
    async authorize(headers: IncomingHttpHeaders) {
      return headers['x-edgepush-agent-id'] === 'a1' && headers['x-edgepush-agent-secret'] === 's1' ? { agentId: 'a1' } : undefined;
    },
    async connect(id, ctx) {
      events.push({ kind: 'connect', id, ctx });
    },
    async message(id, _ctx, raw, routeKey) {
      events.push({ kind: 'message', id, raw, routeKey });
    },
    async disconnect(id) {
      events.push({ kind: 'disconnect', id });
    },
  };
  return { events, backend };
}

const GOOD = { 'x-edgepush-agent-id': 'a1', 'x-edgepush-agent-secret': 's1', 'user-agent': 'test-relay/1' };

function connect(url: string, headers: Record<string, string>): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
    ws.once('error', reject);
  });
}

const closeCode = (ws: WebSocket) => new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
const nextMessage = (ws: WebSocket) => new Promise<string>((resolve) => ws.once('message', (d) => resolve(d.toString())));

describe('WsGateway', () => {
  let server: GatewayServer;
  let rec: ReturnType<typeof recordingBackend>;
  const clients: WebSocket[] = [];
  const open = async (headers = GOOD) => {
    const ws = await connect(server.wsUrl, headers);
    clients.push(ws);
    return ws;
  };
  const connectionIdOf = async (n = 1) => (await waitFor(() => rec.events.filter((e) => e.kind === 'connect')[n - 1])).id;

  beforeEach(async () => {
    rec = recordingBackend();
    server = await startGatewayServer({ backend: rec.backend, routes: RELAY_ACTIONS, idleTimeoutMs: 60_000 });
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.terminate();
    await server.close();
  });

  it('refuses a bad secret with 401 before the upgrade, and never calls connect', async () => {
    await expect(connect(server.wsUrl, { ...GOOD, 'x-edgepush-agent-secret': 'nope' })).rejects.toMatchObject({ status: 401 });
    await expect(connect(server.wsUrl, {})).rejects.toMatchObject({ status: 401 });
    expect(rec.events).toEqual([]);
  });

  it('answers 404 on another path', async () => {
    await expect(connect(server.wsUrl.replace('/ws', '/other'), GOOD)).rejects.toMatchObject({ status: 404 });
  });

  it('calls connect, message (route selected on action) and disconnect with one connection id', async () => {
    const ws = await open();
    const id = await connectionIdOf();
    ws.send(JSON.stringify({ action: 'hello', v: 1 }));
    ws.send(JSON.stringify({ action: 'bogus' }));
    ws.send('not json');
    await waitFor(() => rec.events.filter((e) => e.kind === 'message').length === 3);
    ws.close();
    await waitFor(() => rec.events.find((e) => e.kind === 'disconnect'));
    expect(rec.events.map((e) => [e.kind, e.id, 'routeKey' in e ? e.routeKey : ''])).toEqual([
      ['connect', id, ''],
      ['message', id, 'hello'],
      ['message', id, '$default'],
      ['message', id, '$default'],
      ['disconnect', id, ''],
    ]);
    const ctx = (rec.events[0] as { ctx: ConnectionContext }).ctx;
    expect(ctx).toMatchObject({ agentId: 'a1', sourceIp: expect.stringContaining('127.0.0.1'), userAgent: 'test-relay/1' });
    expect(server.gateway.connectionIds()).toEqual([]);
  });

  it('gives each connection its own id and posts only to the one named', async () => {
    const ws1 = await open();
    const ws2 = await open();
    const id1 = await connectionIdOf(1);
    const id2 = await connectionIdOf(2);
    expect(id1).not.toBe(id2);
    const got2 = nextMessage(ws2);
    let got1 = false;
    ws1.on('message', () => (got1 = true));
    expect(await server.gateway.post(id2, '{"type":"helloAck","v":1}')).toBe('ok');
    expect(await got2).toBe('{"type":"helloAck","v":1}');
    expect(got1).toBe(false);
  });

  it('answers gone for an unknown or closed connection', async () => {
    expect(await server.gateway.post('nope', 'x')).toBe('gone');
    const ws = await open();
    const id = await connectionIdOf();
    ws.close();
    await waitFor(() => rec.events.find((e) => e.kind === 'disconnect'));
    expect(await server.gateway.post(id, 'x')).toBe('gone');
  });

  it('sends data over 32 KB as 32 KB fragments that arrive as one message, and refuses over 128 KB', async () => {
    const ws = await open();
    const id = await connectionIdOf();
    const frames: number[] = [];
    const scanner = new FrameScanner(Number.MAX_SAFE_INTEGER);
    const socket = (ws as unknown as { _socket: NodeJS.ReadableStream })._socket;
    socket.prependListener('data', (chunk: Buffer) => {
      const before = scanner.frames;
      scanner.write(chunk);
      for (let i = before; i < scanner.frames; i++) frames.push(i);
    });
    const data = 'x'.repeat(100 * 1024);
    const got = nextMessage(ws);
    expect(await server.gateway.post(id, data)).toBe('ok');
    expect(await got).toBe(data);
    expect(frames).toHaveLength(4); // 32+32+32+4 KB
    await expect(server.gateway.post(id, 'y'.repeat(128 * 1024 + 1))).rejects.toBeInstanceOf(PayloadTooLargeError);
  });

  it('closes a client that sends a frame over 32 KB with 1009, and drops that message', async () => {
    const ws = await open();
    await connectionIdOf();
    const closed = closeCode(ws);
    ws.send('z'.repeat(33 * 1024));
    expect(await closed).toBe(1009);
    await waitFor(() => rec.events.find((e) => e.kind === 'disconnect'));
    expect(rec.events.filter((e) => e.kind === 'message')).toEqual([]);
  });

  it('accepts a 100 KB message sent as 32 KB fragments', async () => {
    const ws = await open();
    await connectionIdOf();
    const chunk = 'f'.repeat(32 * 1024);
    for (let i = 0; i < 3; i++) ws.send(chunk, { fin: false });
    ws.send('end', { fin: true });
    const msg = await waitFor(() => rec.events.find((e) => e.kind === 'message'));
    expect(msg).toMatchObject({ raw: chunk.repeat(3) + 'end' });
  });

  it('closes a client whose fragmented message passes 128 KB with 1009', async () => {
    const ws = await open();
    await connectionIdOf();
    const closed = closeCode(ws);
    const chunk = 'g'.repeat(32 * 1024);
    for (let i = 0; i < 4; i++) ws.send(chunk, { fin: false });
    ws.send('overflow', { fin: true });
    expect(await closed).toBe(1009);
    expect(rec.events.filter((e) => e.kind === 'message')).toEqual([]);
  });

  it('closes an idle connection with 1001', async () => {
    await server.close();
    rec = recordingBackend();
    server = await startGatewayServer({ backend: rec.backend, idleTimeoutMs: 100 });
    const ws = await open();
    const started = Date.now();
    expect(await closeCode(ws)).toBe(1001);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    await waitFor(() => rec.events.find((e) => e.kind === 'disconnect'));
  });

  it('closes a connection that passes its maximum age with 1001, even while busy', async () => {
    await server.close();
    rec = recordingBackend();
    server = await startGatewayServer({ backend: rec.backend, maxConnectionMs: 150 });
    const ws = await open();
    const timer = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send('{"action":"heartbeat","v":1}'), 20);
    expect(await closeCode(ws)).toBe(1001);
    clearInterval(timer);
  });

  it('closes every connection on closeAll and waits for the backend disconnects', async () => {
    await open();
    await open();
    await connectionIdOf(2);
    await server.gateway.closeAll();
    expect(rec.events.filter((e) => e.kind === 'disconnect')).toHaveLength(2);
  });

  describe('Management API, through the real AWS SDK client', () => {
    let client: ApiGatewayManagementApiClient;
    beforeEach(() => {
      client = new ApiGatewayManagementApiClient({
        endpoint: server.endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        maxAttempts: 1,
      });
    });
    afterEach(() => client.destroy());

    it('PostToConnection delivers the data to that connection', async () => {
      const ws = await open();
      const id = await connectionIdOf();
      const got = nextMessage(ws);
      await client.send(new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.from('{"type":"heartbeatAck","v":1}') }));
      expect(await got).toBe('{"type":"heartbeatAck","v":1}');
    });

    it('PostToConnection to an unknown connection raises GoneException', async () => {
      await expect(
        client.send(new PostToConnectionCommand({ ConnectionId: 'R0NFTkVJRD0+/w==', Data: Buffer.from('x') })),
      ).rejects.toBeInstanceOf(GoneException);
    });

    it('PostToConnection over 128 KB raises PayloadTooLargeException', async () => {
      await open();
      const id = await connectionIdOf();
      await expect(
        client.send(new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.alloc(128 * 1024 + 1, 97) })),
      ).rejects.toBeInstanceOf(PayloadTooLargeException);
    });

    it('GetConnection describes a live connection; DeleteConnection closes it', async () => {
      const ws = await open();
      const id = await connectionIdOf();
      const info = await client.send(new GetConnectionCommand({ ConnectionId: id }));
      expect(info.ConnectedAt).toBeInstanceOf(Date);
      expect(Math.abs(info.ConnectedAt!.getTime() - Date.now())).toBeLessThan(5000);
      expect(info.LastActiveAt).toBeInstanceOf(Date);
      expect(info.Identity).toEqual({ SourceIp: expect.stringContaining('127.0.0.1'), UserAgent: 'test-relay/1' });
      const closed = closeCode(ws);
      await client.send(new DeleteConnectionCommand({ ConnectionId: id }));
      expect(await closed).toBe(1000);
      await waitFor(() => rec.events.find((e) => e.kind === 'disconnect'));
      await expect(client.send(new GetConnectionCommand({ ConnectionId: id }))).rejects.toBeInstanceOf(GoneException);
      await expect(client.send(new DeleteConnectionCommand({ ConnectionId: id }))).rejects.toBeInstanceOf(GoneException);
    });
  });
});

describe('FrameScanner', () => {
  const header = (len: number, masked: boolean): Buffer => {
    const mask = masked ? 0x80 : 0;
    if (len < 126) return Buffer.from([0x81, mask | len]);
    if (len < 65536) {
      const b = Buffer.from([0x81, mask | 126, 0, 0]);
      b.writeUInt16BE(len, 2);
      return b;
    }
    const b = Buffer.from([0x81, mask | 127, 0, 0, 0, 0, 0, 0, 0, 0]);
    b.writeBigUInt64BE(BigInt(len), 2);
    return b;
  };
  const frame = (len: number, masked = true) =>
    Buffer.concat([header(len, masked), masked ? Buffer.alloc(4, 7) : Buffer.alloc(0), Buffer.alloc(len, 1)]);

  it('counts frames fed one byte at a time, across 7-, 16- and 64-bit lengths', () => {
    const scanner = new FrameScanner(100_000);
    const stream = Buffer.concat([frame(5), frame(0), frame(300), frame(70_000), frame(10, false)]);
    for (const byte of stream) scanner.write(Buffer.from([byte]));
    expect(scanner.frames).toBe(5);
  });

  it('counts several frames in one chunk', () => {
    const scanner = new FrameScanner(1000);
    scanner.write(Buffer.concat([frame(1), frame(2), frame(3)]));
    expect(scanner.frames).toBe(3);
  });

  it('throws as soon as a header announces too much, then ignores the rest', () => {
    const scanner = new FrameScanner(32 * 1024);
    expect(() => scanner.write(header(32 * 1024 + 1, true))).toThrow(/exceeds 32768/);
    expect(() => scanner.write(frame(10))).not.toThrow();
  });
});
