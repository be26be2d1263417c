/**
 * A `fast` channel's way to the cloud: the device's message is appended to the channel's spool
 * (fsynced) and the device gets its ACK; the lane then sends the spool to the cloud in order,
 * one message at a time:
 *
 *   idle --spool has entries, connected--> sent --inboundAck--> (spool.ack) idle
 *   sent --error{inboundId}--> backoff --timer--> sent (same inboundId)
 *   sent --no answer in answerTimeoutMs--> sent again (same inboundId; the cloud dedupes)
 *   any --reconnect--> rewind to the first unacknowledged entry, send it again
 *
 * The inboundId is made once, when the message is spooled, and stored with it: every resend,
 * across reconnects and relay restarts, carries the same one.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { INBOUND_MESSAGE_VERSION, type ErrorMessage, type InboundMessage } from '../../protocol/messages';
import { INBOUND_ACTION } from '../../protocol/relay-routes';
import { equalJitterDelay, type BackoffOptions } from '../backoff';
import type { InboundSubmission, InboundVerdict } from './inbound-sink';
import type { CloudLink, InboundLane } from './inbound-lane';
import { SpoolFullError, type Spool } from './spool';

export interface SpooledLaneOptions {
  channel: string;
  /**
   * Opens the channel's spool. Called at once when `eager` (a configured channel: whatever a
   * previous run left is sent), else on the first message (an ASTM device's channel, which most
   * relays never use, gets no directory until it does) or when an earlier run left one.
   */
  openSpool: () => Spool;
  eager: boolean;
  spoolExists: boolean;
  link: CloudLink;
  logger: Logger;
  /** After an `error` for the message in flight: wait, growing, before sending it again. */
  retry: BackoffOptions;
  /** No answer at all for this long while connected: send it again (the cloud may have lost it). */
  answerTimeoutMs: number;
  random?: () => number;
}

interface InFlight {
  seq: number;
  inboundId: string;
  text: string;
}

export class SpooledLane implements InboundLane {
  private inFlight: InFlight | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopped = false;
  private spool: Spool | undefined;
  /** Sent and acknowledged since start, for logs and tests. */
  sent = 0;
  acked = 0;

  constructor(private readonly o: SpooledLaneOptions) {
    if (o.eager || o.spoolExists) this.spool = o.openSpool();
  }

  get pending(): number {
    return this.spool?.pending ?? 0;
  }

  async submit(message: InboundSubmission, progress?: { stored?: () => void }): Promise<InboundVerdict> {
    const inbound: InboundMessage = {
      action: INBOUND_ACTION,
      v: INBOUND_MESSAGE_VERSION,
      inboundId: randomUUID(),
      channel: message.channel,
      contentType: message.contentType,
      body: message.body,
      receivedAt: message.receivedAt,
      ack: 'fast',
      ...(message.controlId ? { controlId: message.controlId } : {}),
      ...(message.messageType ? { messageType: message.messageType } : {}),
    };
    try {
      this.spool ??= this.o.openSpool();
      await this.spool.append(Buffer.from(JSON.stringify(inbound), 'utf8'));
    } catch (err) {
      if (err instanceof SpoolFullError) {
        this.o.logger.warn(
          { channel: this.o.channel, pending: this.pending },
          'spool full; refusing (AE) until the cloud takes the backlog',
        );
        return { outcome: 'refused', reason: 'relay spool is full; send again later' };
      }
      this.o.logger.error({ channel: this.o.channel, err: (err as Error).message }, 'spool write failed; refusing (AE)');
      return { outcome: 'refused', reason: 'relay could not store the message; send again later' };
    }
    progress?.stored?.();
    this.pump();
    return { outcome: 'accepted' };
  }

  owns(inboundId: string): boolean {
    return this.inFlight?.inboundId === inboundId;
  }

  onInboundAck(inboundId: string): void {
    if (!this.owns(inboundId)) return;
    this.spool?.ack(this.inFlight!.seq);
    this.acked++;
    this.inFlight = undefined;
    this.failures = 0;
    this.clearTimer();
    this.pump();
  }

  onAppAck(): void {
    // fast channels ACK the device from the spool; an application's answer has no one to go to.
  }

  onError(msg: ErrorMessage): void {
    if (!msg.inboundId || !this.owns(msg.inboundId)) return;
    this.failures++;
    const delay = equalJitterDelay(this.failures, this.o.retry, this.o.random);
    this.o.logger.warn(
      { channel: this.o.channel, inboundId: msg.inboundId, code: msg.code, error: msg.error, retryInMs: delay },
      'the cloud did not store an inbound message; it stays in the spool and is sent again',
    );
    this.arm(delay);
  }

  onOpen(): void {
    // Whatever was in flight on the old connection may or may not have arrived: send it again.
    this.clearTimer();
    this.inFlight = undefined;
    this.spool?.rewind();
    this.pump();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimer();
    await this.spool?.close();
  }

  /** Sends the next spooled message when nothing is in flight. */
  private pump(): void {
    if (this.stopped || this.inFlight || !this.spool || !this.o.link.isOpen()) return;
    const [entry] = this.spool.next(1);
    if (!entry) return;
    const text = entry.payload.toString('utf8');
    const inboundId = (JSON.parse(text) as InboundMessage).inboundId;
    this.inFlight = { seq: entry.seq, inboundId, text };
    this.transmit();
  }

  private transmit(): void {
    const f = this.inFlight;
    if (!f || this.stopped) return;
    let sentNow = false;
    try {
      sentNow = this.o.link.send(f.text);
    } catch (err) {
      this.o.logger.error(
        { channel: this.o.channel, inboundId: f.inboundId, err: (err as Error).message },
        'inbound message could not be sent',
      );
    }
    if (sentNow) this.sent++;
    // Not sent (disconnected): the reconnect's onOpen rewinds. Sent: wait for the answer, or resend.
    if (sentNow) this.arm(this.o.answerTimeoutMs);
    else if (this.o.link.isOpen()) this.arm(equalJitterDelay(++this.failures, this.o.retry, this.o.random));
  }

  private arm(ms: number): void {
    this.clearTimer();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.transmit();
    }, ms);
    this.timer.unref();
  }

  private clearTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
