/**
 * Streaming MLLP decoder: an explicit state machine fed with TCP chunks, in the spirit of ws's
 * Receiver. A frame is <VT> payload <FS><CR>.
 *
 *   WAIT_START  --VT-->  IN_FRAME  --FS-->  WAIT_END_CR  --CR (optional)-->  WAIT_START
 *        \ other bytes: discarded and counted
 *   IN_FRAME --VT--> IN_FRAME (the unfinished frame is abandoned and counted as discarded)
 *   IN_FRAME --payload over maxFrameBytes--> FAILED (error FRAME_TOO_LARGE; the owner drops the socket)
 *
 * A frame is delivered at FS (a sender that omits the trailing CR still gets its frame through),
 * by one direct call to options.onFrame per frame. The payload is a view into the received chunk
 * when the frame arrived in one chunk (the common case), so no bytes are copied: it is valid during
 * the call only, and the owner copies or decodes what it keeps.
 *
 * Events (rare, off the hot path): 'discard' (bytes: number), 'error' (MllpFrameError).
 */
import { EventEmitter } from 'node:events';
import { CR, DEFAULT_MAX_FRAME_BYTES, FS, VT } from './constants';

export type DecoderState = 'WAIT_START' | 'IN_FRAME' | 'WAIT_END_CR' | 'FAILED';

export class MllpFrameError extends Error {
  readonly code = 'FRAME_TOO_LARGE';

  constructor(readonly maxFrameBytes: number) {
    super(`MLLP frame exceeds the ${maxFrameBytes}-byte limit; dropping the connection`);
    this.name = 'MllpFrameError';
  }
}

export interface MllpDecoderOptions {
  /** Receives each frame's payload (framing bytes excluded). */
  onFrame: (payload: Buffer) => void;
  /** Largest payload accepted, in bytes (framing bytes excluded). Default 1 MiB. */
  maxFrameBytes?: number;
}

export class MllpDecoder extends EventEmitter {
  readonly maxFrameBytes: number;
  /** Bytes seen outside any frame, plus abandoned partial frames. */
  discardedBytes = 0;
  framesDecoded = 0;
  private _state: DecoderState = 'WAIT_START';
  private parts: Buffer[] = [];
  private partBytes = 0;
  private readonly onFrame: (payload: Buffer) => void;

  constructor(options: MllpDecoderOptions) {
    super();
    const max = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    if (!Number.isInteger(max) || max <= 0) throw new RangeError(`maxFrameBytes must be a positive integer, got ${max}`);
    this.maxFrameBytes = max;
    this.onFrame = options.onFrame;
  }

  get state(): DecoderState {
    return this._state;
  }

  /** True while part of a frame has arrived but not its end: a close now cuts a message in half. */
  get inFrame(): boolean {
    return this._state === 'IN_FRAME';
  }

  /** Bytes of the unfinished frame buffered so far. */
  get bufferedBytes(): number {
    return this.partBytes;
  }

  push(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      switch (this._state) {
        case 'WAIT_START':
          i = this.waitStart(chunk, i);
          break;
        case 'IN_FRAME':
          i = this.readPayload(chunk, i);
          break;
        case 'WAIT_END_CR':
          // The frame is already out; eat its CR if there is one.
          this._state = 'WAIT_START';
          if (chunk[i] === CR) i++;
          break;
        case 'FAILED':
          this.discard(chunk.length - i);
          return;
      }
    }
  }

  /** Back to WAIT_START with nothing buffered (e.g. to reuse a decoder after FAILED). */
  reset(): void {
    this._state = 'WAIT_START';
    this.parts = [];
    this.partBytes = 0;
  }

  private waitStart(chunk: Buffer, i: number): number {
    // The usual case, a frame starting right here, needs no search.
    const vt = chunk[i] === VT ? i : chunk.indexOf(VT, i);
    if (vt === -1) {
      this.discard(chunk.length - i);
      return chunk.length;
    }
    if (vt > i) this.discard(vt - i);
    this._state = 'IN_FRAME';
    return vt + 1;
  }

  private readPayload(chunk: Buffer, i: number): number {
    const fs = chunk.indexOf(FS, i);
    const end = fs === -1 ? chunk.length : fs;
    const vt = chunk.indexOf(VT, i);
    if (vt !== -1 && vt < end) {
      // A new start byte before the end: the sender gave up on the previous frame.
      this.discard(this.partBytes + (vt - i));
      this.parts = [];
      this.partBytes = 0;
      return vt + 1;
    }
    const length = end - i;
    if (this.partBytes + length > this.maxFrameBytes) {
      this.discard(this.partBytes + length);
      this.parts = [];
      this.partBytes = 0;
      this._state = 'FAILED';
      this.emit('error', new MllpFrameError(this.maxFrameBytes));
      return end;
    }
    if (fs === -1) {
      if (length > 0) {
        this.parts.push(chunk.subarray(i));
        this.partBytes += length;
      }
      return chunk.length;
    }
    let frame: Buffer;
    if (this.parts.length === 0) {
      frame = chunk.subarray(i, fs);
    } else {
      this.parts.push(chunk.subarray(i, fs));
      frame = Buffer.concat(this.parts, this.partBytes + length);
      this.parts = [];
      this.partBytes = 0;
    }
    this._state = 'WAIT_END_CR';
    this.framesDecoded++;
    this.onFrame(frame);
    return fs + 1;
  }

  private discard(bytes: number): void {
    if (bytes <= 0) return;
    this.discardedBytes += bytes;
    this.emit('discard', bytes);
  }
}
