/**
 * Per-device character encodings. MLLP framing bytes (0x0B, 0x1C, 0x0D) must never occur inside
 * an encoded payload, so only ASCII-compatible encodings are accepted; UTF-16 and friends are
 * refused up front rather than failing mysteriously on the wire.
 */
import iconv from 'iconv-lite';

const CANONICAL: Record<string, string> = {
  'utf-8': 'utf-8',
  utf8: 'utf-8',
  ascii: 'ascii',
  'us-ascii': 'ascii',
  latin1: 'latin1',
  'iso-8859-1': 'latin1',
  iso88591: 'latin1',
  'iso-8859-15': 'iso-8859-15',
  'windows-1252': 'windows-1252',
  cp1252: 'windows-1252',
  win1252: 'windows-1252',
  'windows-1250': 'windows-1250',
  cp1250: 'windows-1250',
  'windows-1251': 'windows-1251',
  cp1251: 'windows-1251',
};

export const DEFAULT_ENCODING = 'utf-8';
export const SUPPORTED_ENCODINGS = ['utf-8', 'ascii', 'latin1 (iso-8859-1)', 'iso-8859-15', 'windows-1252', 'windows-1250', 'windows-1251'];

export class EncodingError extends Error {
  readonly code = 'UNSUPPORTED_ENCODING';

  constructor(name: string) {
    super(`unsupported character encoding "${name}"; use one of: ${SUPPORTED_ENCODINGS.join(', ')}`);
    this.name = 'EncodingError';
  }
}

/** Canonical name for an encoding, or EncodingError. Call it when reading config, not per message. */
export function resolveEncoding(name: string | undefined): string {
  if (name === undefined || name === '') return DEFAULT_ENCODING;
  const canonical = CANONICAL[name.trim().toLowerCase()];
  if (!canonical) throw new EncodingError(name);
  // UTF-8 never goes through iconv (see encodeText): asking iconv about it would load all its
  // code-page tables (~0.3 MB of heap) into every relay, whose devices are mostly UTF-8.
  if (canonical !== DEFAULT_ENCODING && !iconv.encodingExists(canonical)) throw new EncodingError(name);
  return canonical;
}

/** Text to bytes. UTF-8 goes through Buffer directly: it is the hot path and needs no table. */
export function encodeText(text: string, encoding: string): Buffer {
  return encoding === 'utf-8' ? Buffer.from(text, 'utf8') : iconv.encode(text, encoding);
}

export function decodeText(bytes: Buffer, encoding: string): string {
  return encoding === 'utf-8' ? bytes.toString('utf8') : iconv.decode(bytes, encoding);
}
