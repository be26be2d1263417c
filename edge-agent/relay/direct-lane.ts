/**
 * A `cloud` or `app` channel's way to the cloud: nothing is kept on the relay's disk; the device
 * waits (up to the channel's timeout) for its answer.
 *
 *   cloud: queued --sent--> inboundAck: AA | error{inboundId}: AE | timeout: AE
 *   app:   queued --sent--> inboundAck (CA may go out now) --> appAck: the application's ACK,
 *          or its error: AE | timeout: AE
 *
 * Per channel one message is sent at a time, in the order received, until the cloud has stored
 * it (the cloud's per-channel order); the next waits. A message whose time runs out is not
 * sent again: the device gets AE and sends it again itself, and the cloud deduplicates by MSH-10
 * if the first one was stored after all. A reconnect sends the unanswered one again, with the
 * same inboundId.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { INBOUND_MESSAGE_VERSION, type AppAckMessage, type ErrorMessage, type InboundMessage } from '../../protocol/messages';
import { INBOUND_ACTION } from '../../protocol/relay-routes';
import type { InboundSubmission, InboundVerdict } from './inbound-sink';
import type { CloudLink, InboundLane } from './inbound-lane';

export interface DirectLaneOptions {
  channel: string;
  mode: 'cloud' | 'app';
  timeoutMs: number;
  link: CloudLink;
  logger: Logger;
}

interface Pending {
  inboundId: string;
  text: string;
  state: 'queued' | 'sent' | 'stored';
  timer: NodeJS.Timeout;
  stored?: () => void;
  resolve(verdict: InboundVerdict): void;
}

export class DirectLane implements InboundLane {
  /** Not yet stored by the cloud, in order; the head may be in flight. */
  private readonly queue: Pending[] = [];
  /** Every message still waiting for its verdict. */
  private readonly waiting = new Map<string, Pending>();

  constructor(private readonly o: DirectLaneOptions) {}

  get pending(): number {
    return this.waiting.size;
  }

  submit(message: InboundSubmission, progress?: { stored?: () => void }): Promise<InboundVerdict> {
    const inbound: InboundMessage = {
      action: INBOUND_ACTION,
      v: INBOUND_MESSAGE_VERSION,
      inboundId: randomUUID(),
      channel: message.channel,
      contentType: message.contentType,
      body: message.body,
      receivedAt: message.receivedAt,
      ack: this.o.mode,
      ...(message.controlId ? { controlId: message.controlId } : {}),
      ...(message.messageType ? { messageType: message.messageType } : {}),
    };
    return new Promise((resolve) => {
      const p: Pending = {
        inboundId: inbound.inboundId,
        text: JSON.stringify(inbound),
        state: 'queued',
        stored: progress?.stored,
        resolve,
        timer: setTimeout(() => this.timedOut(p), this.o.timeoutMs),
      };
      p.timer.unref();
      this.waiting.set(p.inboundId, p);
      this.queue.push(p);
      this.pump();
    });
  }

  owns(inboundId: string): boolean {
    return this.waiting.has(inboundId);
  }

  onInboundAck(inboundId: string): void {
    const p = this.waiting.get(inboundId);
    if (!p) return;
    p.stored?.();
    if (this.o.mode === 'cloud') {
      this.finish(p, { outcome: 'accepted' });
      return;
    }
    p.state = 'stored';
    this.unqueue(p);
  }

  onAppAck(msg: AppAckMessage): void {
    const p = this.waiting.get(msg.inboundId);
    if (!p) {
      this.o.logger.info(
        { channel: this.o.channel, inboundId: msg.inboundId },
        'application ACK came after the device was answered; dropped',
      );
      return;
    }
    if (msg.response !== undefined) this.finish(p, { outcome: 'application', response: msg.response });
    else this.finish(p, { outcome: 'refused', reason: `the application did not acknowledge it: ${msg.error ?? 'no reason given'}` });
  }

  onError(msg: ErrorMessage): void {
    const p = msg.inboundId ? this.waiting.get(msg.inboundId) : undefined;
    if (!p) return;
    this.o.logger.warn(
      { channel: this.o.channel, inboundId: p.inboundId, code: msg.code, error: msg.error },
      'the cloud did not store an inbound message; the device gets AE',
    );
    this.finish(p, { outcome: 'refused', reason: `the cloud did not store it (${msg.code})` });
  }

  onOpen(): void {
    const head = this.queue[0];
    if (head?.state === 'sent') head.state = 'queued';
    this.pump();
  }

  async stop(): Promise<void> {
    for (const p of [...this.waiting.values()]) this.finish(p, { outcome: 'refused', reason: 'the relay is shutting down' });
    return Promise.resolve();
  }

  private pump(): void {
    const head = this.queue[0];
    if (!head || head.state !== 'queued' || !this.o.link.isOpen()) return;
    try {
      if (this.o.link.send(head.text)) head.state = 'sent';
    } catch (err) {
      this.o.logger.error(
        { channel: this.o.channel, inboundId: head.inboundId, err: (err as Error).message },
        'inbound message could not be sent',
      );
      this.finish(head, { outcome: 'refused', reason: 'the relay could not send the message to the cloud' });
    }
  }

  private timedOut(p: Pending): void {
    const what = this.o.mode === 'app' && p.state === 'stored' ? 'no application ACK' : 'the cloud did not confirm storing it';
    this.o.logger.warn(
      { channel: this.o.channel, inboundId: p.inboundId, state: p.state, timeoutMs: this.o.timeoutMs },
      `${what} in time; AE`,
    );
    this.finish(p, { outcome: 'refused', reason: `${what} within ${this.o.timeoutMs} ms` });
  }

  private finish(p: Pending, verdict: InboundVerdict): void {
    if (!this.waiting.delete(p.inboundId)) return;
    clearTimeout(p.timer);
    this.unqueue(p);
    p.resolve(verdict);
  }

  /** Takes a message out of the send queue; the next one goes out if it was the head. */
  private unqueue(p: Pending): void {
    const i = this.queue.indexOf(p);
    if (i === -1) return;
    this.queue.splice(i, 1);
    if (i === 0) this.pump();
  }
}
