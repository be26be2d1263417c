import { buildAckFor } from '../../hl7/ack';
import { readMsh } from '../../hl7/msh';
import { buildAckFrameFast } from '../../edge-agent/mllp/ack-frame';
import { encodeFrame } from '../../edge-agent/mllp/encoder';

/** MSH-7 and MSH-10 of an ACK change per call; blank them so two ACKs can be compared. */
function masked(frame: Buffer): string {
  const text = frame.toString('latin1');
  const sep = text[4];
  const [msh, ...rest] = text.split('\r');
  const f = msh.split(sep);
  f[6] = '<ts>';
  f[9] = '<id>';
  return [f.join(sep), ...rest].join('\r');
}

const slow = (segment: string, code: 'AA' | 'AE' | 'AR') => encodeFrame(buildAckFor(readMsh(segment), code));
const fast = (bytes: Buffer, code: 'AA' | 'AE' | 'AR') => buildAckFrameFast(bytes, code);

describe('buildAckFrameFast', () => {
  const segments = [
    'MSH|^~\\&|EDGEPUSH|CLOUD|ADT_RECEIVER|HOSP|20240101120000||ADT^A01^ADT_A01|MSG00001|P|2.5.1',
    'MSH|^~\\&|A|B|C|D|20240101||ORU^R01|  ID7  |T|2.3',
    'MSH|^~\\&|A|B|C|D|20240101||ORU|ID8|T|2.3',
    'MSH|^~\\&|A|B|C|D|20240101||ORU^|ID9||2.4',
    'MSH|^~\\&|A|B|C|D|20240101||ORU^^X|ID10|P',
    'MSH|^~\\&|||||||ADT^A04|X1',
    'MSH|^~\\&|A|B|C|D|20240101||ADT^A01|ID11|P|2.5|extra|fields|here',
    'MSH#^~\\&#A#B#C#D#20240101##ADT^A01^ADT_A01#ID12#P#2.5.1',
    'MSH|^|A|B|C|D|20240101||ADT^A08|ID13|P|2.6',
    'MSH|^~\\&#|A|B|C|D|20240101||ADT^A08|ID14|P|2.7',
    'MSH|^~\\&|A|B|C|D|20240101||ADT^A01|\tID15 |P|2.5',
  ];
  it.each(segments)('matches encodeFrame(buildAckFor(readMsh(...))) byte for byte: %s', (segment) => {
    for (const code of ['AA', 'AE', 'AR'] as const) {
      const frame = fast(Buffer.from(segment, 'latin1'), code);
      expect(frame).toBeDefined();
      expect(masked(frame!)).toBe(masked(slow(segment, code)));
    }
  });

  it.each([
    ['non-ASCII bytes', 'MSH|^~\\&|Ä|B|C|D|20240101||ADT^A01|ID1|P|2.5'],
    ['another component separator', 'MSH|#~\\&|A|B|C|D|20240101||ADT#A01|ID2|P|2.5'],
    ['an empty MSH-10', 'MSH|^~\\&|A|B|C|D|20240101||ADT^A01||P|2.5'],
    ['a blank MSH-10', 'MSH|^~\\&|A|B|C|D|20240101||ADT^A01|  |P|2.5'],
    ['no MSH', 'PID|1||X'],
    ['an alphanumeric separator', 'MSHA^~\\&A'],
    ['too short', 'MSH|^~'],
    ['no second separator', 'MSH|^~\\&xxxxxxxx'],
  ])('leaves %s to the general path', (_why, segment) => {
    expect(fast(Buffer.from(segment, 'utf8'), 'AA')).toBeUndefined();
  });

  it('reads the first segment only, whatever ends it', () => {
    const segment = 'MSH|^~\\&|A|B|C|D|20240101||ADT^A01|ID1|P|2.5';
    for (const rest of ['\rPID|1|2|3|4|5|6|7|8|9|10|11|12\r', '\nPID|1\n', '\r\nPID|1\r\n', '']) {
      const frame = fast(Buffer.from(segment + rest, 'latin1'), 'AE');
      expect(masked(frame!)).toBe(masked(slow(segment, 'AE')));
    }
  });

  it.each(['MSH|^|\rPID|1|2|3|4|5|6|7|8', 'MSH|^~\rPID|1|2|3', '\rMSH|^~\\&|A|B|C|D|1||ADT^A01|ID1|P|2.5'])(
    'leaves a short or late first segment to the general path: %j',
    (text) => {
      expect(fast(Buffer.from(text, 'latin1'), 'AA')).toBeUndefined();
    },
  );

  it('gives every ACK a new control id', () => {
    const seg = Buffer.from('MSH|^~\\&|A|B|C|D|20240101||ADT^A01|ID1|P|2.5', 'latin1');
    const id = (b: Buffer) => b.toString('latin1').split('\r')[0].split('|')[9];
    const ids = new Set(Array.from({ length: 1000 }, () => id(fast(seg, 'AA')!)));
    expect(ids.size).toBe(1000);
  });
});
