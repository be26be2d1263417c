/**
 * HL7 v2 separates segments with CR only. Files and HTTP bodies often arrive with LF or CRLF,
 * so everything entering the system is normalised here first.
 */
const LINE_BREAKS = /[\r\n]+/g;
const EDGE_BREAKS = /^\r|\r$/g;

/**
 * '\r\n' and '\n' become '\r'; blank lines (empty segments) are dropped, trailing ones included;
 * the result ends with exactly one '\r', the terminator of its last segment.
 */
export function normaliseSegments(text: string): string {
  // Fast path: already normalised (every message we build ourselves), checked without a regex.
  if (text.charCodeAt(text.length - 1) === 13 && text.charCodeAt(0) !== 13 && text.indexOf('\n') === -1 && text.indexOf('\r\r') === -1) {
    return text;
  }
  const body = text.replace(LINE_BREAKS, '\r').replace(EDGE_BREAKS, '');
  return body.length === 0 ? '' : body + '\r';
}

/** Splits normalised text into its non-empty segments. */
export function splitSegments(text: string): string[] {
  return normaliseSegments(text)
    .split('\r')
    .filter((s) => s.length > 0);
}
