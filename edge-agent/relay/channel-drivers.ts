/**
 * Which driver serves a channel of each protocol. A protocol registers its factory here with one
 * line; a configured channel whose protocol has none stops the relay at start with a clear error.
 */
import type { ChannelProtocol } from '../../protocol/messages';
import { createAstmChannel } from '../astm/astm-channel';
import { MllpChannel } from '../mllp/mllp-channel';
import type { ChannelDriver, ChannelDriverFactory, ChannelSettings, InboundSink } from './inbound-sink';
import type { Logger } from 'pino';

export const CHANNEL_DRIVERS: Partial<Record<ChannelProtocol, ChannelDriverFactory>> = {
  mllp: (settings, sink, logger) => new MllpChannel(settings, sink, logger),
  astm: (settings, sink, logger) =>
    createAstmChannel(settings, sink, {
      endpoint: { kind: 'listen', host: settings.host, port: settings.port, encoding: settings.encoding, ack: settings.ack },
      logger,
      maxConnections: settings.maxConnections,
    }),
};

export class NoChannelDriverError extends Error {
  constructor(readonly channel: ChannelSettings) {
    super(`channel ${channel.name}: this relay has no driver for ${channel.protocol}:// channels yet`);
    this.name = 'NoChannelDriverError';
  }
}

export function createChannelDriver(settings: ChannelSettings, sink: InboundSink, logger: Logger): ChannelDriver {
  const factory = CHANNEL_DRIVERS[settings.protocol];
  if (!factory) throw new NoChannelDriverError(settings);
  return factory(settings, sink, logger);
}
