/**
 * The JSON routes take JSON only. `text/plain` (what fetch sends for a string body) or no
 * content type at all is a client mistake that happened to parse, not JSON (issue 9 #15).
 * `application/fhir+json` (MedplumClient) and other `+json` types are JSON.
 */
export function isJsonContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const type = contentType.split(';', 1)[0].trim().toLowerCase();
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}
