/**
 * One device connection on an MLLP channel: frames in, one sink submission each, ACKs out in the
 * order the frames came. Every complete frame gets an answer: a frame that is not HL7 (no MSH)
 * or has no MSH-10 gets AR with the reason; a frame over the channel's cap gets AR and the
 * connection is closed (the rest of that frame cannot be told apart from the next one).
 *
 * Memory per connection is bounded: at most maxMessageBytes of an unfinished frame; at most
 * MAX_QUEUED complete frames waiting (reading pauses until they are answered). A device that
 * does not read its ACKs: past WRITE_HIGH_WATER unread bytes reading pauses too (its own sends
 * then block in TCP), so the idle timeout closes it; past MAX_UNREAD_BYTES (one huge
 * application ACK) it is closed at once.
 */
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { Hl7Error } from '../../hl7/hl7-errors';
import { readMsh, type MshHeader } from '../../hl7/msh';
import type { ChannelSettings, InboundSink } from '../relay/inbound-sink';
import { MllpDecoder, type MllpFrameError } from './decoder';
import { encodeFrame } from './encoder';
import { decodeText } from './encoding';
import { IdleTimer } from './idle-timer';
import { commitAck, finalAcks, NO_MSH, rejectAck } from './inbound-ack';
import { WarnLimiter } from './warn-limiter';

export const HL7_CONTENT_TYPE = 'x-application/hl7-v2+er7';
/** Complete frames a pipelining device may have waiting before reading pauses. */
export const MAX_QUEUED = 16;
/** Unread ACK bytes past which reading pauses until the device reads (socket 'drain'). */
export const WRITE_HIGH_WATER = 64 * 1024;
/** Unread ACK bytes past which the connection is closed. */
export const MAX_UNREAD_BYTES = 1024 * 1024;

type Work = { text: string; receivedAt: number } | { tooLarge: number };

export class InboundSession {
  readonly remote: string;
  private readonly decoder: MllpDecoder;
  private readonly idle: IdleTimer;
  private readonly queue: Work[] = [];
  private busy = false;
  private reading = true;
  private draining = false;
  private peerEnded = false;
  private closed = false;
  private readonly done: Promise<void>;

  constructor(
    private readonly socket: Socket,
    private readonly settings: ChannelSettings,
    private readonly sink: InboundSink,
    private readonly logger: Logger,
  ) {
    this.remote = `${socket.remoteAddress}:${socket.remotePort}`;
    socket.setNoDelay(true);
    this.decoder = new MllpDecoder({
      maxFrameBytes: settings.maxMessageBytes,
      // Decoded at once: the payload is a view into the socket's chunk, valid during the call only.
      onFrame: (payload) => this.enqueue({ text: decodeText(payload, settings.encoding), receivedAt: Date.now() }),
    });
    const garbage = new WarnLimiter();
    this.decoder.on('discard', (bytes: number) => {
      const { level, suppressed } = garbage.next();
      this.logger[level]({ remote: this.remote, bytes, suppressed }, 'discarded bytes outside an MLLP frame');
    });
    this.decoder.on('error', (err: MllpFrameError) => {
      // Nothing more is read (see flow()): the frame's remainder would pass for garbage or a new frame.
      this.enqueue({ tooLarge: err.maxFrameBytes });
    });
    this.idle = new IdleTimer(settings.idleTimeoutMs, () => this.onIdle());
    this.idle.touch();
    this.done = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => {
      this.idle.touch();
      this.decoder.push(chunk);
    });
    socket.on('end', () => {
      this.peerEnded = true;
      if (!this.busy) socket.end();
    });
    socket.on('drain', () => this.flow());
    socket.on('error', (err: NodeJS.ErrnoException) => {
      this.logger.debug({ remote: this.remote, code: err.code }, 'device connection error');
    });
    socket.on('close', () => {
      this.closed = true;
      this.idle.cancel();
      if (this.decoder.inFrame)
        this.logger.warn(
          { remote: this.remote, bytes: this.decoder.bufferedBytes },
          'device closed the connection mid-frame; the partial message was dropped (never acknowledged)',
        );
    });
  }

  /** True while a message is being stored or answered. */
  get isBusy(): boolean {
    return this.busy;
  }

  /** Resolves when the socket has closed. */
  get closedPromise(): Promise<void> {
    return this.done;
  }

  /** Stop reading; finish the message in hand within `graceMs`, then close. */
  async drain(graceMs: number): Promise<void> {
    this.draining = true;
    this.flow();
    this.queue.length = 0;
    if (this.busy) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.idleNow(), new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
    }
    this.socket.end();
    const force = setTimeout(() => this.socket.destroy(), 1_000);
    await this.done;
    clearTimeout(force);
  }

  private idleWaiters: Array<() => void> = [];
  private idleNow(): Promise<void> {
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private enqueue(work: Work): void {
    this.queue.push(work);
    this.flow();
    if (!this.busy) void this.run();
  }

  /** Reads from the device only while every bound holds. */
  private flow(): void {
    const read =
      !this.draining && this.decoder.state !== 'FAILED' && this.queue.length < MAX_QUEUED && this.socket.writableLength <= WRITE_HIGH_WATER;
    if (read === this.reading || this.closed) return;
    this.reading = read;
    if (read) this.socket.resume();
    else this.socket.pause();
  }

  private async run(): Promise<void> {
    this.busy = true;
    while (this.queue.length && !this.closed) {
      const work = this.queue.shift()!;
      this.flow();
      if ('tooLarge' in work) {
        this.logger.error({ remote: this.remote, maxMessageBytes: work.tooLarge }, 'message over the channel limit; refused (AR), closing');
        this.write(rejectAck(NO_MSH, `message exceeds the ${work.tooLarge}-byte limit of this channel`));
        this.queue.length = 0;
        this.socket.end();
        break;
      }
      await this.handle(work.text, work.receivedAt);
    }
    this.busy = false;
    for (const w of this.idleWaiters.splice(0)) w();
    if (this.closed) return;
    if (this.peerEnded) this.socket.end();
    else this.flow();
  }

  private async handle(text: string, receivedAt: number): Promise<void> {
    let msh: MshHeader;
    try {
      msh = readMsh(text);
    } catch (err) {
      const reason = err instanceof Hl7Error ? err.message : 'not an HL7 v2 message';
      this.logger.warn({ remote: this.remote, bytes: text.length }, 'frame is not an HL7 message; refused (AR)');
      this.write(rejectAck(NO_MSH, reason));
      return;
    }
    if (!msh.controlId) {
      this.logger.warn({ remote: this.remote, messageType: msh.messageType }, 'message has no MSH-10; refused (AR)');
      this.write(rejectAck(msh, 'MSH-10 (message control id) is empty; an ACK could not be matched to this message'));
      return;
    }
    const log = { remote: this.remote, channel: this.settings.name, controlId: msh.controlId, messageType: msh.messageType };
    const commit = commitAck(msh);
    let committed = false;
    const stored = (): void => {
      // app channels: the commit ACK now, the application's ACK when it comes.
      if (commit && this.settings.ack === 'app' && !committed) {
        committed = true;
        this.write(commit);
      }
    };
    let verdict;
    try {
      verdict = await this.sink.submit(
        {
          channel: this.settings.name,
          contentType: HL7_CONTENT_TYPE,
          body: text,
          receivedAt,
          controlId: msh.controlId,
          messageType: msh.messageType || undefined,
        },
        { stored },
      );
    } catch (err) {
      // The sink answers refusals as verdicts; a throw is a bug, and the device must still hear.
      this.logger.error({ ...log, err: err instanceof Error ? err.message : String(err) }, 'inbound sink failed');
      verdict = { outcome: 'refused' as const, reason: 'the relay could not store the message' };
    }
    if (verdict.outcome === 'refused') this.logger.warn({ ...log, reason: verdict.reason }, 'message refused (AE)');
    else this.logger.debug(log, 'message received');
    for (const ack of finalAcks(msh, verdict, committed)) this.write(ack);
  }

  private write(text: string): void {
    if (this.closed || this.socket.destroyed) return;
    this.idle.touch();
    this.socket.write(encodeFrame(text, this.settings.encoding));
    if (this.socket.writableLength > MAX_UNREAD_BYTES) {
      this.logger.warn(
        { remote: this.remote, unreadBytes: this.socket.writableLength },
        'device is not reading its ACKs; closing the connection',
      );
      this.socket.destroy();
      return;
    }
    this.flow();
  }

  private onIdle(): void {
    if (this.busy) {
      this.idle.touch(); // waiting on the cloud is not the device's silence
      return;
    }
    this.logger.info({ remote: this.remote, idleTimeoutMs: this.settings.idleTimeoutMs }, 'closing an idle device connection');
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1_000).unref();
  }
}
