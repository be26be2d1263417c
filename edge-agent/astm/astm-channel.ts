/**
 * A listening ASTM channel, `astm://0.0.0.0:port?listen`: the analyser dials the relay. Each
 * accepted connection runs a link (link.ts) in the computer role; the transfers of every
 * connection go to the sink under the channel's name, one at a time and in order (astm-inbound.ts
 * owns the refusal rules). A push to the analyser goes down the newest live connection.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { ASTM_CONTENT_TYPE } from '../../protocol/content-types';
import type { BackoffOptions } from '../backoff';
import type { DeviceDriver } from '../relay/devices';
import type { ChannelDriver, ChannelIdentity, InboundSink } from '../relay/inbound-sink';
import { astmAcked, fromAstmError } from '../relay/outcome';
import { AstmDeviceError } from './astm-device';
import { AstmInbound, logInboundEvent } from './astm-inbound';
import { parseAstmUrl, type AstmEndpoint } from './astm-url';
import { AstmLinkError, type AstmLinkOptions } from './link';
import { attachLink, type LinkStream } from './link-stream';

type ListenEndpoint = Extract<AstmEndpoint, { kind: 'listen' }>;

export interface AstmChannelOptions {
  /** `astm://host:port?listen[&encoding=…]`, or the parsed endpoint. */
  endpoint: ListenEndpoint | string;
  logger?: Logger;
  /** Link settings (timers, limits); the defaults are LIS01-A2's. */
  link?: Partial<Omit<AstmLinkOptions, 'role' | 'write' | 'onMessage'>>;
  /** Between submissions of a refused transfer. */
  retry?: BackoffOptions;
  /** Connections at once. An analyser holds one; a reconnect may overlap a half-dead old one. */
  maxConnections?: number;
  /** stop(): how long a transfer being stored may take to finish before connections close. */
  stopGraceMs?: number;
}

export class AstmChannel implements ChannelDriver {
  private server?: Server;
  /** Live connections, oldest first. */
  private readonly links = new Set<LinkStream>();
  private readonly inbound: AstmInbound;
  private readonly endpoint: ListenEndpoint;
  private boundPort = 0;

  constructor(
    readonly settings: ChannelIdentity,
    sink: InboundSink,
    private readonly options: AstmChannelOptions,
  ) {
    if (settings.protocol !== 'astm')
      throw new Error(`channel ${settings.name}: an ASTM channel needs protocol astm, got ${settings.protocol}`);
    const endpoint = typeof options.endpoint === 'string' ? parseAstmUrl(options.endpoint) : options.endpoint;
    if (endpoint.kind !== 'listen') {
      throw new Error(
        `channel ${settings.name}: an ASTM channel listens (astm://0.0.0.0:port?listen); an analyser the relay dials or holds on a serial line is a device`,
      );
    }
    this.endpoint = endpoint;
    this.inbound = new AstmInbound({
      channel: settings.name,
      sink,
      retry: options.retry,
      onEvent: (e) => logInboundEvent(options.logger, settings.name, e),
    });
  }

  /** The TCP port listened on (the bound one when the URL said 0). */
  get port(): number {
    return this.boundPort;
  }

  get connections(): number {
    return this.links.size;
  }

  async start(): Promise<void> {
    const server = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.endpoint.port, this.endpoint.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.options.logger?.error({ channel: this.settings.name, err: err.message }, 'ASTM channel error'));
    const address = server.address();
    this.boundPort = typeof address === 'object' && address ? address.port : this.endpoint.port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    // New ENQs are refused from here; a transfer being stored gets a bounded time to finish.
    this.inbound.stop();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.inbound.idle(), new Promise<void>((r) => (timer = setTimeout(r, this.options.stopGraceMs ?? 2_000)))]);
    clearTimeout(timer);
    for (const link of [...this.links]) link.close();
    await closed;
  }

  /**
   * A push to the analyser on this channel, down its newest connection. Resolves once every
   * frame was accepted and EOT sent; fails like an ASTM device (CONNECT_FAILED when no analyser
   * is connected: nothing was sent, so the cloud may try again later).
   */
  async send(text: string): Promise<void> {
    const newest = [...this.links].at(-1);
    if (!newest) throw new AstmDeviceError('CONNECT_FAILED', `no analyser is connected to channel ${this.settings.name}`, false);
    try {
      await newest.send(text);
    } catch (err) {
      if (err instanceof AstmLinkError) throw new AstmDeviceError(err.code, err.message, err.delivered);
      throw err;
    }
  }

  private accept(socket: Socket): void {
    const log = this.options.logger;
    if (!this.server || this.links.size >= (this.options.maxConnections ?? 4)) {
      log?.warn({ channel: this.settings.name, remote: socket.remoteAddress }, 'ASTM connection refused: too many connections');
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
    let detach = () => undefined as unknown;
    const link: LinkStream = attachLink(socket, {
      ...this.options.link,
      role: 'computer',
      encoding: this.endpoint.encoding,
      onMessage: (text) => this.inbound.receive(text),
      onEvent: (event) => {
        if (event.type !== 'refusedEnq') log?.debug({ channel: this.settings.name, event: event.type }, 'ASTM link event');
      },
      onClose: (err) => {
        detach();
        this.links.delete(link);
        log?.info({ channel: this.settings.name, err: err?.message }, 'ASTM analyser disconnected');
      },
    });
    detach = this.inbound.attach(link.link);
    this.links.add(link);
    log?.info({ channel: this.settings.name, remote: socket.remoteAddress }, 'ASTM analyser connected');
  }

  asDevice(): DeviceDriver {
    return astmChannelDevice(this);
  }
}

/** The ChannelDriver for an `astm://…?listen` channel (see AstmChannel). */
export function createAstmChannel(settings: ChannelIdentity, sink: InboundSink, options: AstmChannelOptions): AstmChannel {
  return new AstmChannel(settings, sink, options);
}

/**
 * The channel as the push destination of the same name (relay/devices.ts): a push goes down the
 * analyser's connection. close() is a no-op: the channel's stop() closes its connections.
 */
export function astmChannelDevice(channel: AstmChannel): DeviceDriver {
  return {
    contentType: ASTM_CONTENT_TYPE,
    deliver: (push) =>
      channel.send(push.body).then(
        () => astmAcked(push.pushId),
        (err: unknown) => fromAstmError(push.pushId, err),
      ),
    close: () => Promise.resolve(),
  };
}
