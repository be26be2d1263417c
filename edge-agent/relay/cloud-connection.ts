/**
 * The relay's one outbound WebSocket to the cloud, kept open forever:
 *
 *   idle -> connecting -> open -> (dropped | dead | max age) -> waiting -> connecting ...
 *                                              any state -> stopped (stop())
 *
 * It authenticates with headers on the upgrade (never the URL), reconnects with jittered
 * exponential backoff, heartbeats and detects a silent peer (Liveness), and rotates the
 * connection before API Gateway's 2-hour cap. It knows nothing of pushes: it emits
 * 'open', 'message' (text) and 'close', and sends text through the 32 KB frame sender.
 *
 * Chunking (protocol v2) is done here, below the relay's logic: a message over 128 KB goes out
 * as `chunk` messages, and the cloud's `chunk`s are joined (ChunkAssembler, per connection)
 * and emitted as one 'message' with `reassembled` set, for parseCloudMessage(text, true).
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import WebSocket from 'ws';
import {
  AGENT_CONNECTED_CLOSE,
  AGENT_ID_HEADER,
  AGENT_SECRET_HEADER,
  PROTOCOL_HEADER,
  PROTOCOL_VERSION,
  RELAY_INSTANCE_HEADER,
} from '../../protocol/messages';
import { ChunkAssembler, cloudChunkOf, relayWireMessages, type ChunkAssemblerOptions } from '../../protocol/chunks';
import { EqualJitterBackoff, type BackoffOptions } from '../backoff';
import { MessageTooLargeError, sendText } from './frame-sender';
import { Liveness } from './liveness';

export interface CloudConnectionOptions {
  url: string;
  agentId: string;
  secret: string;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  maxConnectionAgeMs: number;
  reconnect: BackoffOptions;
  /** The heartbeat message to send, already serialised. */
  heartbeat: string;
  logger: Logger;
  handshakeTimeoutMs?: number;
  /**
   * After the cloud refused this relay because another relay of the agent is live: wait this
   * long (75-100 % of it, jittered) before trying again, well past the cloud's live window, so
   * two relays never ping-pong. Default 3 minutes.
   */
  conflictRetryMs?: number;
  random?: () => number;
  /** Bounds on the cloud's chunked messages being joined (protocol/chunks.ts defaults). */
  chunks?: Omit<ChunkAssemblerOptions, 'onTimeout'>;
}

const DEFAULT_CONFLICT_RETRY_MS = 180_000;

export type ConnectionState = 'idle' | 'connecting' | 'open' | 'waiting' | 'stopped';

/** Incoming messages larger than this are a protocol violation; the validator reports smaller junk. */
const MAX_INCOMING_BYTES = 1024 * 1024;
/** A rotation trims up to this share off the maximum age, so a fleet does not rotate at once. */
const AGE_JITTER = 0.05;

// Typed events for an EventEmitter subclass: the declaration merge is the standard Node idiom.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface CloudConnection {
  on(event: 'open', listener: () => void): this;
  /** `reassembled`: joined from the cloud's chunks, so it may exceed one WebSocket message. */
  on(event: 'message', listener: (text: string, reassembled: boolean) => void): this;
  on(event: 'close', listener: (info: { code: number; reason: string }) => void): this;
}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class CloudConnection extends EventEmitter {
  private state: ConnectionState = 'idle';
  private ws: WebSocket | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private ageTimer: NodeJS.Timeout | undefined;
  private liveness: Liveness | undefined;
  private readonly backoff: EqualJitterBackoff;
  private readonly random: () => number;
  /** Set while closing for rotation: the next connect happens at once, not after a backoff. */
  private rotating = false;
  /** Set when the cloud refused this relay for another live relay of the agent: the next wait is long. */
  private conflicted = false;
  /** This relay process, sent on every upgrade: the cloud lets it replace its own earlier connection. */
  private readonly instance = randomUUID();
  /** The cloud's chunked messages being joined; emptied when the connection closes. */
  private readonly chunks: ChunkAssembler;
  /** Connection attempts so far, for logs and tests. */
  attempts = 0;

  constructor(private readonly opts: CloudConnectionOptions) {
    super();
    this.random = opts.random ?? Math.random;
    this.backoff = new EqualJitterBackoff(opts.reconnect, this.random);
    this.chunks = new ChunkAssembler({
      ...opts.chunks,
      // Nothing to answer: a push that never completes is dispatched again by the cloud.
      onTimeout: (err, chunkId) =>
        opts.logger.warn({ code: err.code, chunkId, error: err.message }, 'chunked message from cloud timed out'),
    });
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  get currentState(): ConnectionState {
    return this.state;
  }

  start(): void {
    if (this.state !== 'idle') return;
    this.connect();
  }

  /**
   * Sends one message, as chunks when it is over 128 KB; false when there is no open
   * connection (the caller keeps it for later). Throws MessageTooLargeError for a message over
   * MAX_CHUNKED_MESSAGE_BYTES.
   */
  send(text: string): boolean {
    if (this.state !== 'open' || !this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    let wire: string[];
    try {
      wire = relayWireMessages(text);
    } catch {
      throw new MessageTooLargeError(Buffer.byteLength(text));
    }
    // Written synchronously, so the parts of one message are never interleaved with another's.
    for (const part of wire) sendText(this.ws, part);
    return true;
  }

  /** Closes for good: no reconnect. Resolves once the socket is closed. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.clearTimers();
    const ws = this.ws;
    this.ws = undefined;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      ws.once('close', () => resolve());
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close(1001, 'relay shutting down');
      // A peer that never answers the close handshake must not hold shutdown hostage.
      setTimeout(() => ws.terminate(), 2_000).unref();
    });
  }

  private connect(): void {
    this.state = 'connecting';
    this.attempts++;
    const log = this.opts.logger;
    log.debug({ url: this.opts.url, attempt: this.attempts }, 'connecting to cloud');
    const ws = new WebSocket(this.opts.url, {
      headers: {
        [AGENT_ID_HEADER]: this.opts.agentId,
        [AGENT_SECRET_HEADER]: this.opts.secret,
        [PROTOCOL_HEADER]: String(PROTOCOL_VERSION),
        [RELAY_INSTANCE_HEADER]: this.instance,
      },
      // API Gateway does not negotiate permessage-deflate, and compressed frames would hide sizes.
      perMessageDeflate: false,
      handshakeTimeout: this.opts.handshakeTimeoutMs ?? 10_000,
      maxPayload: MAX_INCOMING_BYTES,
    });
    this.ws = ws;
    let openedAt = 0;
    let heardSinceOpen = false;

    ws.on('open', () => {
      if (this.ws !== ws) return;
      this.state = 'open';
      openedAt = Date.now();
      log.info({ url: this.opts.url, attempt: this.attempts }, 'connected to cloud');
      this.liveness = new Liveness({
        intervalMs: this.opts.heartbeatIntervalMs,
        timeoutMs: this.opts.heartbeatTimeoutMs,
        sendHeartbeat: () => this.send(this.opts.heartbeat),
        onDead: (silentForMs) => {
          log.warn({ silentForMs }, 'cloud connection is silent; dropping it');
          ws.terminate();
        },
      });
      this.liveness.start();
      const age = this.opts.maxConnectionAgeMs * (1 - AGE_JITTER * this.random());
      this.ageTimer = setTimeout(() => {
        log.info({ ageMs: Date.now() - openedAt }, 'rotating cloud connection before its maximum age');
        this.rotating = true;
        ws.close(1000, 'rotating');
        setTimeout(() => ws.terminate(), 2_000).unref();
      }, age);
      this.ageTimer.unref();
      this.emit('open');
    });

    ws.on('message', (data: WebSocket.RawData) => {
      if (this.ws !== ws) return;
      this.liveness?.heard();
      // A server that accepts and then hangs up at once must not reset the backoff; one that talks back may.
      if (!heardSinceOpen) {
        heardSinceOpen = true;
        this.backoff.reset();
      }
      const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
      this.onText(text);
    });

    ws.on('error', (err) => {
      // 'close' always follows; this only says why.
      if (new RegExp(`Unexpected server response: ${AGENT_CONNECTED_CLOSE.status}\\b`).test(err.message)) {
        this.conflicted = true; // API Gateway refuses at the upgrade; the hub closes with 4409 (below)
        return;
      }
      const refused = /Unexpected server response: (401|403)\b/.exec(err.message);
      if (refused) {
        // Retrying cannot fix this by itself, but an operator may fix the credentials: keep retrying, say so loudly.
        log.error(
          { status: Number(refused[1]), agentId: this.opts.agentId },
          "the cloud refused this relay's agent id or secret; check --agent/EDGEPUSH_AGENT_ID and EDGEPUSH_AGENT_SECRET (from `edgepush agent create`)",
        );
        return;
      }
      const hint = connectionHint(this.opts.url, err);
      log.warn(
        { err: { message: err.message, code: (err as NodeJS.ErrnoException).code }, ...(hint ? { hint } : {}) },
        'cloud connection error',
      );
    });

    ws.on('close', (code: number, reasonBuf: Buffer) => {
      if (this.ws !== ws) return;
      const wasOpen = this.state === 'open';
      this.clearTimers();
      this.chunks.clear(); // the cloud sends an unfinished message again on the next connection
      this.ws = undefined;
      if (this.state === 'stopped') return;
      const reason = reasonBuf.toString('utf8');
      if (wasOpen) this.emit('close', { code, reason });
      if (code === AGENT_CONNECTED_CLOSE.code) this.conflicted = true;
      let delay = this.rotating ? 0 : this.backoff.next();
      this.rotating = false;
      if (this.conflicted) {
        this.conflicted = false;
        const base = this.opts.conflictRetryMs ?? DEFAULT_CONFLICT_RETRY_MS;
        delay = Math.round(base * (0.75 + 0.25 * this.random()));
        log.error(
          { agentId: this.opts.agentId, retryInMs: delay },
          'the cloud refused this relay: another relay with the same agent id is connected (one relay per agent). Stop the other relay, or give this one its own agent',
        );
      }
      log.info({ code, reason, wasOpen, retryInMs: delay }, 'cloud connection closed; reconnecting');
      this.state = 'waiting';
      this.retryTimer = setTimeout(() => this.connect(), delay);
    });
  }

  /** A `chunk` goes to the assembler; anything else (junk included) to the relay as it is. */
  private onText(text: string): void {
    const chunk = cloudChunkOf(text);
    if (!chunk) {
      this.emit('message', text, false); // the relay's validator reports junk
      return;
    }
    try {
      const joined = this.chunks.add(chunk);
      if (joined.complete) this.emit('message', joined.text, true);
    } catch (err) {
      const { code, message } = err as { code?: string; message: string };
      this.opts.logger.warn({ code, chunkId: chunk.chunkId, index: chunk.index, error: message }, 'chunk from cloud refused');
    }
  }

  private clearTimers(): void {
    this.liveness?.stop();
    this.liveness = undefined;
    clearTimeout(this.ageTimer);
    clearTimeout(this.retryTimer);
    this.ageTimer = this.retryTimer = undefined;
  }
}

/** The usual set-up mistakes, named, so a retry loop does not hide them. */
export function connectionHint(url: string, err: Error): string | undefined {
  const code = (err as NodeJS.ErrnoException).code;
  if (/Unexpected server response: 404\b/.test(err.message)) {
    const path = URL.canParse(url) ? new URL(url).pathname : '';
    if (!path.endsWith('/ws')) return `no WebSocket at ${url}: the hub's relay URL ends in /ws (e.g. ${url.replace(/\/?$/, '/ws')})`;
    return `no WebSocket at ${url}`;
  }
  // A TLS client talking to a plain HTTP server reads "HTTP/1.1 400" as a bad TLS record.
  if (url.startsWith('wss://') && (code === 'EPROTO' || /wrong version number|packet length too long/i.test(err.message))) {
    return `the server at ${url} does not speak TLS: a hub without --tls-cert serves plain ws:// (use ${url.replace(/^wss:/, 'ws:')})`;
  }
  if (code === 'ECONNREFUSED') return `connection refused: is the hub running at ${url}?`;
  return undefined;
}
