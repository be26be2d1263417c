/**
 * An ASTM peer written for the tests, byte by byte, without the product's codec: it answers (or
 * refuses) ENQ and frames as a scripted analyser would, checks checksums itself, and can start a
 * transfer of its own. It runs over any byte stream: a TCP socket or a serial pty.
 */
import type { Duplex } from 'node:stream';

export const ENQ = 0x05;
export const ACK = 0x06;
export const NAK = 0x15;
export const EOT = 0x04;

export type PeerMode = 'ack' | 'silent' | 'nak-frames' | 'drop-after-first-frame' | 'garbage-then-ack';

export function rawFrame(fn: number, text: string, final = true): Buffer {
  const body = Buffer.from(`${fn % 8}${text}${final ? '\x03' : '\x17'}`, 'latin1');
  let sum = 0;
  for (const b of body) sum = (sum + b) % 256;
  return Buffer.concat([Buffer.of(0x02), body, Buffer.from(sum.toString(16).toUpperCase().padStart(2, '0') + '\r\n', 'latin1')]);
}

export class RawPeer {
  /** Every byte the peer received, for assertions on the wire. */
  readonly seen: Buffer[] = [];
  /** Complete messages (frame texts joined) received between ENQ and EOT. */
  readonly messages: string[] = [];
  readonly frames: { fn: number; text: string; checksumOk: boolean; final: boolean }[] = [];
  private buf = Buffer.alloc(0);
  private current: string[] = [];
  private replies: number[] = [];
  private waiters: (() => void)[] = [];

  constructor(
    readonly stream: Duplex,
    public mode: PeerMode = 'ack',
  ) {
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('error', () => undefined);
  }

  private onData(chunk: Buffer): void {
    this.seen.push(chunk);
    this.buf = Buffer.concat([this.buf, chunk]);
    for (;;) {
      if (this.buf.length === 0) return;
      const b = this.buf[0];
      if (b === 0x02) {
        const lf = this.buf.indexOf(0x0a);
        if (lf === -1) return;
        const frame = this.buf.subarray(0, lf + 1);
        this.buf = this.buf.subarray(lf + 1);
        this.onFrame(frame);
        continue;
      }
      this.buf = this.buf.subarray(1);
      if (b === ENQ) this.answerEnq();
      else if (b === EOT) {
        if (this.current.length) this.messages.push(this.current.join(''));
        this.current = [];
      } else if (b === ACK || b === NAK) {
        this.replies.push(b);
      }
      this.wake();
    }
  }

  private answerEnq(): void {
    if (this.mode === 'silent') return;
    if (this.mode === 'garbage-then-ack') this.stream.write(Buffer.from('\x00\xff~garbage~', 'latin1'));
    this.stream.write(Buffer.of(ACK));
  }

  private onFrame(frame: Buffer): void {
    const n = frame.length;
    let sum = 0;
    for (let i = 1; i < n - 4; i++) sum = (sum + frame[i]) % 256;
    const checksumOk = frame.toString('latin1', n - 4, n - 2) === sum.toString(16).toUpperCase().padStart(2, '0');
    const text = frame.toString('latin1', 2, n - 5);
    const final = frame[n - 5] === 0x03;
    this.frames.push({ fn: frame[1] - 0x30, text, checksumOk, final });
    if (this.mode === 'drop-after-first-frame') {
      this.stream.destroy();
      return;
    }
    if (this.mode === 'nak-frames' || !checksumOk) {
      this.stream.write(Buffer.of(NAK));
      return;
    }
    if (
      this.current.length === 0 ||
      this.frames.length < 2 ||
      this.frames[this.frames.length - 2].fn !== this.frames[this.frames.length - 1].fn
    ) {
      this.current.push(text);
    }
    this.stream.write(Buffer.of(ACK));
    this.wake();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  async until(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error('timed out waiting on the raw ASTM peer');
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  private async reply(): Promise<number> {
    await this.until(() => this.replies.length > 0);
    return this.replies.shift()!;
  }

  /**
   * Sends a whole message as the instrument: ENQ, frames (one record each), EOT. With
   * `stopAfterFrames`, it stops there without EOT (a transfer cut short).
   */
  async transmit(records: string[], options: { stopAfterFrames?: number } = {}): Promise<void> {
    this.stream.write(Buffer.of(ENQ));
    if ((await this.reply()) !== ACK) throw new Error('the other side did not ACK our ENQ');
    let fn = 1;
    for (const record of records) {
      if (options.stopAfterFrames !== undefined && fn > options.stopAfterFrames) return;
      this.stream.write(rawFrame(fn, record + '\r'));
      if ((await this.reply()) !== ACK) throw new Error(`frame ${fn} was not ACKed`);
      fn++;
    }
    this.stream.write(Buffer.of(EOT));
  }
}
