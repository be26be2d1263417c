/**
 * One channel's way to the cloud, by ACK mode: spooled-lane.ts (fast) or direct-lane.ts (cloud,
 * app). The forwarder routes device messages in and the cloud's answers back to the lane.
 */
import type { AppAckMessage, ErrorMessage } from '../../protocol/messages';
import type { InboundSink } from './inbound-sink';

/** The cloud connection as the lanes see it. */
export interface CloudLink {
  /** false when not connected (the lane keeps the message); throws for a message too large to send. */
  send(text: string): boolean;
  isOpen(): boolean;
}

export interface InboundLane extends InboundSink {
  /** This inbound id is the lane's, still waiting for an answer. */
  owns(inboundId: string): boolean;
  onInboundAck(inboundId: string): void;
  onAppAck(msg: AppAckMessage): void;
  onError(msg: ErrorMessage): void;
  /** A (re)connected cloud: send again what had no answer. */
  onOpen(): void;
  stop(): Promise<void>;
}
