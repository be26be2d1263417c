/**
 * An ASTM analyser the relay sends to: the link (link.ts) over a TCP connection the relay dials
 * or a serial line, opened on first use and kept. Messages go one transfer at a time, in order.
 *
 * What the analyser sends on the same line (results, host queries) has no inbound path yet, so
 * the link stays paused for receiving: an analyser's ENQ is answered NAK (busy) and it keeps its
 * results, rather than having them ACKed here and lost.
 */
import { Reachability } from '../mllp/reachability';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { AstmEndpoint } from './astm-url';
import { AstmLinkError, type AstmLinkOptions } from './link';
import { attachLink, type LinkStream } from './link-stream';
import { openSerial } from './serial';

export class AstmDeviceError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** True once a frame was written: sending again could duplicate the order. */
    readonly delivered: boolean,
  ) {
    super(message);
    this.name = 'AstmDeviceError';
  }
}

export interface AstmDeviceOptions {
  endpoint: Extract<AstmEndpoint, { kind: 'dial' | 'serial' }>;
  connectTimeoutMs: number;
  logger?: Logger;
  /** Link settings (timers, limits); the defaults are LIS01-A2's. */
  link?: Partial<Omit<AstmLinkOptions, 'role' | 'write' | 'onMessage'>>;
}

export class AstmDevice {
  private readonly reachability = new Reachability();
  private stream?: LinkStream;
  private opening?: Promise<LinkStream>;
  private closed = false;

  constructor(private readonly options: AstmDeviceOptions) {}

  /** Sends one message (records, CR-separated). Resolves once every frame was accepted and EOT sent. */
  async send(text: string): Promise<void> {
    const link = await this.open();
    try {
      await link.send(text);
    } catch (err) {
      if (err instanceof AstmLinkError) throw new AstmDeviceError(err.code, err.message, err.delivered);
      throw err;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stream?.close();
    this.stream = undefined;
    await Promise.resolve();
  }

  private open(): Promise<LinkStream> {
    if (this.closed) return Promise.reject(new AstmDeviceError('LINK_DOWN', 'the device is closed', false));
    if (this.stream) return Promise.resolve(this.stream);
    this.opening ??= this.connect().then(
      (stream) => {
        this.opening = undefined;
        const link = attachLink(stream, {
          ...this.options.link,
          role: 'computer',
          encoding: this.options.endpoint.encoding,
          onMessage: () => undefined, // paused below: nothing is received until inbound exists
          onClose: () => {
            if (this.stream === link) this.stream = undefined;
          },
        });
        link.link.paused = true;
        this.stream = link;
        const back = this.reachability.connected();
        if (back.kind === 'reachable-again') {
          this.options.logger?.info({ failures: back.failures, downMs: back.downMs }, 'device reachable again');
        }
        return link;
      },
      (err: Error) => {
        this.opening = undefined;
        // One line when the analyser goes down, a summary every 10 minutes, one when it is back.
        const event = this.reachability.failed('CONNECT_FAILED');
        if (event.kind === 'unreachable') this.options.logger?.warn({ code: 'CONNECT_FAILED' }, 'device unreachable');
        else if (event.kind === 'still-unreachable') {
          this.options.logger?.warn({ code: 'CONNECT_FAILED', failures: event.failures, downMs: event.downMs }, 'device still unreachable');
        }
        throw new AstmDeviceError('CONNECT_FAILED', err.message, false);
      },
    );
    return this.opening;
  }

  private connect(): Promise<Duplex> {
    const { endpoint, connectTimeoutMs } = this.options;
    if (endpoint.kind === 'serial') return openSerial(endpoint);
    return new Promise<Duplex>((resolve, reject) => {
      const socket = connect({ host: endpoint.host, port: endpoint.port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no connection to ${endpoint.host}:${endpoint.port} within ${connectTimeoutMs} ms`));
      }, connectTimeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.setNoDelay(true);
        resolve(socket);
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`cannot connect to ${endpoint.host}:${endpoint.port}: ${err.message}`));
      });
    });
  }
}
