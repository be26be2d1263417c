import { MllpDecoder, MllpFrameError } from '../../../edge-agent/mllp/decoder';
import { encodeFrame } from '../../../edge-agent/mllp/encoder';
import { normaliseSegments } from '../../../hl7/segments';

/** A decoder that records what it delivers: frames (as latin1 text), discards and errors. */
function collecting(options: { maxFrameBytes?: number } = {}) {
  const frames: string[] = [];
  const discards: number[] = [];
  const errors: Error[] = [];
  const d = new MllpDecoder({ ...options, onFrame: (f) => frames.push(f.toString('latin1')) });
  d.on('discard', (n: number) => discards.push(n));
  d.on('error', (e: Error) => errors.push(e));
  return { d, frames, discards, errors };
}

const A = 'MSH|^~\\&|A|B|C|D|20240101||ADT^A01|1|P|2.5\rPID|1\r';
const B = 'MSH|^~\\&|A|B|C|D|20240101||ORU^R01|2|P|2.5\rOBX|1|TX|x||hello\r';
const stream = Buffer.concat([encodeFrame(A), encodeFrame(B)]);

describe('MllpDecoder', () => {
  it('decodes one frame in one chunk and returns to WAIT_START', () => {
    const { d, frames } = collecting();
    d.push(encodeFrame(A));
    expect(frames).toEqual([A]);
    expect(d.state).toBe('WAIT_START');
    expect(d.discardedBytes).toBe(0);
    expect(d.framesDecoded).toBe(1);
  });

  it('decodes two frames split at every byte boundary', () => {
    for (let i = 0; i <= stream.length; i++) {
      const { d, frames } = collecting();
      d.push(stream.subarray(0, i));
      d.push(stream.subarray(i));
      expect(frames).toEqual([A, B]);
      expect(d.discardedBytes).toBe(0);
    }
  });

  it('decodes frames fed one byte at a time', () => {
    const { d, frames } = collecting();
    for (const byte of stream) d.push(Buffer.from([byte]));
    expect(frames).toEqual([A, B]);
  });

  it('decodes several frames in one chunk', () => {
    const { d, frames } = collecting();
    d.push(Buffer.concat([stream, encodeFrame(A)]));
    expect(frames).toEqual([A, B, A]);
  });

  it('decodes a random chunking of frames mixed with garbage, counting exactly the garbage', () => {
    const garbage = Buffer.from('noise\r\n\x00\xff', 'latin1');
    const parts: Buffer[] = [];
    const expected: string[] = [];
    for (let k = 0; k < 50; k++) {
      parts.push(garbage);
      const text = k % 2 ? A : B;
      parts.push(encodeFrame(text));
      expected.push(text);
    }
    const all = Buffer.concat(parts);
    let seed = 42;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const { d, frames, discards } = collecting();
    for (let at = 0; at < all.length;) {
      const n = 1 + Math.floor(rand() * 200);
      d.push(all.subarray(at, at + n));
      at += n;
    }
    expect(frames).toEqual(expected);
    expect(d.discardedBytes).toBe(50 * garbage.length);
    expect(discards.reduce((a, b) => a + b, 0)).toBe(50 * garbage.length);
  });

  it('discards and counts bytes before, between and after frames', () => {
    const { d, frames, discards } = collecting();
    d.push(Buffer.concat([Buffer.from('junk'), encodeFrame(A), Buffer.from('xy'), encodeFrame(B), Buffer.from('tail!')]));
    expect(frames).toEqual([A, B]);
    expect(d.discardedBytes).toBe(4 + 2 + 5);
    expect(discards).toEqual([4, 2, 5]);
  });

  it('treats a chunk of only garbage as discarded, emitting nothing', () => {
    const { d, frames } = collecting();
    d.push(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    expect(frames).toEqual([]);
    expect(d.discardedBytes).toBe(18);
    expect(d.state).toBe('WAIT_START');
  });

  it('abandons an unfinished frame when a new start byte arrives, counting its bytes', () => {
    const { d, frames } = collecting();
    d.push(Buffer.from('\x0bpartial'));
    d.push(encodeFrame(A));
    expect(frames).toEqual([A]);
    expect(d.discardedBytes).toBe('partial'.length);
  });

  it('accepts a frame whose trailing CR is missing', () => {
    const { d, frames } = collecting();
    d.push(Buffer.from(`\x0b${A}\x1c\x0b${B}\x1c\r`, 'latin1'));
    expect(frames).toEqual([A, B]);
    expect(d.discardedBytes).toBe(0);
  });

  it('reports inFrame while a frame is incomplete', () => {
    const { d } = collecting();
    expect(d.inFrame).toBe(false);
    d.push(Buffer.from('\x0bMSH|'));
    expect(d.inFrame).toBe(true);
    expect(d.bufferedBytes).toBe(4);
    d.push(Buffer.from('x\x1c'));
    expect(d.inFrame).toBe(false);
    expect(d.state).toBe('WAIT_END_CR');
  });

  it('accepts a payload exactly at maxFrameBytes', () => {
    const { d, frames, errors } = collecting({ maxFrameBytes: 10 });
    d.push(Buffer.from('\x0b0123456789\x1c\r'));
    expect(frames).toEqual(['0123456789']);
    expect(errors).toEqual([]);
  });

  it('fails with FRAME_TOO_LARGE one byte over the limit, across chunks, and then ignores input', () => {
    const { d, frames, errors } = collecting({ maxFrameBytes: 10 });
    d.push(Buffer.from('\x0b012345'));
    d.push(Buffer.from('6789A'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(MllpFrameError);
    expect((errors[0] as MllpFrameError).code).toBe('FRAME_TOO_LARGE');
    expect(errors[0].message).toMatch(/10-byte limit/);
    expect(d.state).toBe('FAILED');
    d.push(encodeFrame('MSH|ok'));
    expect(frames).toEqual([]);
    d.reset();
    d.push(encodeFrame('MSH|ok'));
    expect(frames).toEqual(['MSH|ok']);
  });

  it('rejects a bad maxFrameBytes', () => {
    expect(() => new MllpDecoder({ maxFrameBytes: 0, onFrame: () => undefined })).toThrow(/positive integer/);
  });

  it.each([
    ['\\r', '\r'],
    ['\\n', '\n'],
    ['\\r\\n', '\r\n'],
  ])('passes %s segment endings through unchanged; normaliseSegments turns them into \\r', (_label, eol) => {
    const text = `MSH|^~\\&|A|B|C|D|1||ADT^A01|9|P|2.5${eol}PID|1${eol}PV1|1${eol}`;
    const { d, frames } = collecting();
    d.push(encodeFrame(text));
    expect(frames).toEqual([text]);
    expect(normaliseSegments(frames[0])).toBe('MSH|^~\\&|A|B|C|D|1||ADT^A01|9|P|2.5\rPID|1\rPV1|1\r');
  });

  it('hands over a frame that arrived in one chunk as a view of that chunk, not a copy', () => {
    const got: Buffer[] = [];
    const d = new MllpDecoder({ onFrame: (f) => got.push(f) });
    const chunk = Buffer.from('\x0bA1\x1c\r', 'latin1');
    d.push(chunk);
    expect(got[0].toString('latin1')).toBe('A1');
    expect(got[0].buffer).toBe(chunk.buffer);
  });
});
