/**
 * What an analyser sends, handed to the relay's inbound sink: one ENQ…EOT transfer is one
 * submission, in the order received. Shared by a dialed or serial analyser (astm-device.ts) and a
 * listening channel (astm-channel.ts); one instance per channel name, outliving its connections.
 *
 * ASTM acknowledges frame by frame and never answers EOT, so by the time a transfer is complete
 * the analyser holds it as sent: it cannot be refused any more. Refusal therefore works on the
 * NEXT transfer, through the link's receive gate (link.ts):
 *   - while a transfer is being submitted, the gate is `hold`: an ENQ gets no reply yet, and is
 *     ACKed as soon as the sink accepts (a burst of results flows without the 10 s busy wait);
 *   - when the sink refuses (spool full, cloud unreachable in `cloud` mode), the gate is `busy`:
 *     every ENQ is answered NAK, the LIS01-A2 busy signal, so the analyser keeps its later
 *     results and bids again every 10 s. The refused transfer is submitted again with backoff
 *     until it is accepted; only then does the gate open. Nothing later overtakes it.
 * A transfer cut short (link down, 30 s receiver timeout, last frame ETB) never gets here.
 */
import type { Logger } from 'pino';
import { EqualJitterBackoff, type BackoffOptions } from '../backoff';
import { ASTM_CONTENT_TYPE } from '../../protocol/content-types';
import type { InboundSink, InboundSubmission } from '../relay/inbound-sink';
import type { AstmLink, LinkTimers, ReceiveGate } from './link';

export type AstmInboundEvent =
  | { type: 'accepted'; queued: number }
  | { type: 'refused'; reason: string; retryInMs: number }
  /** stop() with transfers not stored: they were ACKed to the analyser and are lost. */
  | { type: 'dropped'; transfers: number };

export interface AstmInboundOptions {
  /** The channel name: the device's name, or the listening channel's. */
  channel: string;
  sink: InboundSink;
  timers?: LinkTimers;
  now?: () => number;
  /** Between submissions of a refused transfer. */
  retry?: BackoffOptions;
  random?: () => number;
  /** Counts and reasons only, never message text. */
  onEvent?(event: AstmInboundEvent): void;
}

export const INBOUND_RETRY: BackoffOptions = { initialDelayMs: 1_000, maxDelayMs: 10_000 };

const realTimers: LinkTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export class AstmInbound {
  private readonly links = new Set<AstmLink>();
  private readonly queue: InboundSubmission[] = [];
  private readonly timers: LinkTimers;
  private readonly now: () => number;
  private readonly backoff: EqualJitterBackoff;
  private submitting = false;
  private refused = false;
  private retryTimer: unknown;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: AstmInboundOptions) {
    this.timers = options.timers ?? realTimers;
    this.now = options.now ?? Date.now;
    this.backoff = new EqualJitterBackoff(options.retry ?? INBOUND_RETRY, options.random);
  }

  /** Transfers received and not yet accepted by the sink. */
  get pending(): number {
    return this.queue.length;
  }

  get gate(): ReceiveGate {
    if (this.stopped) return 'busy';
    if (this.queue.length === 0) return 'open';
    return this.refused ? 'busy' : 'hold';
  }

  /** A link of this channel: its ENQs are answered by this channel's gate. Returns the detach. */
  attach(link: AstmLink): () => void {
    this.links.add(link);
    link.setReceiveGate(this.gate);
    return () => this.links.delete(link);
  }

  /** One complete transfer's text (the link's onMessage, decoded with the device's charset). */
  receive(text: string): void {
    if (this.stopped) {
      this.options.onEvent?.({ type: 'dropped', transfers: 1 });
      return;
    }
    this.queue.push({ channel: this.options.channel, contentType: ASTM_CONTENT_TYPE, body: text, receivedAt: this.now() });
    this.update();
    if (!this.submitting && !this.refused) void this.submitHead();
  }

  /** Resolves once nothing is being submitted (bounded by the caller). */
  idle(): Promise<void> {
    if (!this.submitting) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** No more submissions; ENQs are refused. Returns how many received transfers were never stored. */
  stop(): number {
    this.stopped = true;
    if (this.retryTimer !== undefined) this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.update();
    const lost = this.queue.length - (this.submitting ? 1 : 0);
    if (lost > 0) this.options.onEvent?.({ type: 'dropped', transfers: lost });
    return lost;
  }

  private async submitHead(): Promise<void> {
    const head = this.queue[0];
    if (!head || this.stopped) return;
    this.submitting = true;
    let refusal: string | undefined;
    try {
      const verdict = await this.options.sink.submit(head);
      // `application` (app mode) means the application took it; ASTM has no reply to forward.
      if (verdict.outcome === 'refused') refusal = verdict.reason;
    } catch (err) {
      refusal = (err as Error)?.message ?? String(err);
    }
    this.submitting = false;
    for (const w of this.idleWaiters.splice(0)) w();
    if (this.stopped) return;
    if (refusal !== undefined) {
      this.refused = true;
      const retryInMs = this.backoff.next();
      this.options.onEvent?.({ type: 'refused', reason: refusal, retryInMs });
      this.update();
      this.retryTimer = this.timers.setTimeout(() => {
        this.retryTimer = undefined;
        void this.submitHead();
      }, retryInMs);
      return;
    }
    this.queue.shift();
    this.refused = false;
    this.backoff.reset();
    this.options.onEvent?.({ type: 'accepted', queued: this.queue.length });
    this.update();
    if (this.queue.length > 0) void this.submitHead();
  }

  private update(): void {
    const gate = this.gate;
    for (const link of this.links) link.setReceiveGate(gate);
  }
}

/** The events as log lines: counts and reasons, never message text. */
export function logInboundEvent(logger: Logger | undefined, channel: string, e: AstmInboundEvent): void {
  if (!logger) return;
  if (e.type === 'refused')
    logger.warn({ channel, reason: e.reason, retryInMs: e.retryInMs }, 'ASTM transfer not stored; the analyser is told busy until it is');
  else if (e.type === 'dropped') logger.error({ channel, transfers: e.transfers }, 'ASTM transfers received but never stored');
  else logger.debug({ channel, queued: e.queued }, 'ASTM transfer stored');
}
