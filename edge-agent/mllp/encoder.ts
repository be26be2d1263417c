/** Wraps a message in an MLLP frame: <VT> payload <FS><CR>, in one buffer so it goes out in one write. */
import { CR, FS, VT } from './constants';
import { DEFAULT_ENCODING, encodeText, resolveEncoding } from './encoding';

/** Throws EncodingError for an unsupported encoding name (see encoding.ts). */
export function encodeFrame(text: string, encoding: string = DEFAULT_ENCODING): Buffer {
  if (encoding === 'utf-8' || (encoding = resolveEncoding(encoding)) === 'utf-8') {
    // Encode straight into the frame: no intermediate buffer and copy.
    const len = Buffer.byteLength(text, 'utf8');
    const frame = Buffer.allocUnsafe(len + 3);
    frame[0] = VT;
    // byteLength === length means pure ASCII, where latin1 is a plain copy and cheaper than UTF-8.
    frame.write(text, 1, len === text.length ? 'latin1' : 'utf8');
    frame[len + 1] = FS;
    frame[len + 2] = CR;
    return frame;
  }
  const payload = encodeText(text, encoding);
  const frame = Buffer.allocUnsafe(payload.length + 3);
  frame[0] = VT;
  payload.copy(frame, 1);
  frame[payload.length + 1] = FS;
  frame[payload.length + 2] = CR;
  return frame;
}
