/**
 * The ASTM E1381 / CLSI LIS01-A2 data link as an explicit state machine. One link is one TCP
 * connection or serial line; it carries any number of ENQ…EOT transfers, in both directions.
 * Bytes come in through `receive()` (the driver loop); bytes go out through `write`; timers are
 * injected so every timeout runs on a fake clock in tests.
 *
 *   NEUTRAL   --send() queued----------------> ENQ, BIDDING
 *   NEUTRAL   --ENQ, gate open---------------> ACK, RECEIVING
 *   NEUTRAL   --ENQ, gate busy---------------> NAK (busy: the analyser bids again in 10 s)
 *   NEUTRAL   --ENQ, gate hold---------------> no reply yet: ACK when the gate opens, NAK when it
 *                                              turns busy or after enqHoldMs (under the 15 s the
 *                                              sender waits); no bid of ours meanwhile
 *   BIDDING   --ACK--------------------------> frame 1, SENDING
 *   BIDDING   --NAK (busy)-------------------> BID_WAIT 10 s, then ENQ again
 *   BIDDING   --ENQ (contention)-------------> computer: NEUTRAL, no bid for 20 s (the instrument wins)
 *                                              instrument: BID_WAIT 1 s, then ENQ again
 *   BIDDING   --15 s without reply-----------> EOT, NEUTRAL, send fails TIMEOUT
 *   SENDING   --ACK--------------------------> next frame, or EOT and NEUTRAL (send resolves)
 *   SENDING   --NAK or other byte------------> the same frame again; at the 6th refusal EOT, NAK_LIMIT
 *   SENDING   --EOT (receiver interrupt)-----> the frame counts as accepted; EOT, NEUTRAL
 *                                              (resolves if it was the last frame, else INTERRUPTED)
 *   SENDING   --15 s without reply-----------> EOT, NEUTRAL, send fails TIMEOUT
 *   RECEIVING --good frame, expected FN------> ACK (text kept)
 *   RECEIVING --good frame, previous FN------> ACK (a repeat: our ACK was lost; not kept twice)
 *   RECEIVING --bad frame--------------------> NAK
 *   RECEIVING --EOT--------------------------> NEUTRAL, the message is delivered (never ACKed)
 *   RECEIVING --30 s without a frame---------> NEUTRAL, the partial message is discarded
 *
 * Frame bytes are collected inside RECEIVING from STX to LF (bounded by maxFrameBytes).
 */
import { ACK, checkFrame, encodeFrame, ENQ, EOT, LF, NAK, splitFrames, STX } from './frame';

export type LinkState = 'NEUTRAL' | 'BIDDING' | 'BID_WAIT' | 'SENDING' | 'RECEIVING' | 'CLOSED';

/**
 * How the link answers an analyser's ENQ: `open` ACK, `busy` NAK, `hold` answer later (the owner is
 * still storing the previous transfer and will open or refuse shortly).
 */
export type ReceiveGate = 'open' | 'busy' | 'hold';

export type LinkFailure = 'NAK_LIMIT' | 'TIMEOUT' | 'LINK_DOWN' | 'CONTENTION_TIMEOUT' | 'INTERRUPTED' | 'INVALID_MESSAGE';

export class AstmLinkError extends Error {
  constructor(
    readonly code: LinkFailure,
    message: string,
    /** True once a frame of the message was written: the analyser may hold part of it. */
    readonly delivered = false,
  ) {
    super(message);
    this.name = 'AstmLinkError';
  }
}

export interface LinkTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: LinkTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface AstmLinkOptions {
  /** Who wins contention: the instrument. The relay is the 'computer' (LIS01-A2 §6.2.1). */
  role: 'computer' | 'instrument';
  write(bytes: Buffer): void;
  /** One complete transfer's text (frames joined; records end in CR). */
  onMessage(text: Buffer): void;
  /** Protocol events worth counting or logging (never with message text). */
  onEvent?(event: LinkEvent): void;
  timers?: LinkTimers;
  /** Sender's wait for a reply to ENQ or a frame. LIS01-A2 §6.5.2: 15 s. */
  senderTimeoutMs?: number;
  /** Receiver's wait for the next frame or EOT. LIS01-A2 §6.5.2: 30 s. */
  receiverTimeoutMs?: number;
  /** After a NAK to ENQ (receiver busy): at least 10 s before bidding again. */
  busyRetryMs?: number;
  /** After contention: the computer waits 20 s, the instrument 1 s. */
  contentionWaitMs?: number;
  /** Times a frame is sent without being accepted before the transfer is aborted. LIS01-A2: 6. */
  maxFrameAttempts?: number;
  /** Bids refused (NAK) or lost to contention before a send fails CONTENTION_TIMEOUT. */
  maxBids?: number;
  /** Largest frame accepted from the peer, framing included (some analysers exceed 247). */
  maxFrameBytes?: number;
  /** Largest message accepted from the peer; past it the transfer is interrupted (EOT). */
  maxMessageBytes?: number;
  /** Frame text size for what we send. LIS01-A2: 240. */
  maxFrameText?: number;
  /** Longest an ENQ waits for a reply while the gate is `hold`; then NAK. Under the sender's 15 s. */
  enqHoldMs?: number;
}

export type LinkEvent =
  | { type: 'frameRejected'; reason: string }
  | { type: 'frameRepeated' }
  | { type: 'garbage'; bytes: number }
  | { type: 'receiveTimeout' }
  | { type: 'contention' }
  | { type: 'busy' }
  | { type: 'refusedEnq' }
  | { type: 'messageTooLarge' };

interface Outgoing {
  message: Buffer;
  resolve(): void;
  reject(err: AstmLinkError): void;
  bids: number;
}

export class AstmLink {
  private _state: LinkState = 'NEUTRAL';
  private readonly timers: LinkTimers;
  private readonly opts: Required<Omit<AstmLinkOptions, 'onEvent' | 'timers'>> & Pick<AstmLinkOptions, 'onEvent'>;
  private timer: unknown;
  /** No bid before this timer fires (after contention or a busy NAK). */
  private holdTimer: unknown;
  private readonly queue: Outgoing[] = [];
  // Sending
  private frames: Buffer[] = [];
  private frameIndex = 0;
  private frameAttempts = 0;
  // Receiving
  private frameBuf: Buffer[] = [];
  private frameBytes = 0;
  private inFrame = false;
  private expectedFn = 1;
  private received: Buffer[] = [];
  private receivedBytes = 0;
  private lastFinal = true;
  private gate: ReceiveGate = 'open';
  /** An ENQ that came while the gate was `hold`, not answered yet. */
  private heldEnq = false;

  constructor(options: AstmLinkOptions) {
    this.timers = options.timers ?? realTimers;
    this.opts = {
      senderTimeoutMs: 15_000,
      receiverTimeoutMs: 30_000,
      busyRetryMs: 10_000,
      contentionWaitMs: options.role === 'computer' ? 20_000 : 1_000,
      maxFrameAttempts: 6,
      maxBids: 6,
      maxFrameBytes: 64 * 1024,
      maxMessageBytes: 16 * 1024 * 1024,
      maxFrameText: 240,
      enqHoldMs: 10_000,
      ...options,
    };
  }

  get state(): LinkState {
    return this._state;
  }

  /** Messages waiting to be sent, the one in transfer included. */
  get pending(): number {
    return this.queue.length;
  }

  get receiveGate(): ReceiveGate {
    return this.gate;
  }

  /** Sets how the next ENQ is answered; an ENQ held so far is answered now (ACK or NAK) unless still `hold`. */
  setReceiveGate(gate: ReceiveGate): void {
    this.gate = gate;
    if (!this.heldEnq || this._state === 'CLOSED' || gate === 'hold') return;
    this.heldEnq = false;
    this.clearTimer();
    if (gate === 'open') this.startReceiving();
    else this.refuseEnq();
  }

  /** Sends one message (records, CR-separated, already encoded). Resolves once every frame was accepted and EOT sent. */
  send(message: Buffer): Promise<void> {
    if (this._state === 'CLOSED') return Promise.reject(new AstmLinkError('LINK_DOWN', 'the link is closed'));
    try {
      splitFrames(message, this.opts.maxFrameText);
    } catch (err) {
      return Promise.reject(new AstmLinkError('INVALID_MESSAGE', (err as Error).message));
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ message, resolve, reject, bids: 0 });
      if (this._state === 'NEUTRAL') this.bid();
    });
  }

  /** The driver loop: every byte from the peer. */
  receive(chunk: Buffer): void {
    for (let i = 0; i < chunk.length; i++) {
      if (this._state === 'CLOSED') return;
      const b = chunk[i];
      switch (this._state) {
        case 'NEUTRAL':
        case 'BID_WAIT':
          this.onNeutralByte(b);
          break;
        case 'BIDDING':
          this.onBidReply(b);
          break;
        case 'SENDING':
          this.onFrameReply(b);
          break;
        case 'RECEIVING':
          i = this.onReceiveBytes(chunk, i);
          break;
      }
    }
  }

  /** The connection is gone: every waiting send fails LINK_DOWN, a partial message is discarded. */
  close(): void {
    if (this._state === 'CLOSED') return;
    this.clearTimer();
    if (this.holdTimer !== undefined) this.timers.clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    this.heldEnq = false;
    const midTransfer = this._state === 'SENDING';
    this._state = 'CLOSED';
    this.queue.splice(0).forEach((out, i) => out.reject(new AstmLinkError('LINK_DOWN', 'the link went down', i === 0 && midTransfer)));
    this.resetReceive();
  }

  // ---- neutral and establishment ----

  private onNeutralByte(b: number): void {
    if (b === ENQ) {
      if (this.heldEnq) return; // the same bid again: it is still being answered
      if (this.gate === 'busy') return this.refuseEnq();
      if (this.gate === 'hold') {
        this.heldEnq = true;
        this.arm(this.opts.enqHoldMs, () => {
          this.heldEnq = false;
          this.refuseEnq();
        });
        return;
      }
      this.startReceiving();
      return;
    }
    // EOT, stray ACK/NAK, line noise: nothing to answer in neutral.
    this.opts.onEvent?.({ type: 'garbage', bytes: 1 });
  }

  /** NAK to ENQ: busy. The analyser keeps its message and bids again no sooner than 10 s. */
  private refuseEnq(): void {
    this.opts.onEvent?.({ type: 'refusedEnq' });
    this.opts.write(Buffer.of(NAK));
    this.bid();
  }

  private bid(): void {
    if (this._state !== 'NEUTRAL' || this.heldEnq || this.holdTimer !== undefined || this.queue.length === 0) return;
    this._state = 'BIDDING';
    this.opts.write(Buffer.of(ENQ));
    this.arm(this.opts.senderTimeoutMs, () => this.abort('TIMEOUT', 'no reply to ENQ within the sender timeout'));
  }

  private onBidReply(b: number): void {
    const head = this.queue[0];
    if (b === ACK) {
      this.frames = splitFrames(head.message, this.opts.maxFrameText).map((f, i) => encodeFrame((i + 1) & 7, f.text, f.final));
      this.frameIndex = 0;
      this.frameAttempts = 0;
      this._state = 'SENDING';
      this.sendFrame();
      return;
    }
    if (b === NAK || b === ENQ) {
      this.clearTimer();
      const contention = b === ENQ;
      this.opts.onEvent?.({ type: contention ? 'contention' : 'busy' });
      head.bids++;
      if (head.bids >= this.opts.maxBids) {
        // Give up on this message; the link stays up, and the instrument's next ENQ is answered.
        this._state = 'NEUTRAL';
        this.fail('CONTENTION_TIMEOUT', `the device refused ${head.bids} bids to send`);
        this.hold(contention ? this.opts.contentionWaitMs : this.opts.busyRetryMs);
        return;
      }
      if (contention && this.opts.role === 'computer') {
        // The instrument wins: we answer its next ENQ, and bid again no sooner than 20 s.
        this._state = 'NEUTRAL';
        this.hold(this.opts.contentionWaitMs);
        return;
      }
      this._state = 'BID_WAIT';
      this.hold(contention ? this.opts.contentionWaitMs : this.opts.busyRetryMs);
      return;
    }
    this.opts.onEvent?.({ type: 'garbage', bytes: 1 });
  }

  private hold(ms: number): void {
    this.holdTimer = this.timers.setTimeout(() => {
      this.holdTimer = undefined;
      if (this._state === 'BID_WAIT') this._state = 'NEUTRAL';
      this.bid();
    }, ms);
  }

  // ---- sending ----

  private sendFrame(): void {
    this.frameAttempts++;
    this.opts.write(this.frames[this.frameIndex]);
    this.arm(this.opts.senderTimeoutMs, () => this.abort('TIMEOUT', `no reply to frame ${this.frameIndex + 1} within the sender timeout`));
  }

  private onFrameReply(b: number): void {
    const last = this.frameIndex === this.frames.length - 1;
    if (b === ACK) {
      if (last) return this.finishSend();
      this.frameIndex++;
      this.frameAttempts = 0;
      this.sendFrame();
      return;
    }
    if (b === EOT) {
      // Receiver interrupt: the frame is accepted and the receiver asks us to stop.
      if (last) return this.finishSend();
      this.abort('INTERRUPTED', `the device interrupted the transfer after frame ${this.frameIndex + 1} of ${this.frames.length}`);
      return;
    }
    // NAK, or any other character, counts as a NAK (LIS01-A2 §6.3.4).
    if (this.frameAttempts >= this.opts.maxFrameAttempts) {
      this.abort('NAK_LIMIT', `frame ${this.frameIndex + 1} was refused ${this.frameAttempts} times`);
      return;
    }
    this.sendFrame();
  }

  private finishSend(): void {
    this.clearTimer();
    this.opts.write(Buffer.of(EOT));
    this._state = 'NEUTRAL';
    this.queue.shift()!.resolve();
    this.bid();
  }

  /** Termination phase after a failure: EOT, neutral, the head message fails. */
  private abort(code: LinkFailure, message: string): void {
    const delivered = this._state === 'SENDING';
    this.clearTimer();
    this.opts.write(Buffer.of(EOT));
    this._state = 'NEUTRAL';
    this.fail(code, message, delivered);
    this.bid();
  }

  private fail(code: LinkFailure, message: string, delivered = false): void {
    this.queue.shift()?.reject(new AstmLinkError(code, message, delivered));
  }

  // ---- receiving ----

  private startReceiving(): void {
    this.clearTimer();
    this.resetReceive();
    this._state = 'RECEIVING';
    this.opts.write(Buffer.of(ACK));
    this.armReceive();
  }

  private armReceive(): void {
    this.arm(this.opts.receiverTimeoutMs, () => {
      this.opts.onEvent?.({ type: 'receiveTimeout' });
      this.resetReceive();
      this._state = 'NEUTRAL';
      this.bid();
    });
  }

  /** Returns the index of the last byte consumed. */
  private onReceiveBytes(chunk: Buffer, i: number): number {
    if (!this.inFrame) {
      const b = chunk[i];
      if (b === STX) {
        this.inFrame = true;
        this.frameBuf = [];
        this.frameBytes = 0;
        return this.collectFrame(chunk, i);
      }
      if (b === EOT) {
        this.endTransfer();
        return i;
      }
      this.opts.onEvent?.({ type: 'garbage', bytes: 1 });
      return i;
    }
    return this.collectFrame(chunk, i);
  }

  private collectFrame(chunk: Buffer, start: number): number {
    const lf = chunk.indexOf(LF, start);
    const end = lf === -1 ? chunk.length : lf + 1;
    this.frameBuf.push(chunk.subarray(start, end));
    this.frameBytes += end - start;
    if (this.frameBytes > this.opts.maxFrameBytes) {
      // Not a frame we can take: refuse it and wait for the sender to try again or give up.
      this.inFrame = false;
      this.frameBuf = [];
      this.opts.onEvent?.({ type: 'frameRejected', reason: 'TOO_LARGE' });
      this.opts.write(Buffer.of(NAK));
      this.armReceive();
      return end - 1;
    }
    if (lf === -1) return chunk.length - 1;
    this.inFrame = false;
    const frame = this.frameBuf.length === 1 ? this.frameBuf[0] : Buffer.concat(this.frameBuf);
    this.frameBuf = [];
    this.onFrame(frame);
    return lf;
  }

  private onFrame(frame: Buffer): void {
    this.armReceive();
    const check = checkFrame(frame);
    if (!check.ok) {
      this.opts.onEvent?.({ type: 'frameRejected', reason: check.reason });
      this.opts.write(Buffer.of(NAK));
      return;
    }
    if (check.fn === ((this.expectedFn + 7) & 7) && this.received.length > 0) {
      // The sender did not see our ACK and sent the frame again: accept it once.
      this.opts.onEvent?.({ type: 'frameRepeated' });
      this.opts.write(Buffer.of(ACK));
      return;
    }
    if (check.fn !== this.expectedFn) {
      this.opts.onEvent?.({ type: 'frameRejected', reason: 'FRAME_NUMBER' });
      this.opts.write(Buffer.of(NAK));
      return;
    }
    if (this.receivedBytes + check.text.length > this.opts.maxMessageBytes) {
      // Receiver interrupt: ask the sender to stop; what came so far is dropped.
      this.opts.onEvent?.({ type: 'messageTooLarge' });
      this.resetReceive();
      this.opts.write(Buffer.of(EOT));
      this.expectedFn = -1; // nothing more is accepted in this transfer
      return;
    }
    this.received.push(Buffer.from(check.text));
    this.receivedBytes += check.text.length;
    this.lastFinal = check.final;
    this.expectedFn = (this.expectedFn + 1) & 7;
    this.opts.write(Buffer.of(ACK));
  }

  private endTransfer(): void {
    this.clearTimer();
    const text = this.received.length > 0 && this.lastFinal ? Buffer.concat(this.received) : undefined;
    this.resetReceive();
    this._state = 'NEUTRAL';
    if (text) this.opts.onMessage(text);
    this.bid();
  }

  private resetReceive(): void {
    this.inFrame = false;
    this.frameBuf = [];
    this.frameBytes = 0;
    this.expectedFn = 1;
    this.received = [];
    this.receivedBytes = 0;
    this.lastFinal = true;
  }

  // ---- timers ----

  private arm(ms: number, fn: () => void): void {
    this.clearTimer();
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      fn();
    }, ms);
  }

  private clearTimer(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
