/**
 * An ASTM analyser the relay dials (TCP) or holds on a serial line: the link (link.ts) carries
 * pushes down, one transfer at a time in order, and what the analyser sends (results, host
 * queries) up, as inbound messages of the device's own name (astm-inbound.ts).
 *
 * With an inbound sink, start() opens the link at once and keeps it up (reconnecting with
 * backoff), since the analyser can only send on a line the relay holds open. Without one, the
 * link opens on the first push and refuses the analyser's ENQ (NAK, busy): it keeps its results
 * rather than having them ACKed here and lost.
 */
import { Reachability } from '../mllp/reachability';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { EqualJitterBackoff, type BackoffOptions } from '../backoff';
import type { InboundSink } from '../relay/inbound-sink';
import { AstmInbound, logInboundEvent } from './astm-inbound';
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
  /** Where what the analyser sends goes: channel is the device's name. */
  inbound?: { channel: string; sink: InboundSink; retry?: BackoffOptions };
  /** Between attempts to reopen the link of a device with an inbound sink. */
  reconnect?: BackoffOptions;
}

export const ASTM_RECONNECT: BackoffOptions = { initialDelayMs: 1_000, maxDelayMs: 30_000 };

export class AstmDevice {
  private readonly reachability = new Reachability();
  private stream?: LinkStream;
  private opening?: Promise<LinkStream>;
  private closed = false;
  private readonly inbound?: AstmInbound;
  private readonly reconnect: EqualJitterBackoff;
  private reconnectTimer?: NodeJS.Timeout;

  constructor(private readonly options: AstmDeviceOptions) {
    this.reconnect = new EqualJitterBackoff(options.reconnect ?? ASTM_RECONNECT);
    if (options.inbound) {
      const { channel, sink, retry } = options.inbound;
      this.inbound = new AstmInbound({ channel, sink, retry, onEvent: (e) => logInboundEvent(options.logger, channel, e) });
    }
  }

  /** True while the link is open (a connection or the serial line). */
  get linkUp(): boolean {
    return this.stream !== undefined;
  }

  /** With an inbound sink: opens the link now and keeps it open. Without one: nothing (opened on first push). */
  start(): void {
    if (this.inbound) this.keepOpen();
  }

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

  /** Stops the link. A transfer being stored is given up to `graceMs` to finish first. */
  async close(graceMs = 2_000): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    if (this.inbound) {
      this.inbound.stop();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.inbound.idle(), new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
    }
    this.stream?.close();
    this.stream = undefined;
  }

  private keepOpen(): void {
    if (this.closed || this.stream || this.opening || this.reconnectTimer) return;
    this.open().then(
      () => this.reconnect.reset(),
      (err: Error) => {
        if (this.closed) return;
        this.options.logger?.warn({ err: err.message }, 'cannot open the ASTM link; trying again');
        this.scheduleReopen();
      },
    );
  }

  private scheduleReopen(): void {
    if (this.closed || !this.inbound || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.keepOpen();
    }, this.reconnect.next());
  }

  private open(): Promise<LinkStream> {
    if (this.closed) return Promise.reject(new AstmDeviceError('LINK_DOWN', 'the device is closed', false));
    if (this.stream) return Promise.resolve(this.stream);
    this.opening ??= this.connect().then(
      (stream) => {
        this.opening = undefined;
        if (this.closed) {
          // close() came while connecting: do not keep a line nobody will close.
          stream.destroy();
          throw new AstmDeviceError('LINK_DOWN', 'the device is closed', false);
        }
        const inbound = this.inbound;
        let detach = () => undefined as unknown;
        const link = attachLink(stream, {
          ...this.options.link,
          role: 'computer',
          encoding: this.options.endpoint.encoding,
          onMessage: (text) => inbound?.receive(text),
          onClose: () => {
            detach();
            if (this.stream === link) this.stream = undefined;
            this.scheduleReopen();
          },
        });
        if (inbound) detach = inbound.attach(link.link);
        else link.link.setReceiveGate('busy'); // no inbound path: the analyser keeps its results
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
