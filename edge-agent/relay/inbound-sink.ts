/**
 * Where a relay channel hands what a device sent. The sink applies the channel's ACK mode
 * (fast: the on-disk spool; cloud: the cloud stored it; app: the application answered) and says
 * what to answer the device; the channel driver (MLLP, ASTM) turns that into its protocol's reply.
 */
import type { AckMode, ChannelProtocol } from '../../protocol/messages';

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
  submit(message: InboundSubmission): Promise<InboundVerdict>;
}

/** A channel the relay listens on, as configured (`--channel name=url`, relay.json, EDGEPUSH_CHANNELS). */
export interface ChannelSettings {
  name: string;
  protocol: ChannelProtocol;
  ack: AckMode;
}

/** A listening channel of one protocol: accepts devices, hands their messages to the sink. */
export interface ChannelDriver {
  readonly settings: ChannelSettings;
  start(): Promise<void>;
  /** Stops accepting, lets replies in progress finish (bounded), closes every connection. */
  stop(): Promise<void>;
}
