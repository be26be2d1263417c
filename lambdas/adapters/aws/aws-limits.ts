/**
 * AWS service limits that bound what EdgePush can carry on AWS, with where AWS documents them.
 * test/aws/aws-limits.spec.test.ts checks the numbers below against each other offline and on
 * dynalite (which enforces the item limit).
 */
import { MAX_MESSAGE_BYTES } from '../../../protocol/limits';

/**
 * DynamoDB: "The maximum item size in DynamoDB is 400 KB, which includes both attribute name
 * binary length (UTF-8 length) and attribute value lengths" (1 KB = 1024 bytes).
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html (Items)
 */
export const DYNAMODB_MAX_ITEM_BYTES = 400 * 1024;

/**
 * Lambda: "For synchronous invocations, the maximum payload size is 6 MB" (request and
 * response). API Gateway's HTTP API invokes the http function synchronously, so a push request
 * larger than this never reaches it (API Gateway answers 413 itself).
 * https://docs.aws.amazon.com/lambda/latest/dg/API_Invoke.html
 */
export const LAMBDA_SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024;

/**
 * API Gateway HTTP API: "Payload size 10 MB", not adjustable.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html
 */
export const HTTP_API_PAYLOAD_BYTES = 10 * 1024 * 1024;

/**
 * Bodies up to this size stay in the push's DynamoDB item, as before S3 bodies: no extra
 * request for the common small push. The item then holds the body and, once the device
 * answered, its ACK text (a result carries at most one WebSocket message, 128 KB; see
 * edge-agent/relay/outcome.ts fit()): 200 KiB + 128 KiB leaves 72 KiB of the 400 KB item for
 * the other attributes. Larger bodies go to S3 (s3-body-store.ts) and the item holds a key.
 */
export const AWS_INLINE_BODY_BYTES = 200 * 1024;

/**
 * The largest push body on AWS. The body is in S3 above AWS_INLINE_BODY_BYTES, so storage no
 * longer bounds it; the synchronous Lambda payload does. The push request reaches the http
 * function as a string inside the JSON event, so the body is JSON-escaped twice: a \r takes 3
 * bytes of the event (`\r` in the request, `\\r` in the event), a " or \ 4, a control
 * character 7 (`\\u0001`), any other byte 1. The rule: the body's bytes, plus what escaping
 * adds, plus the event's other fields (a few KB) must stay under LAMBDA_SYNC_PAYLOAD_BYTES.
 * 5 MiB leaves 1 MiB for escaping: HL7 v2 has a \r per segment, ~1 per 80 bytes, so a 5 MiB
 * message adds ~130 KiB (test/aws/aws-limits.spec.test.ts checks this and the edges).
 * A request over that gets 413 from AWS before the function runs. Responses never carry a
 * push body (core/views.ts), so they stay small.
 * Over this limit a push on AWS gets 413 PAYLOAD_TOO_LARGE; the protocol's 10 MB
 * (protocol/limits.ts) cannot reach a Lambda at all.
 */
export const AWS_MAX_BODY_BYTES = 5 * 1024 * 1024;

/** Room the other attributes of a push item may take (ids, timestamps, error text, keys). */
export const PUSH_ITEM_OVERHEAD_BYTES = DYNAMODB_MAX_ITEM_BYTES - AWS_INLINE_BODY_BYTES - MAX_MESSAGE_BYTES;
