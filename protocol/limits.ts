/** Sizes both sides must agree on: what one side may send, the other's validator accepts. */

/** API Gateway WebSocket limits: a frame is at most 32 KB and a message at most 128 KB. */
export const MAX_FRAME_BYTES = 32 * 1024;
export const MAX_MESSAGE_BYTES = 128 * 1024;

/** A push id (the cloud makes UUIDs; the protocol allows longer). */
export const MAX_PUSH_ID_LENGTH = 128;
/** Devices one relay may announce in `hello`. */
export const MAX_DEVICES = 1000;
/** The relay's software version in `hello`. */
export const MAX_VERSION_LENGTH = 64;
/** A content type in a push. */
export const MAX_CONTENT_TYPE_LENGTH = 128;
/** The `error` text of a failed result or an error message. */
export const MAX_ERROR_TEXT_LENGTH = 1024;
/** The `code` of an error message. */
export const MAX_ERROR_CODE_LENGTH = 64;
/** MSA-1, the ACK code of a result. */
export const MAX_ACK_CODE_LENGTH = 2;

/**
 * The largest message body, push or inbound (a lab result with a base64 PDF in OBX-5 is often
 * 200 KB to 5 MB). A protocol message over MAX_MESSAGE_BYTES travels as `chunk` messages.
 */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;
/** A whole message reassembled from chunks: the largest body plus room for JSON escaping. */
export const MAX_CHUNKED_MESSAGE_BYTES = 2 * MAX_BODY_BYTES + 64 * 1024;
/** Bytes of the whole message per chunk: base64 makes 87,384 characters, well under 128 KB. */
export const CHUNK_DATA_BYTES = 64 * 1024;
/** Channels one relay may announce in `hello`. */
export const MAX_CHANNELS = 100;
/** The relay's inbound id and the cloud's message id. */
export const MAX_INBOUND_ID_LENGTH = 128;
/** MSH-10 (HL7 allows 199 characters in v2.5+). */
export const MAX_CONTROL_ID_LENGTH = 199;
/** MSH-9 as type^trigger^structure. */
export const MAX_MESSAGE_TYPE_LENGTH = 64;
