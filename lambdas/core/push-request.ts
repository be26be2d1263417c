/**
 * Validates and normalises the body of `POST /agents/{id}/push` (and the Medplum `$push`
 * route). Everything a caller can get wrong is caught here, before anything is stored.
 */
import { createHash } from 'node:crypto';
import { ASTM_CONTENT_TYPE, HL7_V2_CONTENT_TYPE as HL7_CONTENT_TYPE, HL7_V2_CONTENT_TYPE_ALIASES } from '../../protocol/content-types';
import { MAX_BODY_BYTES, MAX_CHUNKED_MESSAGE_BYTES } from '../../protocol/limits';
import { BASE_MESSAGE_VERSION, type PushMessage, type ReturnAck } from '../../protocol/messages';
import { DEVICE_NAME_RULE, DEVICE_PREFIX, isDeviceName, stripDevicePrefix } from '../../protocol/names';
import { AstmRecordError, checkAstmMessage } from '../../astm/records';
import { parseMsh } from '../../hl7/msh';
import { normaliseSegments } from '../../hl7/segments';
import { DEFAULT_EXPIRES_IN_S, DEFAULT_WAIT_TIMEOUT_MS, MAX_EXPIRES_IN_S, MAX_WAIT_TIMEOUT_MS } from './core-config';
import { DomainError, type DomainErrorCode } from './domain-errors';

export interface PushRequest {
  destination: string;
  body: string;
  bodyHash: string;
  contentType: string;
  waitForResponse: boolean;
  waitTimeoutMs: number;
  returnAck: ReturnAck;
  idempotencyKey?: string;
  expiresInS: number;
  /** MSH-10 of an HL7 message (the id its ACK must carry in MSA-2); H-3 of an ASTM one, or ''. */
  controlId: string;
  /** Set when the body was rendered for this push id (MSH-10 = controlIdForPush(pushId)). */
  pushId?: string;
}

const HL7_CONTENT_TYPES = new Set([HL7_CONTENT_TYPE, ...HL7_V2_CONTENT_TYPE_ALIASES]);

export function parseJsonBody(raw: string | undefined): Record<string, unknown> {
  if (raw === undefined || raw.trim() === '') throw new DomainError('INVALID_JSON', 'request body is empty; expected a JSON object');
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    throw new DomainError('INVALID_JSON', `request body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DomainError('INVALID_JSON', 'request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

/** `Device/<name>` or `<name>` → `<name>`. */
export function deviceName(destination: unknown): string {
  if (typeof destination !== 'string' || destination.trim() === '') {
    throw new DomainError('MISSING_DESTINATION', `destination is required: a device name, or ${DEVICE_PREFIX}<name>`);
  }
  const name = stripDevicePrefix(destination);
  if (!isDeviceName(name)) throw new DomainError('INVALID_DESTINATION', `destination must be a device name: ${DEVICE_NAME_RULE}`);
  return name;
}

function optionalInt(obj: Record<string, unknown>, key: string, code: DomainErrorCode, dflt: number, min: number, max: number): number {
  const value = obj[key];
  if (value === undefined || value === null) return dflt;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new DomainError(code, `${key} must be an integer from ${min} to ${max}`);
  }
  return value;
}

/** Bytes of the push message the relay will get, with the longest pushId and expiresAt it can carry. */
function pushMessageBytes(destination: string, contentType: string, body: string): number {
  const message: PushMessage = {
    type: 'push',
    v: BASE_MESSAGE_VERSION,
    pushId: '00000000-0000-0000-0000-000000000000',
    destination,
    contentType,
    body,
    returnAck: 'application',
    expiresAt: Number.MAX_SAFE_INTEGER,
  };
  return Buffer.byteLength(JSON.stringify(message), 'utf8');
}

export function parsePushRequest(obj: Record<string, unknown>, maxBodyBytes: number): PushRequest {
  const destination = deviceName(obj.destination);

  const requested = obj.contentType ?? HL7_CONTENT_TYPE;
  const astm = requested === ASTM_CONTENT_TYPE;
  if (typeof requested !== 'string' || (!astm && !HL7_CONTENT_TYPES.has(requested))) {
    throw new DomainError('UNSUPPORTED_CONTENT_TYPE', `contentType must be ${HL7_CONTENT_TYPE} or ${ASTM_CONTENT_TYPE}`);
  }
  const contentType = astm ? ASTM_CONTENT_TYPE : HL7_CONTENT_TYPE;

  if (typeof obj.body !== 'string' || obj.body.trim() === '') {
    throw new DomainError(
      'MISSING_BODY',
      astm ? 'body is required: the ASTM records (H…L) as text' : 'body is required: the HL7 v2 message as ER7 text',
    );
  }
  // A byte-order mark from a Windows editor is not part of the message.
  const sent = obj.body.replace(/^\uFEFF/, '');
  if (astm) {
    checkSentSize(sent, maxBodyBytes);
    return withCommonFields(obj, destination, contentType, astmBody(sent));
  }
  const body = normaliseSegments(sent);
  // MLLP's start (0x0B) and end (0x1C) bytes inside a message would end its frame early: the
  // device would ACK a truncated copy under the same MSH-10. HL7 escapes them; refuse raw ones.
  // eslint-disable-next-line no-control-regex
  const framing = body.search(/[\x0b\x1c]/);
  if (framing !== -1) {
    throw new DomainError(
      'NOT_HL7',
      `body holds an MLLP framing byte (0x${body.charCodeAt(framing).toString(16).padStart(2, '0')}) at offset ${framing}; escape it`,
    );
  }
  checkSentSize(sent, maxBodyBytes);
  let controlId: string;
  try {
    controlId = parseMsh(body).controlId;
  } catch (err) {
    throw new DomainError('NOT_HL7', `body is not an HL7 v2 message: ${(err as Error).message}`);
  }
  return withCommonFields(obj, destination, contentType, { body, controlId });
}

/** The limit applies to what the caller sent: normalising may add a final CR (issue 9 #16). */
function checkSentSize(sent: string, maxBodyBytes: number): void {
  const size = Buffer.byteLength(sent, 'utf8');
  if (size > maxBodyBytes) {
    throw new DomainError('PAYLOAD_TOO_LARGE', `body is ${size} bytes; the limit is ${maxBodyBytes}`);
  }
}

/** ASTM records, checked and with CR record endings; the relay frames them for the link. */
function astmBody(sent: string): { body: string; controlId: string } {
  try {
    const { text, controlId } = checkAstmMessage(sent);
    return { body: text, controlId: controlId ?? '' };
  } catch (err) {
    if (err instanceof AstmRecordError) throw new DomainError('NOT_ASTM', `body is not an ASTM message: ${err.message}`);
    throw err;
  }
}

/** The size checks and the options every content type shares. */
function withCommonFields(
  obj: Record<string, unknown>,
  destination: string,
  contentType: string,
  { body, controlId }: { body: string; controlId: string },
): PushRequest {
  // The push goes down the WebSocket as JSON (in chunks over 128 KB), where `\`, `"` and
  // control characters grow (an RTF report in OBX-5 nearly doubles). A push the relay's
  // validator would refuse would block its device's queue until it expired: refuse it here.
  const wireBytes = pushMessageBytes(destination, contentType, body);
  if (wireBytes > MAX_CHUNKED_MESSAGE_BYTES || body.length > MAX_BODY_BYTES) {
    throw new DomainError(
      'PAYLOAD_TOO_LARGE',
      `body is ${wireBytes} bytes once encoded for the relay (JSON escapes \\, " and control characters); the limit is ${MAX_CHUNKED_MESSAGE_BYTES}`,
    );
  }

  const waitForResponse = obj.waitForResponse ?? true;
  if (typeof waitForResponse !== 'boolean') throw new DomainError('INVALID_WAIT_FOR_RESPONSE', 'waitForResponse must be true or false');

  const returnAck = obj.returnAck ?? 'first';
  if (returnAck !== 'first' && returnAck !== 'application') {
    throw new DomainError('INVALID_RETURN_ACK', 'returnAck must be "first" or "application"');
  }

  const idempotencyKey = obj.idempotencyKey;
  if (idempotencyKey !== undefined && (typeof idempotencyKey !== 'string' || idempotencyKey.length === 0 || idempotencyKey.length > 128)) {
    throw new DomainError('INVALID_IDEMPOTENCY_KEY', 'idempotencyKey must be a string of 1 to 128 characters');
  }

  return {
    destination,
    body,
    bodyHash: createHash('sha256').update(body).digest('hex'),
    contentType,
    waitForResponse,
    waitTimeoutMs: optionalInt(obj, 'waitTimeout', 'INVALID_WAIT_TIMEOUT', DEFAULT_WAIT_TIMEOUT_MS, 0, MAX_WAIT_TIMEOUT_MS),
    returnAck,
    idempotencyKey: idempotencyKey,
    expiresInS: optionalInt(obj, 'expiresIn', 'INVALID_EXPIRES_IN', DEFAULT_EXPIRES_IN_S, 1, MAX_EXPIRES_IN_S),
    controlId,
  };
}
