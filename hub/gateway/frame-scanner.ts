/**
 * Watches the raw bytes a client sends on a WebSocket and reports each frame's payload length,
 * so the gateway can enforce API Gateway's 32 KB frame limit. `ws` only offers a per-message
 * limit (maxPayload); a frame limit needs the frame headers, so this reads them alongside it.
 *
 * An explicit state machine in the spirit of ws's receiver: it never buffers payloads, it only
 * counts them down. Header bytes may arrive split across any number of chunks.
 */

enum State {
  Header, // waiting for the 2 fixed header bytes
  ExtLength, // waiting for a 16- or 64-bit extended length
  Mask, // waiting for the 4-byte masking key
  Payload, // skipping payload bytes
}

export class FrameTooLargeError extends Error {
  constructor(
    readonly frameBytes: number,
    readonly limit: number,
  ) {
    super(`WebSocket frame of ${frameBytes} bytes exceeds ${limit}`);
    this.name = 'FrameTooLargeError';
  }
}

export class FrameScanner {
  private state = State.Header;
  /** Header bytes collected so far (at most 8 at a time). */
  private readonly pending = Buffer.alloc(8);
  private pendingLength = 0;
  private needed = 2;
  private masked = false;
  private extBytes = 0;
  private remaining = 0;
  /** Set after the first violation; the scanner then ignores everything. */
  private failed = false;
  frames = 0;

  constructor(private readonly maxFrameBytes: number) {}

  /** Feeds a chunk; throws FrameTooLargeError as soon as a frame header announces too much. */
  write(chunk: Buffer): void {
    if (this.failed) return;
    let offset = 0;
    while (offset < chunk.length) {
      if (this.state === State.Payload) {
        const skip = Math.min(this.remaining, chunk.length - offset);
        this.remaining -= skip;
        offset += skip;
        if (this.remaining === 0) this.startFrame();
        continue;
      }
      const take = Math.min(this.needed - this.pendingLength, chunk.length - offset);
      chunk.copy(this.pending, this.pendingLength, offset, offset + take);
      this.pendingLength += take;
      offset += take;
      if (this.pendingLength === this.needed) this.advance();
    }
  }

  private advance(): void {
    const bytes = this.pending;
    switch (this.state) {
      case State.Header: {
        this.masked = (bytes[1] & 0x80) !== 0;
        const len7 = bytes[1] & 0x7f;
        if (len7 === 126) this.expect(State.ExtLength, (this.extBytes = 2));
        else if (len7 === 127) this.expect(State.ExtLength, (this.extBytes = 8));
        else this.lengthKnown(len7);
        return;
      }
      case State.ExtLength: {
        const length = this.extBytes === 2 ? bytes.readUInt16BE(0) : Number(bytes.readBigUInt64BE(0));
        this.lengthKnown(length);
        return;
      }
      case State.Mask:
        this.payload();
        return;
      default:
        return;
    }
  }

  private lengthKnown(length: number): void {
    this.frames++;
    if (length > this.maxFrameBytes) {
      this.failed = true;
      throw new FrameTooLargeError(length, this.maxFrameBytes);
    }
    this.remaining = length;
    if (this.masked) this.expect(State.Mask, 4);
    else this.payload();
  }

  private payload(): void {
    if (this.remaining === 0) this.startFrame();
    else {
      this.state = State.Payload;
      this.pendingLength = 0;
    }
  }

  private startFrame(): void {
    this.expect(State.Header, 2);
  }

  private expect(state: State, bytes: number): void {
    this.state = state;
    this.needed = bytes;
    this.pendingLength = 0;
  }
}
