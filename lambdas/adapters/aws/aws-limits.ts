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
 * The largest push body on AWS. A push is one DynamoDB item holding the body and, once the
 * device answered, its ACK text (a result carries at most one WebSocket message, 128 KB; see
 * edge-agent/relay/outcome.ts fit()). 256 KiB + 128 KiB leaves 16 KiB for the other attributes
 * inside the 400 KB item. Bodies up to the protocol's 10 MB need the body stored apart (S3),
 * which this adapter set does not do yet: over this limit a push on AWS gets 413
 * PAYLOAD_TOO_LARGE, and EDGEPUSH_MAX_BODY_BYTES may not be set higher.
 */
export const AWS_MAX_BODY_BYTES = 256 * 1024;

/** Room the other attributes of a push item may take (ids, timestamps, error text, keys). */
export const PUSH_ITEM_OVERHEAD_BYTES = DYNAMODB_MAX_ITEM_BYTES - AWS_MAX_BODY_BYTES - MAX_MESSAGE_BYTES;
