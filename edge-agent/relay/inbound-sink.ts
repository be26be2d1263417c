/**
 * Where a relay channel hands what a device sent. The sink applies the channel's ACK mode
 * (fast: the on-disk spool; cloud: the cloud stored it; app: the application answered) and says
 * what to answer the device; the channel driver (MLLP, ASTM) turns that into its protocol's reply.
 */
import type { Logger } from 'pino';
import type { AckMode, ChannelProtocol } from '../../protocol/messages';
import type { DeviceDriver } from './devices';

export interface InboundSubmission {
  channel: string;
  contentType: string;
  /** As received from the device, decoded with the channel's encoding. */
  body: string;
  receivedAt: number;
  /** MSH-10 and MSH-9 (type^trigger), when the message is HL7 and has them. */
  controlId?: string;
  messageType?: string;
}

export type InboundVerdict =
  /** Stored as the channel's ACK mode requires: answer AA (CA for enhanced acknowledgement). */
  | { outcome: 'accepted' }
  /** `app` channels: the application's own ACK (ER7), to forward to the device. */
  | { outcome: 'application'; response: string }
  /** Not stored, or no answer in time: answer AE (ASTM: refuse) so the device sends it again later. */
  | { outcome: 'refused'; reason: string };

export interface InboundSink {
  /**
   * `progress.stored` is called once the message is durably stored (fast: spooled; cloud and
   * app: the cloud's inboundAck), before the verdict when the verdict comes later: an `app`
   * channel's driver may send the commit ACK (CA) then, and the application's ACK afterwards.
   */
  submit(message: InboundSubmission, progress?: { stored?: () => void }): Promise<InboundVerdict>;
}

/** A channel the relay listens on, as configured (`--channel name=url`, relay.json, EDGEPUSH_CHANNELS). */
export interface ChannelSettings {
  name: string;
  protocol: ChannelProtocol;
  ack: AckMode;
  /** Where to listen (`0.0.0.0` for every interface). */
  host: string;
  port: number;
  /** Character set the devices send (and receive their ACKs) in. */
  encoding: string;
  /** cloud and app: how long a device waits for the cloud (or the application) before it gets AE. */
  timeoutMs: number;
  /** The largest message a device may send; a larger one is refused (AR) and its connection closed. */
  maxMessageBytes: number;
  /** A device connection with no traffic for this long is closed (devices reconnect). */
  idleTimeoutMs: number;
  /** Device connections open at once on this channel; more are refused at accept. */
  maxConnections: number;
}

/** Builds the driver of one protocol's channel (see channel-drivers.ts). */
export type ChannelDriverFactory = (settings: ChannelSettings, sink: InboundSink, logger: Logger) => ChannelDriver;

/** What names a channel, as announced in hello; all a driver has to expose. */
export type ChannelIdentity = Pick<ChannelSettings, 'name' | 'protocol' | 'ack'>;

/** A listening channel of one protocol: accepts devices, hands their messages to the sink. */
export interface ChannelDriver {
  readonly settings: ChannelIdentity;
  start(): Promise<void>;
  /** Stops accepting, lets replies in progress finish (bounded), closes every connection. */
  stop(): Promise<void>;
  /**
   * A channel whose link carries both directions (an ASTM analyser that dials in) is also the
   * push destination of its name: pushes go down the connection the device holds.
   */
  asDevice?(): DeviceDriver;
}
