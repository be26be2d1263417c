/**
 * An MLLP channel: the relay listens on host:port and many devices send to it at once; each
 * connection is an InboundSession. The channel never stops for what one device does: bad input
 * costs that device an AR or its connection, nothing else. Connections past maxConnections are
 * dropped at accept (Node's server.maxConnections), so memory stays bounded under a storm.
 */
import { createServer, type Server } from 'node:net';
import type { Logger } from 'pino';
import type { ChannelDriver, ChannelSettings, InboundSink } from '../relay/inbound-sink';
import { InboundSession } from './inbound-session';
import { WarnLimiter } from './warn-limiter';

/** On stop: how long a message in hand may take to be stored and answered. */
export const STOP_GRACE_MS = 2_000;

export class MllpChannel implements ChannelDriver {
  private server: Server | undefined;
  private readonly sessions = new Set<InboundSession>();
  private readonly log: Logger;

  constructor(
    readonly settings: ChannelSettings,
    private readonly sink: InboundSink,
    logger: Logger,
  ) {
    this.log = logger.child({ channel: settings.name });
  }

  /** The port actually bound (useful with port 0 in tests). */
  get port(): number {
    const address = this.server?.address();
    return typeof address === 'object' && address ? address.port : this.settings.port;
  }

  get connections(): number {
    return this.sessions.size;
  }

  async start(): Promise<void> {
    const server = createServer((socket) => {
      const session = new InboundSession(socket, this.settings, this.sink, this.log);
      this.sessions.add(session);
      void session.closedPromise.then(() => this.sessions.delete(session));
    });
    server.maxConnections = this.settings.maxConnections;
    const dropped = new WarnLimiter();
    server.on('drop', (data?: { remoteAddress?: string; remotePort?: number }) => {
      const { level, suppressed } = dropped.next();
      this.log[level](
        { remote: `${data?.remoteAddress}:${data?.remotePort}`, maxConnections: this.settings.maxConnections, suppressed },
        'too many device connections on this channel; refused one',
      );
    });
    server.on('error', (err) => this.log.error({ err: err.message }, 'channel listener error'));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.settings.port, this.settings.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.log.info({ host: this.settings.host, port: this.port, ack: this.settings.ack }, 'channel listening');
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    await Promise.all([...this.sessions].map((s) => s.drain(STOP_GRACE_MS)));
    await closed;
  }
}
