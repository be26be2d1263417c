/**
 * One MLLP conversation over a socket, for either end: frames in become 'message' strings,
 * strings out become frames. It owns the decoder and the socket's lifecycle, nothing else
 * (no retries, no correlation, no queue).
 *
 * Events: 'message' (text: string), or 'frame' (payload: Buffer) when created with
 * decodeMessages: false, unless options.onMessage / onFrame take them; 'close' (info: MllpCloseInfo).
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { MllpDecoder, MllpFrameError } from './decoder';
import { encodeFrame } from './encoder';
import { decodeText, resolveEncoding } from './encoding';
import { WarnLimiter } from './warn-limiter';

export interface MllpConnectionOptions {
  encoding?: string;
  maxFrameBytes?: number;
  logger?: Logger;
  /** false: emit raw 'frame' payloads and let the owner decode only what it needs. Default true. */
  decodeMessages?: boolean;
  /** Receives each message instead of the 'message' event (a direct call, no emit, per message). */
  onMessage?: (text: string) => void;
  /** With decodeMessages: false, receives each payload instead of the 'frame' event. */
  onFrame?: (payload: Buffer) => void;
}

export interface MllpCloseInfo {
  /** Part of a frame had arrived when the socket closed. */
  midFrame: boolean;
  /** Set when we dropped the connection because the peer broke the protocol. */
  protocolError?: MllpFrameError;
  /** The socket error that ended the connection, if any. */
  socketError?: Error;
  discardedBytes: number;
}

export class MllpConnection extends EventEmitter {
  readonly socket: Socket;
  readonly encoding: string;
  readonly decoder: MllpDecoder;
  readonly remote: string;
  private readonly logger?: Logger;
  private protocolError?: MllpFrameError;
  private socketError?: Error;
  private closed = false;

  constructor(socket: Socket, options: MllpConnectionOptions = {}) {
    super();
    this.socket = socket;
    this.encoding = resolveEncoding(options.encoding);
    this.logger = options.logger;
    this.remote = `${socket.remoteAddress}:${socket.remotePort}`;
    const { onMessage, onFrame } = options;
    const encoding = this.encoding;
    let deliver: (payload: Buffer) => void;
    if (options.decodeMessages === false) deliver = onFrame ?? ((payload) => this.emit('frame', payload));
    else if (onMessage) deliver = (payload) => onMessage(decodeText(payload, encoding));
    else deliver = (payload) => this.emit('message', decodeText(payload, encoding));
    this.decoder = new MllpDecoder({ maxFrameBytes: options.maxFrameBytes, onFrame: deliver });
    socket.setNoDelay(true); // one small frame per round trip: Nagle would add latency to every ACK

    const garbage = new WarnLimiter();
    this.decoder.on('discard', (bytes: number) => {
      // At warn so an operator sees it, but rate-limited so a noisy peer cannot flood the logs.
      const { level, suppressed } = garbage.next();
      this.logger?.[level](
        { remote: this.remote, bytes, total: this.decoder.discardedBytes, suppressed },
        'discarded bytes outside an MLLP frame',
      );
    });
    this.decoder.on('error', (err: MllpFrameError) => {
      this.protocolError = err;
      this.logger?.error({ remote: this.remote, code: err.code, maxFrameBytes: err.maxFrameBytes }, err.message);
      socket.destroy();
    });

    socket.on('data', (chunk: Buffer) => this.decoder.push(chunk));
    // The peer half-closed: nothing more will arrive, so finish our side too.
    socket.on('end', () => socket.end());
    socket.on('error', (err) => {
      this.socketError = err;
    });
    socket.on('close', () => {
      this.closed = true;
      const info: MllpCloseInfo = {
        midFrame: this.decoder.inFrame,
        protocolError: this.protocolError,
        socketError: this.socketError,
        discardedBytes: this.decoder.discardedBytes,
      };
      if (info.discardedBytes > 0)
        this.logger?.warn({ remote: this.remote, discardedBytes: info.discardedBytes }, 'connection closed; garbage bytes were discarded');
      this.emit('close', info);
    });
  }

  get isOpen(): boolean {
    return !this.closed && !this.socket.destroyed && this.socket.writable;
  }

  /** Frames and writes a message. Returns false when the socket can no longer take it. */
  send(text: string): boolean {
    return this.sendFrame(encodeFrame(text, this.encoding));
  }

  sendFrame(frame: Buffer): boolean {
    if (!this.isOpen) return false;
    this.socket.write(frame);
    return true;
  }

  /** Graceful close: our FIN after pending writes. */
  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}
