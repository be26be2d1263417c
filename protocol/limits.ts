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
