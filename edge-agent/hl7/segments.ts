/**
 * HL7 v2 separates segments with CR only. Files and HTTP bodies often arrive with LF or CRLF,
 * so everything entering the system is normalised here first.
 */
const LINE_BREAKS = /\r\n|\n/g;
const EDGE_BLANK_LINES = /^\r+|\r+$/g;

/** '\r\n' and '\n' become '\r'; leading and trailing blank lines are dropped; one final '\r' is kept. */
export function normaliseSegments(text: string): string {
  // Fast path: already CR-only with exactly one trailing CR (every message we build ourselves).
  if (text.indexOf('\n') === -1 && text.charCodeAt(text.length - 1) === 13 && text.charCodeAt(text.length - 2) !== 13 && text.charCodeAt(0) !== 13) {
    return text;
  }
  const body = text.replace(LINE_BREAKS, '\r').replace(EDGE_BLANK_LINES, '');
  return body.length === 0 ? '' : body + '\r';
}

/** Splits normalised text into its non-empty segments. */
export function splitSegments(text: string): string[] {
  return normaliseSegments(text).split('\r').filter((s) => s.length > 0);
}
