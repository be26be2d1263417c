/**
 * One validator for the protocol, used on both ends: the cloud checks what a relay sends,
 * the relay checks what the cloud sends. Anything that does not validate is refused with a
 * ProtocolError carrying a stable code; it never reaches the domain.
 */
import {
  MAX_ACK_CODE_LENGTH,
  MAX_CONTENT_TYPE_LENGTH,
  MAX_DEVICES,
  MAX_ERROR_CODE_LENGTH,
  MAX_ERROR_TEXT_LENGTH,
  MAX_MESSAGE_BYTES,
  MAX_PUSH_ID_LENGTH,
  MAX_VERSION_LENGTH,
} from './limits';
import { type CloudMessage, PROTOCOL_VERSION, ProtocolError, type RelayMessage } from './messages';
import { DEVICE_PREFIX, isDeviceName, MAX_DEVICE_NAME_LENGTH } from './names';
import { HEARTBEAT_ACTION, HELLO_ACTION, RESULT_ACTION } from './relay-routes';

const RESULT_STATUSES = new Set(['acked', 'nacked', 'failed']);
const RETURN_ACKS = new Set(['first', 'application']);
const MAX_ID = MAX_PUSH_ID_LENGTH;

type Obj = Record<string, unknown>;

function parseObject(raw: string | Buffer): Obj {
  const size = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.length;
  if (size > MAX_MESSAGE_BYTES) {
    throw new ProtocolError('MESSAGE_TOO_LARGE', `message of ${size} bytes exceeds ${MAX_MESSAGE_BYTES}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch {
    throw new ProtocolError('MALFORMED_JSON', 'message is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError('INVALID_MESSAGE', 'message must be a JSON object');
  }
  const obj = value as Obj;
  if (obj.v !== PROTOCOL_VERSION) {
    throw new ProtocolError('UNSUPPORTED_VERSION', `protocol version must be ${PROTOCOL_VERSION}`);
  }
  return obj;
}

function str(obj: Obj, key: string, max: number, optional = false): string | undefined {
  const value = obj[key];
  if (value === undefined && optional) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    throw new ProtocolError('INVALID_MESSAGE', `${key} must be a non-empty string of at most ${max} characters`);
  }
  return value;
}

/** A short, safe description of an unknown action/type: String() throws on e.g. {"toString": 1}. */
function nameOf(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value).slice(0, 40) : `(${value === null ? 'null' : typeof value})`;
}

/** Validates a message a relay sent to the cloud. */
export function parseRelayMessage(raw: string | Buffer): RelayMessage {
  const obj = parseObject(raw);
  switch (obj.action) {
    case HELLO_ACTION: {
      const devices = obj.devices;
      // The same rule the relay's config applies, so the API can push to every name announced.
      if (!Array.isArray(devices) || devices.length > MAX_DEVICES || !devices.every(isDeviceName)) {
        throw new ProtocolError('INVALID_MESSAGE', 'devices must be an array of device names');
      }
      return { action: HELLO_ACTION, v: PROTOCOL_VERSION, version: str(obj, 'version', MAX_VERSION_LENGTH)!, devices };
    }
    case RESULT_ACTION: {
      const status = obj.status;
      if (typeof status !== 'string' || !RESULT_STATUSES.has(status)) {
        throw new ProtocolError('INVALID_MESSAGE', 'status must be acked, nacked or failed');
      }
      const msg: RelayMessage = {
        action: RESULT_ACTION,
        v: PROTOCOL_VERSION,
        pushId: str(obj, 'pushId', MAX_ID)!,
        status: status as 'acked',
      };
      const ackCode = str(obj, 'ackCode', MAX_ACK_CODE_LENGTH, true);
      const response = str(obj, 'response', MAX_MESSAGE_BYTES, true);
      const error = str(obj, 'error', MAX_ERROR_TEXT_LENGTH, true);
      if (ackCode !== undefined) msg.ackCode = ackCode;
      if (response !== undefined) msg.response = response;
      if (error !== undefined) msg.error = error;
      if (obj.retryable !== undefined) {
        if (typeof obj.retryable !== 'boolean') throw new ProtocolError('INVALID_MESSAGE', 'retryable must be a boolean');
        msg.retryable = obj.retryable;
      }
      if (status === 'failed' && error === undefined) {
        throw new ProtocolError('INVALID_MESSAGE', 'a failed result needs an error');
      }
      // An ASTM transfer is acked by the link itself (every frame ACKed, EOT sent): no ACK code.
      if (status === 'nacked' && ackCode === undefined) {
        throw new ProtocolError('INVALID_MESSAGE', 'a nacked result needs an ackCode');
      }
      return msg;
    }
    case HEARTBEAT_ACTION:
      return { action: HEARTBEAT_ACTION, v: PROTOCOL_VERSION };
    default:
      throw new ProtocolError('UNKNOWN_ACTION', `unknown action ${nameOf(obj.action)}`);
  }
}

/** Validates a message the cloud sent to a relay. */
export function parseCloudMessage(raw: string | Buffer): CloudMessage {
  const obj = parseObject(raw);
  switch (obj.type) {
    case 'push': {
      const returnAck = obj.returnAck;
      if (typeof returnAck !== 'string' || !RETURN_ACKS.has(returnAck)) {
        throw new ProtocolError('INVALID_MESSAGE', 'returnAck must be first or application');
      }
      if (typeof obj.expiresAt !== 'number' || !Number.isFinite(obj.expiresAt)) {
        throw new ProtocolError('INVALID_MESSAGE', 'expiresAt must be a number (epoch ms)');
      }
      return {
        type: 'push',
        v: PROTOCOL_VERSION,
        pushId: str(obj, 'pushId', MAX_ID)!,
        // Length only: a name the relay does not know is answered as `unknown device`.
        destination: str(obj, 'destination', DEVICE_PREFIX.length + MAX_DEVICE_NAME_LENGTH)!,
        contentType: str(obj, 'contentType', MAX_CONTENT_TYPE_LENGTH)!,
        body: str(obj, 'body', MAX_MESSAGE_BYTES)!,
        returnAck: returnAck as 'first' | 'application',
        expiresAt: obj.expiresAt,
      };
    }
    case 'helloAck':
      return { type: 'helloAck', v: PROTOCOL_VERSION };
    case 'heartbeatAck':
      return { type: 'heartbeatAck', v: PROTOCOL_VERSION };
    case 'resultAck':
      return { type: 'resultAck', v: PROTOCOL_VERSION, pushId: str(obj, 'pushId', MAX_ID)! };
    case 'error': {
      const msg: CloudMessage = {
        type: 'error',
        v: PROTOCOL_VERSION,
        code: str(obj, 'code', MAX_ERROR_CODE_LENGTH)!,
        error: str(obj, 'error', MAX_ERROR_TEXT_LENGTH)!,
      };
      const pushId = str(obj, 'pushId', MAX_ID, true);
      if (pushId !== undefined) msg.pushId = pushId;
      return msg;
    }
    default:
      throw new ProtocolError('UNKNOWN_TYPE', `unknown type ${nameOf(obj.type)}`);
  }
}
