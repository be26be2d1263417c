import { checkFrame, checksum, encodeFrame, splitFrames } from '../../../edge-agent/astm/frame';

const STX = '\x02';
const ETX = '\x03';
const ETB = '\x17';

describe('ASTM frame checksum', () => {
  it('is the byte sum mod 256 of FN through ETX, as two uppercase hex digits', () => {
    // Worked by hand (python: sum(b'1H|\\^&|||LIS\r\x03') % 256 == 0x41).
    const frame = encodeFrame(1, Buffer.from('H|\\^&|||LIS\r', 'latin1'), true);
    expect(frame.toString('latin1')).toBe(`${STX}1H|\\^&|||LIS\r${ETX}41\r\n`);
    expect(checksum(Buffer.from('2P|1\r\x03', 'latin1'), 0, 6)).toBe('3F');
  });

  it('pads a small sum to two digits and wraps past 255', () => {
    expect(checksum(Buffer.of(0x01, 0x02), 0, 2)).toBe('03');
    expect(checksum(Buffer.of(0xff, 0x02), 0, 2)).toBe('01');
  });

  it('is computed over the encoded bytes, not JS characters', () => {
    const latin1 = encodeFrame(1, Buffer.from('P|1||Müller\r', 'latin1'), true);
    const utf8 = encodeFrame(1, Buffer.from('P|1||Müller\r', 'utf8'), true);
    const sum = (b: Buffer) => {
      let s = 0;
      for (let i = 1; i < b.length - 4; i++) s += b[i];
      return (s % 256).toString(16).toUpperCase().padStart(2, '0');
    };
    expect(latin1.toString('latin1', latin1.length - 4, latin1.length - 2)).toBe(sum(latin1));
    expect(utf8.toString('latin1', utf8.length - 4, utf8.length - 2)).toBe(sum(utf8));
    expect(sum(latin1)).not.toBe(sum(utf8));
  });
});

describe('ASTM frame numbers', () => {
  it('are one digit, 1..7 then 0, 1 (modulo 8)', () => {
    const fns = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => String.fromCharCode(encodeFrame(n, Buffer.from('R|1\r'), true)[1]));
    expect(fns.join('')).toBe('1234567012');
  });
});

describe('splitFrames', () => {
  it('puts each record in its own ETX frame', () => {
    const frames = splitFrames(Buffer.from('H|\\^&\rP|1\rL|1|N\r'));
    expect(frames.map((f) => [f.text.toString(), f.final])).toEqual([
      ['H|\\^&\r', true],
      ['P|1\r', true],
      ['L|1|N\r', true],
    ]);
  });

  it('continues a record over 240 bytes in ETB frames of exactly 240', () => {
    const record = 'R|1|' + 'x'.repeat(496); // 500 bytes + CR = 501
    const frames = splitFrames(Buffer.from(record + '\r'));
    expect(frames.map((f) => [f.text.length, f.final])).toEqual([
      [240, false],
      [240, false],
      [21, true],
    ]);
    expect(Buffer.concat(frames.map((f) => f.text)).toString()).toBe(record + '\r');
    const encoded = encodeFrame(1, frames[0].text, frames[0].final);
    expect(encoded[encoded.length - 5]).toBe(ETB.charCodeAt(0));
  });

  it('sends a record of exactly 240 bytes, CR included, in one frame', () => {
    const frames = splitFrames(Buffer.from('R|' + 'y'.repeat(237) + '\r'));
    expect(frames).toHaveLength(1);
    expect(frames[0].text.length).toBe(240);
  });

  it('adds the CR a last record lacks, and accepts LF-free input only', () => {
    expect(splitFrames(Buffer.from('H|\\^&\rL|1')).map((f) => f.text.toString())).toEqual(['H|\\^&\r', 'L|1\r']);
    expect(() => splitFrames(Buffer.from('H|\\^&\nL|1\n'))).toThrow(/restricted control character 0x0a/);
  });

  it('refuses restricted control characters and empty messages', () => {
    expect(() => splitFrames(Buffer.from('H|\\^&\rR|1|\x05\r'))).toThrow(/0x05 at byte 10/);
    expect(() => splitFrames(Buffer.from(''))).toThrow(/empty/);
    expect(() => splitFrames(Buffer.from('\r\r'))).toThrow(/empty/);
  });
});

describe('checkFrame', () => {
  const good = encodeFrame(3, Buffer.from('O|1|S1||^^^GLU\r'), true);

  it('accepts a well-formed frame and returns its number, text and kind', () => {
    const check = checkFrame(good);
    expect(check).toEqual({ ok: true, fn: 3, text: Buffer.from('O|1|S1||^^^GLU\r'), final: true });
  });

  it('accepts a lowercase checksum (some analysers send one)', () => {
    const frame = encodeFrame(1, Buffer.from('L|1|N\r'), true);
    const s = frame.toString('latin1');
    const lower = Buffer.from(s.slice(0, -4) + s.slice(-4, -2).toLowerCase() + '\r\n', 'latin1');
    expect(checkFrame(lower).ok).toBe(true);
  });

  it('rejects a wrong checksum, a bad frame number and a broken structure', () => {
    const bad = Buffer.from(good);
    bad[bad.length - 3] = bad[bad.length - 3] === 0x30 ? 0x31 : 0x30;
    expect(checkFrame(bad)).toEqual({ ok: false, reason: 'CHECKSUM' });
    const fn9 = Buffer.from(good);
    fn9[1] = 0x39;
    expect(checkFrame(fn9)).toEqual({ ok: false, reason: 'FRAME_NUMBER' });
    expect(checkFrame(Buffer.from(`${STX}1abc\r\n`))).toEqual({ ok: false, reason: 'STRUCTURE' });
    expect(checkFrame(good.subarray(0, good.length - 1))).toEqual({ ok: false, reason: 'STRUCTURE' });
  });
});
