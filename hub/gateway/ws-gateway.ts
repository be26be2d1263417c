/**
 * A WebSocket gateway that behaves like API Gateway's WebSocket API, written once and used by
 * the hub (relays connect to it) and by the AWS full-path test (with the Management API in
 * front of it, see management-api.ts).
 *
 * What it copies from API Gateway:
 * - the upgrade is authorised first (like a REQUEST authorizer on $connect): 401 before the
 *   handshake completes, so an unauthorised client never gets a WebSocket;
 * - every connection gets an opaque id; the backend sees $connect, messages (with the route key
 *   selected from the message's `action` when routes are configured) and $disconnect;
 * - the limits: a client frame over 32 KB or a message over 128 KB closes the connection with
 *   1009; an idle connection is closed after 10 minutes and any connection after 2 hours (1001);
 * - post() to an unknown or closed connection answers 'gone' (GoneException on AWS); data over
 *   128 KB is refused (PayloadTooLargeException); data over 32 KB goes out as 32 KB fragments.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocket, WebSocketServer } from 'ws';
import { AGENT_ID_HEADER, MAX_FRAME_BYTES, MAX_MESSAGE_BYTES } from '../../protocol/messages';
import { FrameScanner, FrameTooLargeError } from './frame-scanner';
import { UpgradeGuard, type UpgradeGuardOptions } from './upgrade-guard';

export interface ConnectionContext {
  agentId: string;
  /** RELAY_INSTANCE_HEADER, when the client sent one. */
  relayInstance?: string;
  /** Epoch ms. */
  connectedAt: number;
  sourceIp: string;
  userAgent?: string;
}

export interface GatewayBackend {
  /** The $connect authorizer: who is this? undefined refuses the upgrade with 401. */
  authorize(headers: IncomingHttpHeaders, request: { sourceIp: string }): Promise<{ agentId: string; relayInstance?: string } | undefined>;
  /**
   * $connect: the connection is open and post() reaches it. Throwing closes it (1011); a
   * `refuse` answer closes it with that code and reason (where API Gateway's $connect would
   * refuse the upgrade), and no message from it reaches the backend.
   */
  connect(connectionId: string, ctx: ConnectionContext): Promise<void | { refuse: { code: number; reason: string } }>;
  /** One message from the client. `routeKey` is its `action` when that is a configured route, else '$default'. */
  message(connectionId: string, ctx: ConnectionContext, raw: string, routeKey: string): Promise<void>;
  /** $disconnect: the connection is gone (either side closed it). */
  disconnect(connectionId: string, ctx: ConnectionContext): Promise<void>;
}

export interface WsGatewayOptions {
  backend: GatewayBackend;
  /** Upgrade path. Default '/ws'. */
  path?: string;
  /** Route keys selected on `$request.body.action`. Without it every message is '$default' (not parsed here). */
  routes?: readonly string[];
  maxFrameBytes?: number;
  maxMessageBytes?: number;
  /** Default 10 minutes, as on API Gateway. */
  idleTimeoutMs?: number;
  /** Default 2 hours, as on API Gateway. */
  maxConnectionMs?: number;
  /**
   * Limits on unauthenticated upgrades (see upgrade-guard.ts), and how to read the agent id a
   * client claims (for per-agent failure limits). Without `upgradeGuard` nothing is limited.
   */
  upgradeGuard?: UpgradeGuardOptions;
  claimedAgentId?: (headers: IncomingHttpHeaders) => string | undefined;
  /**
   * Backpressure: messages of one connection received but not yet handled by the backend.
   * At this many the gateway stops reading that socket until half have finished. Default 16.
   */
  maxInFlight?: number;
  /** A client that leaves more than this unread (ws bufferedAmount) is closed (1008). Default 4 MB. */
  maxBufferedBytes?: number;
  logger?: Logger;
}

export class PayloadTooLargeError extends Error {
  constructor(
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(`message of ${bytes} bytes exceeds ${limit}`);
    this.name = 'PayloadTooLargeError';
  }
}

export interface ConnectionInfo {
  connectionId: string;
  agentId: string;
  connectedAt: number;
  lastActiveAt: number;
  sourceIp: string;
  userAgent?: string;
}

interface Connection {
  id: string;
  ws: WebSocket;
  /** The upgraded socket under `ws`: corked while this turn's frames gather (post()). */
  socket: Duplex;
  /** Set while `socket` is corked until the end of this turn. */
  corked: boolean;
  ctx: ConnectionContext;
  lastActiveAt: number;
  /** Resolves once the backend's connect() finished: messages and disconnect wait for it. */
  ready: Promise<boolean>;
  /** Backend calls in flight, so close() can wait for them. */
  inFlight: Set<Promise<void>>;
  /** Messages received and not handed to the backend yet (waiting for connect() included). */
  queue: { raw: string; routeKey: string }[];
  /** Backend message() calls running for this connection (at most maxInFlight). */
  running: number;
  /** Set once a limit was broken: nothing more from this client reaches the backend. */
  refused: boolean;
  idleTimer?: NodeJS.Timeout;
  ageTimer?: NodeJS.Timeout;
  closed: Promise<void>;
}

export class WsGateway {
  readonly path: string;
  private readonly wss: WebSocketServer;
  private readonly connections = new Map<string, Connection>();
  private readonly backend: GatewayBackend;
  private readonly routes: ReadonlySet<string> | undefined;
  private readonly maxFrameBytes: number;
  private readonly maxMessageBytes: number;
  private readonly idleTimeoutMs: number;
  private readonly maxConnectionMs: number;
  private readonly logger: Logger | undefined;
  /** Claimed agent id -> when a refusal was last logged at warn (bounded; see firstRefusalThisMinute). */
  private readonly refusalWarnedAt = new Map<string, number>();
  private readonly servers = new Set<Server>();
  private readonly upgrading = new Set<Duplex>();
  private readonly guard: UpgradeGuard | undefined;
  private readonly claimedAgentId: (headers: IncomingHttpHeaders) => string | undefined;
  private readonly maxInFlight: number;
  private readonly maxBufferedBytes: number;

  constructor(options: WsGatewayOptions) {
    this.backend = options.backend;
    this.path = options.path ?? '/ws';
    this.routes = options.routes ? new Set(options.routes) : undefined;
    this.maxFrameBytes = options.maxFrameBytes ?? MAX_FRAME_BYTES;
    this.maxMessageBytes = options.maxMessageBytes ?? MAX_MESSAGE_BYTES;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 10 * 60_000;
    this.maxConnectionMs = options.maxConnectionMs ?? 2 * 60 * 60_000;
    this.logger = options.logger;
    this.guard = options.upgradeGuard ? new UpgradeGuard({ logger: options.logger, ...options.upgradeGuard }) : undefined;
    this.claimedAgentId = options.claimedAgentId ?? (() => undefined);
    this.maxInFlight = options.maxInFlight ?? 16;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 4 * 1024 * 1024;
    // ws enforces the per-message limit across fragments; the frame limit is ours (FrameScanner).
    this.wss = new WebSocketServer({ noServer: true, maxPayload: this.maxMessageBytes, perMessageDeflate: false, clientTracking: false });
  }

  /** Serves WebSocket upgrades on `server` at this gateway's path. */
  /** True at most once a minute per claimed agent id, so a flood of bad credentials writes few lines. */
  private firstRefusalThisMinute(agentId: string): boolean {
    const now = Date.now();
    const last = this.refusalWarnedAt.get(agentId);
    if (last !== undefined && now - last < 60_000) return false;
    if (this.refusalWarnedAt.size >= 1_000) this.refusalWarnedAt.clear();
    this.refusalWarnedAt.set(agentId, now);
    return true;
  }

  attach(server: Server): void {
    this.servers.add(server);
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      void this.onUpgrade(req, socket, head);
    });
  }

  /** Sends one message down a connection, as postToConnection does. */
  async post(connectionId: string, data: string | Buffer): Promise<'ok' | 'gone'> {
    const conn = this.connections.get(connectionId);
    if (!conn || conn.ws.readyState !== WebSocket.OPEN) return 'gone';
    const bytes = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    if (bytes > this.maxMessageBytes) throw new PayloadTooLargeError(bytes, this.maxMessageBytes);
    if (conn.ws.bufferedAmount > this.maxBufferedBytes) {
      // The client is not reading what it is sent: don't queue more of it in this process.
      this.logger?.warn(
        { connectionId, agentId: conn.ctx.agentId, bufferedBytes: conn.ws.bufferedAmount },
        'client is not reading; closing',
      );
      this.closeConnection(conn, 1008, 'not reading');
      return 'gone';
    }
    if (!conn.corked) {
      // Under load many pushes and resultAcks go to one relay in the same turn (one store commit
      // answers a batch): one writev for all of them instead of one syscall per frame.
      conn.corked = true;
      conn.socket.cork();
      process.nextTick(() => {
        conn.corked = false;
        conn.socket.uncork();
      });
    }
    try {
      await this.sendFragmented(conn.ws, data, bytes);
      return 'ok';
    } catch {
      return 'gone';
    }
  }

  /** Closes one connection (DeleteConnection). false when it is unknown. */
  close(connectionId: string, code = 1000, reason = 'closed by server'): boolean {
    const conn = this.connections.get(connectionId);
    if (!conn) return false;
    this.closeConnection(conn, code, reason);
    return true;
  }

  info(connectionId: string): ConnectionInfo | undefined {
    const conn = this.connections.get(connectionId);
    if (!conn) return undefined;
    return { connectionId, lastActiveAt: conn.lastActiveAt, ...conn.ctx };
  }

  connectionIds(): string[] {
    return [...this.connections.keys()];
  }

  /** Closes every connection (1001) and waits until the backend saw each disconnect. */
  async closeAll(): Promise<void> {
    this.guard?.close();
    for (const socket of this.upgrading) socket.destroy();
    const closing = [...this.connections.values()].map((conn) => {
      this.closeConnection(conn, 1001, 'server shutting down');
      return conn.closed;
    });
    await Promise.all(closing);
  }

  private async onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    const url = req.url ?? '/';
    const pathname = url.split('?', 1)[0];
    if (pathname !== this.path) return refuse(socket, 404, 'Not Found');
    const sourceIp = req.socket.remoteAddress ?? '';
    // Refuse floods before the (costly) secret check runs.
    const admission = this.guard?.admit(sourceIp, this.claimedAgentId(req.headers));
    if (admission && !admission.ok) {
      return refuse(
        socket,
        admission.status,
        admission.status === 429 ? 'Too Many Requests' : 'Service Unavailable',
        admission.retryAfterS,
      );
    }
    this.upgrading.add(socket);
    let identity: { agentId: string; relayInstance?: string } | undefined;
    try {
      identity = await this.backend.authorize(req.headers, { sourceIp });
    } catch (err) {
      admission?.release('ok');
      this.logger?.error({ err }, 'gateway authorizer failed');
      this.upgrading.delete(socket);
      return refuse(socket, 500, 'Internal Server Error');
    }
    admission?.release(identity ? 'ok' : 'failed');
    this.upgrading.delete(socket);
    if (socket.destroyed) return;
    if (!identity) {
      // warn: a relay that keeps retrying with a wrong secret is an operator's problem to see. One
      // line per claimed agent id a minute; the guard's summary counts the rest of a flood. The
      // claimed id is capped so a client cannot fill the log with it.
      const claimed = req.headers[AGENT_ID_HEADER];
      const agentId = typeof claimed === 'string' ? claimed.slice(0, 128) : undefined;
      if (this.firstRefusalThisMinute(agentId ?? ''))
        this.logger?.warn({ sourceIp, agentId }, 'relay refused: unknown agent id or wrong secret');
      return refuse(socket, 401, 'Unauthorized');
    }
    const ctx: ConnectionContext = { agentId: identity.agentId, connectedAt: Date.now(), sourceIp };
    if (identity.relayInstance !== undefined) ctx.relayInstance = identity.relayInstance;
    const userAgent = req.headers['user-agent'];
    if (userAgent) ctx.userAgent = userAgent;
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onOpen(ws, socket, ctx));
  }

  private onOpen(ws: WebSocket, socket: Duplex, ctx: ConnectionContext): void {
    const id = newConnectionId();
    let markClosed!: () => void;
    const closed = new Promise<void>((resolve) => (markClosed = resolve));
    const conn: Connection = {
      id,
      ws,
      socket,
      corked: false,
      ctx,
      lastActiveAt: ctx.connectedAt,
      ready: Promise.resolve(false),
      inFlight: new Set(),
      queue: [],
      running: 0,
      refused: false,
      closed,
    };
    this.connections.set(id, conn);

    // Prepended so every frame header is checked before ws hands the message on.
    const scanner = new FrameScanner(this.maxFrameBytes);
    socket.prependListener('data', (chunk: Buffer) => {
      if (conn.refused) return;
      try {
        scanner.write(chunk);
      } catch (err) {
        if (!(err instanceof FrameTooLargeError)) throw err;
        this.logger?.warn({ connectionId: id, agentId: ctx.agentId, frameBytes: err.frameBytes }, 'client frame too large, closing');
        conn.refused = true;
        this.closeConnection(conn, 1009, 'Frame too big');
      }
    });

    let refusal: { code: number; reason: string } | undefined;
    conn.ready = this.track(conn, async () => {
      const answer = await this.backend.connect(id, ctx);
      if (answer) refusal = answer.refuse;
    }).then(
      () => {
        if (!refusal) return true;
        conn.refused = true;
        this.closeConnection(conn, refusal.code, refusal.reason);
        return false;
      },
      (err: unknown) => {
        this.logger?.error({ err, connectionId: id }, 'backend connect failed, closing');
        this.closeConnection(conn, 1011, 'connect failed');
        return false;
      },
    );
    // debug: the core logs "relay connected" at info (on AWS too); one line per connect is enough.
    this.logger?.debug({ connectionId: id, agentId: ctx.agentId, sourceIp: ctx.sourceIp }, 'relay websocket opened');
    this.armTimers(conn);

    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
      if (conn.refused) return;
      conn.lastActiveAt = Date.now();
      this.armIdle(conn);
      const raw = toText(data);
      const routeKey = this.selectRoute(raw);
      // Backpressure: at most maxInFlight backend calls per connection; once as many more wait,
      // stop reading the socket (TCP then pushes back on the client) until the queue drains.
      conn.queue.push({ raw, routeKey });
      if (conn.queue.length >= this.maxInFlight && !ws.isPaused) ws.pause();
      void conn.ready.then((ok) => (ok ? this.pump(conn) : (conn.queue.length = 0)));
    });
    ws.on('error', (err) => {
      // ws closes with 1009 itself when a message exceeds maxPayload.
      this.logger?.warn({ connectionId: id, err: err.message }, 'websocket error');
    });
    ws.on('close', (code) => {
      this.connections.delete(id);
      conn.queue.length = 0; // not handled: the client learns nothing was (no reply came)
      clearTimeout(conn.idleTimer);
      clearTimeout(conn.ageTimer);
      this.logger?.debug({ connectionId: id, agentId: ctx.agentId, code }, 'websocket closed');
      void conn.ready
        .then(() => Promise.allSettled([...conn.inFlight]))
        .then(() => this.backend.disconnect(id, ctx))
        .catch((err: unknown) => this.logger?.error({ err, connectionId: id }, 'backend disconnect failed'))
        .finally(markClosed);
    });
  }

  private pump(conn: Connection): void {
    while (conn.running < this.maxInFlight && conn.queue.length > 0) {
      const { raw, routeKey } = conn.queue.shift()!;
      conn.running++;
      void this.track(conn, () => this.backend.message(conn.id, conn.ctx, raw, routeKey))
        .catch((err: unknown) => this.logger?.error({ err, connectionId: conn.id }, 'backend message failed'))
        .finally(() => {
          conn.running--;
          this.pump(conn);
        });
    }
    if (conn.ws.isPaused && conn.queue.length <= this.maxInFlight / 2) conn.ws.resume();
  }

  private selectRoute(raw: string): string {
    if (!this.routes) return '$default';
    try {
      const action = (JSON.parse(raw) as { action?: unknown } | null)?.action;
      return typeof action === 'string' && this.routes.has(action) ? action : '$default';
    } catch {
      return '$default';
    }
  }

  private track(conn: Connection, call: () => Promise<void>): Promise<void> {
    const p = Promise.resolve().then(call);
    conn.inFlight.add(p);
    const done = (): void => {
      conn.inFlight.delete(p);
    };
    p.then(done, done);
    return p;
  }

  private armTimers(conn: Connection): void {
    this.armIdle(conn);
    conn.ageTimer = setTimeout(() => this.closeConnection(conn, 1001, 'Going away: maximum connection age'), this.maxConnectionMs);
    conn.ageTimer.unref();
  }

  private armIdle(conn: Connection): void {
    clearTimeout(conn.idleTimer);
    conn.idleTimer = setTimeout(() => this.closeConnection(conn, 1001, 'Going away: idle timeout'), this.idleTimeoutMs);
    conn.idleTimer.unref();
  }

  private closeConnection(conn: Connection, code: number, reason: string): void {
    const ws = conn.ws;
    if (ws.readyState === WebSocket.OPEN) ws.close(code, reason);
    // A peer that never answers the close handshake is cut off.
    const kill = setTimeout(() => ws.terminate(), 1000);
    kill.unref();
    ws.once('close', () => clearTimeout(kill));
  }

  private sendFragmented(ws: WebSocket, data: string | Buffer, bytes: number): Promise<void> {
    const binary = typeof data !== 'string';
    if (bytes <= this.maxFrameBytes) return sendOne(ws, data, { binary, fin: true });
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    const sends: Promise<void>[] = [];
    for (let offset = 0; offset < buf.length; offset += this.maxFrameBytes) {
      const end = Math.min(offset + this.maxFrameBytes, buf.length);
      sends.push(sendOne(ws, buf.subarray(offset, end), { binary, fin: end === buf.length }));
    }
    return Promise.all(sends).then(() => undefined);
  }
}

function sendOne(ws: WebSocket, data: string | Buffer, opts: { binary: boolean; fin: boolean }): Promise<void> {
  return new Promise((resolve, reject) => ws.send(data, opts, (err) => (err ? reject(err) : resolve())));
}

function toText(data: Buffer | ArrayBuffer | Buffer[]): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

/** API Gateway style: 16 base64 characters (may include '+', '/' and '='; callers URL-encode). */
function newConnectionId(): string {
  return randomBytes(11).toString('base64');
}

function refuse(socket: Duplex, status: number, text: string, retryAfterS?: number): void {
  const body = JSON.stringify({ message: text });
  const retry = retryAfterS === undefined ? '' : `Retry-After: ${retryAfterS}\r\n`;
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${retry}Connection: close\r\n\r\n${body}`,
  );
}
