import { MllpDecoder } from '../../../edge-agent/mllp/decoder';
import { encodeFrame } from '../../../edge-agent/mllp/encoder';
import { decodeText, encodeText, EncodingError, resolveEncoding } from '../../../edge-agent/mllp/encoding';

describe('encodings', () => {
  it.each([
    [undefined, 'utf-8'],
    ['', 'utf-8'],
    ['UTF8', 'utf-8'],
    ['utf-8', 'utf-8'],
    ['latin1', 'latin1'],
    ['ISO-8859-1', 'latin1'],
    ['windows-1252', 'windows-1252'],
    ['CP1252', 'windows-1252'],
    ['ascii', 'ascii'],
  ])('resolves %p to %p', (name, canonical) => {
    expect(resolveEncoding(name)).toBe(canonical);
  });

  it.each(['utf-16le', 'ucs2', 'klingon', 'shift_jis'])('refuses %p with a clear error listing the supported ones', (name) => {
    expect(() => resolveEncoding(name)).toThrow(EncodingError);
    expect(() => resolveEncoding(name)).toThrow(new RegExp(`unsupported character encoding "${name}".*windows-1252`));
  });

  it.each([
    ['windows-1252', 'é', [0xe9]],
    ['windows-1252', '€', [0x80]],
    ['latin1', 'é', [0xe9]],
    ['utf-8', 'é', [0xc3, 0xa9]],
    ['utf-8', '€', [0xe2, 0x82, 0xac]],
  ])('%s encodes %s as %p and back', (enc, ch, bytes) => {
    expect([...encodeText(ch, enc)]).toEqual(bytes);
    expect(decodeText(Buffer.from(bytes), enc)).toBe(ch);
  });

  it.each(['utf-8', 'windows-1252', 'latin1'])('round-trips a message with accents through frame and decoder in %s', (enc) => {
    const text = 'MSH|^~\\&|A|B|C|D|1||ADT^A01|7|P|2.5\rPID|1||1||Müller^José^Ñ||19800101|F\r';
    const frame = encodeFrame(text, enc);
    expect(frame[0]).toBe(0x0b);
    expect([...frame.subarray(-2)]).toEqual([0x1c, 0x0d]);
    const out: string[] = [];
    const d = new MllpDecoder({ onFrame: (f) => out.push(decodeText(f, enc)) });
    d.push(frame);
    expect(out).toEqual([text]);
  });

  it('decoding windows-1252 bytes as utf-8 does not give the original (the setting matters)', () => {
    const frame = encodeFrame('é', 'windows-1252');
    expect(decodeText(frame.subarray(1, -2), 'utf-8')).not.toBe('é');
  });

  it('encodeFrame refuses an unknown encoding', () => {
    expect(() => encodeFrame('MSH|x', 'utf-32')).toThrow(EncodingError);
  });
});
