/**
 * One MLLP conversation over a socket, for either end: each frame in is handed to options.onFrame
 * as its payload bytes, frames out are written whole. It owns the decoder and the socket's
 * lifecycle, nothing else (no text decoding, no retries, no correlation, no queue): the owner
 * decodes what it needs in the device's encoding.
 *
 * Events: 'close' (info: MllpCloseInfo).
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { MllpDecoder, MllpFrameError } from './decoder';
import { WarnLimiter } from './warn-limiter';

export interface MllpConnectionOptions {
  /** Receives each frame's payload; a view valid during the call only (see decoder.ts). */
  onFrame: (payload: Buffer) => void;
  maxFrameBytes?: number;
  logger?: Logger;
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
  readonly decoder: MllpDecoder;
  readonly remote: string;
  private readonly logger?: Logger;
  private protocolError?: MllpFrameError;
  private socketError?: Error;
  private closed = false;

  constructor(socket: Socket, options: MllpConnectionOptions) {
    super();
    this.socket = socket;
    this.logger = options.logger;
    this.remote = `${socket.remoteAddress}:${socket.remotePort}`;
    this.decoder = new MllpDecoder({ maxFrameBytes: options.maxFrameBytes, onFrame: options.onFrame });
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

  /** Writes a whole frame (see encoder.ts) in one write. Returns false when the socket can no longer take it. */
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
