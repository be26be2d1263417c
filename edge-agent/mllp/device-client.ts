/**
 * Send-and-wait MLLP client for one device: a per-device queue in front of one persistent,
 * kept-alive connection. Each message waits for the ACK whose MSA-2 equals its MSH-10; an ACK
 * for any other control id never answers it.
 *
 * Concerns are split: framing lives in mllp-connection.ts and decoder.ts, dialing with backoff in
 * dial.ts, the idle close in idle-timer.ts. This file orders messages, correlates ACKs and
 * enforces ACK deadlines.
 */
import type { Logger } from 'pino';
import pino from 'pino';
import { Hl7Error } from '../../hl7/hl7-errors';
import { parseControlId, readMsh } from '../../hl7/msh';
import { parseMsa } from '../../hl7/msa';
import { normaliseSegments } from '../../hl7/segments';
import { MllpConnection, type MllpCloseInfo } from './mllp-connection';
import { DEFAULT_MAX_FRAME_BYTES } from './constants';
import { DeviceError } from './device-error';
import { dialWithBackoff, type ReconnectOptions } from './dial';
import { encodeFrame } from './encoder';
import { decodeText, resolveEncoding } from './encoding';
import { IdleTimer } from './idle-timer';
import { Reachability } from './reachability';
import { WarnLimiter } from './warn-limiter';

export { DeviceError, type DeviceErrorCode } from './device-error';

export interface DeviceClientOptions {
  host: string;
  port: number;
  /** Character encoding of the device; default 'utf-8'. */
  encoding?: string;
  /** Default 5000. */
  connectTimeoutMs?: number;
  /** Default 10000. */
  ackTimeoutMs?: number;
  /** Close an idle connection after this; default 60000; 0 = never. */
  idleTimeoutMs?: number;
  /** Largest ACK frame accepted from the device; default 1 MiB. */
  maxFrameBytes?: number;
  /** Messages in flight per device; default 1 (strict order). */
  concurrency?: number;
  /** Backoff for connect attempts within one send. */
  reconnect?: ReconnectOptions;
  logger?: Logger;
}

export interface SendOptions {
  /** 'first': any ACK answers; 'application': commit ACKs (CA) are skipped. Default 'first'. */
  returnAck?: 'first' | 'application';
  ackTimeoutMs?: number;
}

export interface AckResult {
  ackCode: string;
  /** The ACK as received (decoded text). */
  ack: string;
  /** The MSH-10 of the message sent, equal to the ACK's MSA-2. */
  controlId: string;
}

export interface DeviceClientStats {
  sent: number;
  acked: number;
  /** Frames from the device that answered nothing: unknown control id, or no MSA. */
  unmatchedAcks: number;
  connects: number;
}

interface Job {
  /** The framed message; MSH-9 is read back from it only when a log line needs it. */
  frame: Buffer;
  controlId: string;
  returnAck: 'first' | 'application';
  ackTimeoutMs: number;
  delivered: boolean;
  /** When the ACK wait ends (ms since epoch). */
  deadline: number;
  resolve(result: AckResult): void;
  reject(err: DeviceError): void;
}

const DEFAULT_RECONNECT = { initialDelayMs: 200, maxDelayMs: 5000, maxAttempts: 3 };

export class MllpDeviceClient {
  readonly host: string;
  readonly port: number;
  readonly encoding: string;
  readonly stats: DeviceClientStats = { sent: 0, acked: 0, unmatchedAcks: 0, connects: 0 };
  private readonly connectTimeoutMs: number;
  private readonly ackTimeoutMs: number;
  private readonly maxFrameBytes: number;
  private readonly concurrency: number;
  private readonly reconnect: ReconnectOptions;
  private readonly logger: Logger;

  private readonly queue: Job[] = [];
  private readonly inflight = new Map<string, Job>();
  private conn?: MllpConnection;
  private connecting = false;
  private closed = false;
  private readonly idle: IdleTimer;
  private readonly closing = new AbortController();
  private ackTimer?: NodeJS.Timeout;
  private ackTimerAt = 0;
  private drainWaiters: Array<() => void> = [];
  private readonly unmatchedWarnings = new WarnLimiter();
  private readonly reachability = new Reachability();

  constructor(options: DeviceClientOptions) {
    if (!options.host) throw new TypeError('host is required');
    if (!Number.isInteger(options.port) || options.port <= 0 || options.port > 65535) {
      throw new RangeError(`port must be an integer from 1 to 65535, got ${options.port}`);
    }
    this.host = options.host;
    this.port = options.port;
    this.encoding = resolveEncoding(options.encoding);
    this.connectTimeoutMs = positive('connectTimeoutMs', options.connectTimeoutMs ?? 5000);
    this.ackTimeoutMs = positive('ackTimeoutMs', options.ackTimeoutMs ?? 10000);
    this.idle = new IdleTimer(options.idleTimeoutMs ?? 60000, () => this.closeIdle());
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.concurrency = positive('concurrency', options.concurrency ?? 1);
    this.reconnect = { ...DEFAULT_RECONNECT, ...options.reconnect };
    this.logger = (options.logger ?? pino({ enabled: false })).child({ device: `${this.host}:${this.port}` });
  }

  /** Messages waiting for their turn plus messages waiting for an ACK. */
  get pending(): number {
    return this.queue.length + this.inflight.size;
  }

  get connected(): boolean {
    return this.conn?.isOpen ?? false;
  }

  send(message: string, options: SendOptions = {}): Promise<AckResult> {
    if (this.closed) return Promise.reject(new DeviceError('CLIENT_CLOSED', 'the device client is closed', false));
    const text = normaliseSegments(message);
    // A start (VT) or end (FS) byte inside the text would end the frame early: the device would
    // ACK a truncated copy under the same MSH-10, so it is refused before anything is sent.
    if (text.indexOf('\x1c') !== -1 || text.indexOf('\x0b') !== -1) {
      return Promise.reject(
        new DeviceError(
          'NOT_HL7',
          'the message contains an MLLP framing byte (0x0B or 0x1C); binary data must be encoded (e.g. Base64) before it is sent',
          false,
        ),
      );
    }
    let controlId: string;
    try {
      controlId = parseControlId(text);
    } catch (err) {
      // MISSING_CONTROL_ID is reported as NOT_HL7 too: without MSH-10 no ACK could ever match.
      const reason = err instanceof Hl7Error ? err.message : String(err);
      return Promise.reject(new DeviceError('NOT_HL7', reason, false, { cause: err }));
    }
    const frame = encodeFrame(text, this.encoding);
    const ackTimeoutMs = positive('ackTimeoutMs', options.ackTimeoutMs ?? this.ackTimeoutMs);
    return new Promise<AckResult>((resolve, reject) => {
      this.queue.push({
        frame,
        controlId,
        returnAck: options.returnAck ?? 'first',
        ackTimeoutMs,
        delivered: false,
        deadline: 0,
        resolve,
        reject,
      });
      this.pump();
    });
  }

  /** Resolves once nothing is queued or waiting for an ACK. */
  drain(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Fails everything pending with CLIENT_CLOSED and closes the connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.idle.cancel();
    this.closing.abort();
    for (const job of this.queue.splice(0))
      job.reject(new DeviceError('CLIENT_CLOSED', 'the device client was closed before the message was sent', false));
    this.failInflight('CLIENT_CLOSED', 'the device client was closed while waiting for the ACK');
    const conn = this.conn;
    this.conn = undefined;
    if (conn && !conn.socket.destroyed) {
      await new Promise<void>((resolve) => {
        conn.socket.once('close', () => resolve());
        conn.destroy();
      });
    }
    this.notifyDrained();
  }

  /** Moves queued messages onto the wire while there is room; opens the connection when needed. */
  private pump(): void {
    while (!this.closed && this.queue.length > 0 && this.inflight.size < this.concurrency) {
      const job = this.queue[0];
      // Same control id already waiting: ACKs could not be told apart, so it waits its turn.
      if (this.inflight.has(job.controlId)) return;
      if (!this.conn || !this.conn.isOpen) {
        this.openConnection();
        return;
      }
      this.queue.shift();
      this.write(this.conn, job);
    }
    if (this.pending === 0) {
      this.idle.touch();
      this.notifyDrained();
    }
  }

  private write(conn: MllpConnection, job: Job): void {
    this.inflight.set(job.controlId, job);
    job.delivered = true;
    this.stats.sent++;
    job.deadline = Date.now() + job.ackTimeoutMs;
    conn.sendFrame(job.frame);
    this.armAckTimer(job.deadline);
  }

  /**
   * One timer for all ACK deadlines instead of a setTimeout/clearTimeout pair per message (a
   * measurable cost at tens of thousands of messages a second). It fires at the earliest
   * deadline armed, fails what has expired and re-arms for the next. It may stay armed for up
   * to one ACK timeout after the last answer (the connection outlives it by default); close()
   * clears it.
   */
  private armAckTimer(deadline: number): void {
    if (this.ackTimer && this.ackTimerAt <= deadline) return;
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.ackTimerAt = deadline;
    this.ackTimer = setTimeout(() => this.expireAcks(), Math.max(0, deadline - Date.now()));
  }

  private expireAcks(): void {
    this.ackTimer = undefined;
    const now = Date.now();
    let next = Infinity;
    let expired = 0;
    for (const job of this.inflight.values()) {
      if (job.deadline > now) {
        next = Math.min(next, job.deadline);
        continue;
      }
      this.inflight.delete(job.controlId);
      expired++;
      this.logger.warn(
        { controlId: job.controlId, messageType: this.messageTypeOf(job), ackTimeoutMs: job.ackTimeoutMs },
        'no ACK from device in time',
      );
      job.reject(new DeviceError('ACK_TIMEOUT', `no ACK with MSA-2 = ${job.controlId} within ${job.ackTimeoutMs} ms`, true));
    }
    if (next !== Infinity) this.armAckTimer(next);
    // A connection that swallowed a message may be dead (silently dropped by a NAT, a hung
    // receiver): do not feed it the next one. Once nothing else waits on it, drop it, so the
    // queue goes on over a fresh connection (and a late ACK cannot land on a later message).
    if (expired > 0 && this.inflight.size === 0 && this.conn) {
      const conn = this.conn;
      this.conn = undefined;
      this.idle.cancel();
      this.logger.info('dropping the device connection after an ACK timeout');
      conn.destroy();
    }
    this.pump();
  }

  private onMessage(text: string): void {
    const msa = parseMsa(text);
    // The one correlation rule: the ACK answers the message whose MSH-10 equals its MSA-2.
    const job = msa ? this.inflight.get(msa.controlId) : undefined;
    if (!msa || !job) {
      this.stats.unmatchedAcks++;
      // Rate-limited: a device answering garbage in a loop must not write a line per frame.
      const { level, suppressed } = this.unmatchedWarnings.next();
      this.logger[level](
        { controlId: msa?.controlId, ackCode: msa?.code, hasMsa: msa !== undefined, suppressed },
        'frame from device matches no message in flight; ignored',
      );
      return;
    }
    if (job.returnAck === 'application' && msa.code === 'CA') {
      this.logger.debug({ controlId: job.controlId }, 'commit ACK (CA) received; waiting for the application ACK');
      return;
    }
    this.inflight.delete(job.controlId);
    this.stats.acked++;
    job.resolve({ ackCode: msa.code, ack: text, controlId: job.controlId });
    this.pump();
  }

  /** MSH-9 of a job's message, for a log line (not needed, so not kept, on the hot path). */
  private messageTypeOf(job: Job): string {
    try {
      return readMsh(decodeText(job.frame.subarray(1, job.frame.length - 2), this.encoding)).messageType;
    } catch {
      return '';
    }
  }

  private onClose(conn: MllpConnection, info: MllpCloseInfo): void {
    if (this.conn !== conn) return;
    this.conn = undefined;
    this.idle.cancel();
    if (this.inflight.size > 0) {
      if (info.protocolError) {
        this.failInflight('FRAME_TOO_LARGE', `the device sent a frame over ${info.protocolError.maxFrameBytes} bytes; connection dropped`);
      } else if (info.midFrame) {
        this.failInflight('CLOSED_MID_FRAME', 'the device closed the connection in the middle of a frame');
      } else {
        const why = info.socketError ? ` (${(info.socketError as NodeJS.ErrnoException).code ?? info.socketError.message})` : '';
        this.failInflight('CONNECTION_CLOSED', `the device closed the connection before sending the ACK${why}`);
      }
    }
    this.logger.debug({ midFrame: info.midFrame }, 'device connection closed');
    this.pump();
  }

  private failInflight(code: DeviceError['code'], message: string): void {
    for (const job of this.inflight.values()) job.reject(new DeviceError(code, message, job.delivered));
    this.inflight.clear();
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
  }

  /** Dials with backoff. When every attempt fails, the messages that were due to go fail with the last error. */
  private openConnection(): void {
    if (this.connecting) return;
    this.connecting = true;
    void this.dial().then(
      (conn) => {
        this.connecting = false;
        if (this.closed) {
          conn.destroy();
          return;
        }
        this.conn = conn;
        const back = this.reachability.connected();
        if (back.kind === 'reachable-again') {
          this.logger.info({ failures: back.failures, downMs: back.downMs }, 'device reachable again');
        }
        this.pump();
      },
      (err: DeviceError) => {
        this.connecting = false;
        if (this.closed) return;
        this.logUnreachable(err);
        for (const job of this.queue.splice(0, this.concurrency)) job.reject(err);
        this.pump();
      },
    );
  }

  /** One line when the device goes down, a summary every 10 minutes while it stays down. */
  private logUnreachable(err: DeviceError): void {
    const event = this.reachability.failed(err.code);
    if (event.kind === 'unreachable') {
      this.logger.warn({ code: err.code, attempts: this.reconnect.maxAttempts }, 'device unreachable');
    } else if (event.kind === 'still-unreachable') {
      this.logger.warn({ code: err.code, failures: event.failures, downMs: event.downMs }, 'device still unreachable');
    } else {
      this.logger.debug({ code: err.code, failures: event.failures }, 'device unreachable');
    }
  }

  /** true while every recent attempt to reach the device failed. */
  get unreachable(): boolean {
    return this.reachability.unreachable;
  }

  private async dial(): Promise<MllpConnection> {
    const socket = await dialWithBackoff({
      host: this.host,
      port: this.port,
      connectTimeoutMs: this.connectTimeoutMs,
      reconnect: this.reconnect,
      signal: this.closing.signal,
      logger: this.logger,
    });
    socket.setKeepAlive(true, 30000);
    const conn = new MllpConnection(socket, {
      maxFrameBytes: this.maxFrameBytes,
      logger: this.logger,
      onFrame: (payload) => this.onMessage(decodeText(payload, this.encoding)),
    });
    conn.on('close', (info: MllpCloseInfo) => this.onClose(conn, info));
    this.stats.connects++;
    return conn;
  }

  private closeIdle(): void {
    if (!this.conn || this.pending !== 0) return;
    this.logger.debug('closing idle device connection');
    this.conn.end();
  }

  private notifyDrained(): void {
    if (this.drainWaiters.length === 0 || this.pending !== 0) return;
    for (const wake of this.drainWaiters.splice(0)) wake();
  }
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number, got ${value}`);
  return value;
}
