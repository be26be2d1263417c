/**
 * The codes of the protocol's `error` message and of ProtocolError, one catalogue for both
 * ends. Documented in docs/PROTOCOL.md.
 */
export const PROTOCOL_ERROR_CODES = [
  // The validator, in both directions.
  'MESSAGE_TOO_LARGE',
  'MALFORMED_JSON',
  'INVALID_MESSAGE',
  'UNSUPPORTED_VERSION',
  'UNKNOWN_ACTION',
  'UNKNOWN_TYPE',
  // Chunked messages (v2), on the receiving side of either direction.
  'CHUNK_INVALID',
  'CHUNK_LIMIT',
  'CHUNK_TIMEOUT',
  // The cloud, about a relay's result.
  'UNKNOWN_PUSH',
  'INVALID_RESULT',
  // The cloud, about a relay's inbound message (v2): a channel the relay did not announce in hello.
  'UNKNOWN_CHANNEL',
  // The cloud could not process the message; the relay sends it again after reconnecting.
  'INTERNAL',
] as const;

export type ProtocolErrorCode = (typeof PROTOCOL_ERROR_CODES)[number];
