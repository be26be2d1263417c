/**
 * One validator for the protocol, used on both ends: the cloud checks what a relay sends,
 * the relay checks what the cloud sends. Anything that does not validate is refused with a
 * ProtocolError carrying a stable code; it never reaches the domain.
 */
import {
  CHUNK_DATA_BYTES,
  MAX_ACK_CODE_LENGTH,
  MAX_BODY_BYTES,
  MAX_CHANNELS,
  MAX_CHUNKED_MESSAGE_BYTES,
  MAX_CONTROL_ID_LENGTH,
  MAX_INBOUND_ID_LENGTH,
  MAX_MESSAGE_TYPE_LENGTH,
  MAX_CONTENT_TYPE_LENGTH,
  MAX_DEVICES,
  MAX_ERROR_CODE_LENGTH,
  MAX_ERROR_TEXT_LENGTH,
  MAX_MESSAGE_BYTES,
  MAX_PUSH_ID_LENGTH,
  MAX_VERSION_LENGTH,
} from './limits';
import {
  ACK_MODES,
  type AckMode,
  BASE_MESSAGE_VERSION,
  type ChannelInfo,
  DEVICE_PROTOCOLS,
  type DeviceProtocol,
  type DeviceProtocols,
  type ChunkFields,
  type CloudMessage,
  type PushMessage,
  INBOUND_MESSAGE_VERSION,
  PROTOCOL_VERSION,
  ProtocolError,
  type RelayMessage,
} from './messages';
import { DEVICE_PREFIX, isChannelName, isDeviceName, MAX_DEVICE_NAME_LENGTH } from './names';
import { CHUNK_ACTION, HEARTBEAT_ACTION, HELLO_ACTION, INBOUND_ACTION, RESULT_ACTION } from './relay-routes';

const RESULT_STATUSES = new Set(['acked', 'nacked', 'failed']);
const RETURN_ACKS = new Set(['first', 'application']);
const MAX_ID = MAX_PUSH_ID_LENGTH;

type Obj = Record<string, unknown>;

/**
 * `maxBytes`: MAX_MESSAGE_BYTES for one WebSocket message; a message reassembled from chunks may
 * be up to MAX_CHUNKED_MESSAGE_BYTES.
 */
function parseObject(raw: string | Buffer, maxBytes: number): Obj {
  const size = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.length;
  if (size > maxBytes) {
    throw new ProtocolError('MESSAGE_TOO_LARGE', `message of ${size} bytes exceeds ${maxBytes}`);
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
  // Each kind carries the version that introduced it; a version this side does not know is refused.
  if (typeof obj.v !== 'number' || !Number.isInteger(obj.v) || obj.v < BASE_MESSAGE_VERSION || obj.v > PROTOCOL_VERSION) {
    throw new ProtocolError('UNSUPPORTED_VERSION', `protocol version must be ${BASE_MESSAGE_VERSION} to ${PROTOCOL_VERSION}`);
  }
  return obj;
}

function epochMs(obj: Obj, key: string): number {
  const value = obj[key];
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ProtocolError('INVALID_MESSAGE', `${key} must be a number (epoch ms)`);
  }
  return value;
}

function ackMode(obj: Obj, key: string): AckMode {
  const value = obj[key];
  if (typeof value !== 'string' || !(ACK_MODES as readonly string[]).includes(value)) {
    throw new ProtocolError('INVALID_MESSAGE', `${key} must be one of ${ACK_MODES.join(', ')}`);
  }
  return value as AckMode;
}

function channels(value: unknown): ChannelInfo[] {
  if (!Array.isArray(value) || value.length > MAX_CHANNELS) {
    throw new ProtocolError('INVALID_MESSAGE', `channels must be an array of at most ${MAX_CHANNELS} channels`);
  }
  const seen = new Set<string>();
  return value.map((item: unknown) => {
    if (typeof item !== 'object' || item === null) throw new ProtocolError('INVALID_MESSAGE', 'a channel must be an object');
    const c = item as Obj;
    if (!isChannelName(c.name) || seen.has(c.name)) {
      throw new ProtocolError('INVALID_MESSAGE', 'channel names must be unique channel names');
    }
    seen.add(c.name);
    if (c.protocol !== 'mllp' && c.protocol !== 'astm')
      throw new ProtocolError('INVALID_MESSAGE', 'a channel protocol must be mllp or astm');
    return { name: c.name, protocol: c.protocol, ack: ackMode(c, 'ack') };
  });
}

function chunkFields(obj: Obj): ChunkFields {
  const { index, count, bytes } = obj;
  const maxCount = Math.ceil(MAX_CHUNKED_MESSAGE_BYTES / CHUNK_DATA_BYTES);
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 2 || count > maxCount) {
    throw new ProtocolError('INVALID_MESSAGE', `count must be an integer from 2 to ${maxCount}`);
  }
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= count) {
    throw new ProtocolError('INVALID_MESSAGE', 'index must be an integer from 0 to count - 1');
  }
  if (typeof bytes !== 'number' || !Number.isInteger(bytes) || bytes < 1 || bytes > MAX_CHUNKED_MESSAGE_BYTES) {
    throw new ProtocolError('MESSAGE_TOO_LARGE', `bytes must be an integer from 1 to ${MAX_CHUNKED_MESSAGE_BYTES}`);
  }
  const sha256 = obj.sha256;
  if (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256)) {
    throw new ProtocolError('INVALID_MESSAGE', 'sha256 must be 64 lowercase hex digits');
  }
  const data = str(obj, 'data', Math.ceil(CHUNK_DATA_BYTES / 3) * 4)!;
  return { v: INBOUND_MESSAGE_VERSION, chunkId: str(obj, 'chunkId', MAX_INBOUND_ID_LENGTH)!, index, count, bytes, sha256, data };
}

/** hello.deviceProtocols: an object naming only announced devices, each mllp or astm. */
function deviceProtocols(value: unknown, devices: readonly string[]): DeviceProtocols {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError('INVALID_MESSAGE', 'deviceProtocols must be an object of device name -> mllp or astm');
  }
  const out: DeviceProtocols = {};
  for (const [name, protocol] of Object.entries(value)) {
    if (!devices.includes(name))
      throw new ProtocolError('INVALID_MESSAGE', `deviceProtocols names ${nameOf(name)}, which is not in devices`);
    if (!(DEVICE_PROTOCOLS as readonly unknown[]).includes(protocol)) {
      throw new ProtocolError('INVALID_MESSAGE', `deviceProtocols.${name} must be mllp or astm`);
    }
    out[name] = protocol as DeviceProtocol;
  }
  return out;
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

/**
 * Validates a message a relay sent to the cloud. `reassembled`: the message was joined from
 * chunks, so it may exceed one WebSocket message's limit (but not MAX_CHUNKED_MESSAGE_BYTES).
 */
export function parseRelayMessage(raw: string | Buffer, reassembled = false): RelayMessage {
  const obj = parseObject(raw, reassembled ? MAX_CHUNKED_MESSAGE_BYTES : MAX_MESSAGE_BYTES);
  switch (obj.action) {
    case HELLO_ACTION: {
      const devices = obj.devices;
      // The same rule the relay's config applies, so the API can push to every name announced.
      if (!Array.isArray(devices) || devices.length > MAX_DEVICES || !devices.every(isDeviceName)) {
        throw new ProtocolError('INVALID_MESSAGE', 'devices must be an array of device names');
      }
      const hello: RelayMessage = {
        action: HELLO_ACTION,
        v: BASE_MESSAGE_VERSION,
        version: str(obj, 'version', MAX_VERSION_LENGTH)!,
        devices,
      };
      if (obj.channels !== undefined) hello.channels = channels(obj.channels);
      if (obj.deviceProtocols !== undefined) hello.deviceProtocols = deviceProtocols(obj.deviceProtocols, devices);
      return hello;
    }
    case RESULT_ACTION: {
      const status = obj.status;
      if (typeof status !== 'string' || !RESULT_STATUSES.has(status)) {
        throw new ProtocolError('INVALID_MESSAGE', 'status must be acked, nacked or failed');
      }
      const msg: RelayMessage = {
        action: RESULT_ACTION,
        v: BASE_MESSAGE_VERSION,
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
      return { action: HEARTBEAT_ACTION, v: BASE_MESSAGE_VERSION };
    case INBOUND_ACTION: {
      const channel = obj.channel;
      if (!isChannelName(channel)) throw new ProtocolError('INVALID_MESSAGE', 'channel must be a channel name');
      const msg: RelayMessage = {
        action: INBOUND_ACTION,
        v: INBOUND_MESSAGE_VERSION,
        inboundId: str(obj, 'inboundId', MAX_INBOUND_ID_LENGTH)!,
        channel,
        contentType: str(obj, 'contentType', MAX_CONTENT_TYPE_LENGTH)!,
        body: str(obj, 'body', MAX_BODY_BYTES)!,
        receivedAt: epochMs(obj, 'receivedAt'),
        ack: ackMode(obj, 'ack'),
      };
      const controlId = str(obj, 'controlId', MAX_CONTROL_ID_LENGTH, true);
      const messageType = str(obj, 'messageType', MAX_MESSAGE_TYPE_LENGTH, true);
      if (controlId !== undefined) msg.controlId = controlId;
      if (messageType !== undefined) msg.messageType = messageType;
      return msg;
    }
    case CHUNK_ACTION:
      return { action: CHUNK_ACTION, ...chunkFields(obj) };
    default:
      throw new ProtocolError('UNKNOWN_ACTION', `unknown action ${nameOf(obj.action)}`);
  }
}

/** Validates a message the cloud sent to a relay. `reassembled`: as for parseRelayMessage. */
export function parseCloudMessage(raw: string | Buffer, reassembled = false): CloudMessage {
  const obj = parseObject(raw, reassembled ? MAX_CHUNKED_MESSAGE_BYTES : MAX_MESSAGE_BYTES);
  switch (obj.type) {
    case 'push': {
      const returnAck = obj.returnAck;
      if (typeof returnAck !== 'string' || !RETURN_ACKS.has(returnAck)) {
        throw new ProtocolError('INVALID_MESSAGE', 'returnAck must be first or application');
      }
      if (typeof obj.expiresAt !== 'number' || !Number.isFinite(obj.expiresAt)) {
        throw new ProtocolError('INVALID_MESSAGE', 'expiresAt must be a number (epoch ms)');
      }
      const push: PushMessage = {
        type: 'push',
        v: BASE_MESSAGE_VERSION,
        pushId: str(obj, 'pushId', MAX_ID)!,
        // Length only: a name the relay does not know is answered as `unknown device`.
        destination: str(obj, 'destination', DEVICE_PREFIX.length + MAX_DEVICE_NAME_LENGTH)!,
        contentType: str(obj, 'contentType', MAX_CONTENT_TYPE_LENGTH)!,
        body: str(obj, 'body', MAX_BODY_BYTES)!,
        returnAck: returnAck as 'first' | 'application',
        expiresAt: obj.expiresAt,
      };
      const after = str(obj, 'after', MAX_ID, true);
      if (after !== undefined) push.after = after;
      if (obj.ttlMs !== undefined) {
        if (typeof obj.ttlMs !== 'number' || !Number.isFinite(obj.ttlMs) || obj.ttlMs < 0) {
          throw new ProtocolError('INVALID_MESSAGE', 'ttlMs must be a number of ms, 0 or more');
        }
        push.ttlMs = obj.ttlMs;
      }
      return push;
    }
    case 'helloAck':
      return { type: 'helloAck', v: BASE_MESSAGE_VERSION };
    case 'heartbeatAck':
      return { type: 'heartbeatAck', v: BASE_MESSAGE_VERSION };
    case 'resultAck':
      return { type: 'resultAck', v: BASE_MESSAGE_VERSION, pushId: str(obj, 'pushId', MAX_ID)! };
    case 'error': {
      const msg: CloudMessage = {
        type: 'error',
        v: BASE_MESSAGE_VERSION,
        code: str(obj, 'code', MAX_ERROR_CODE_LENGTH)!,
        error: str(obj, 'error', MAX_ERROR_TEXT_LENGTH)!,
      };
      const pushId = str(obj, 'pushId', MAX_ID, true);
      const inboundId = str(obj, 'inboundId', MAX_INBOUND_ID_LENGTH, true);
      if (pushId !== undefined) msg.pushId = pushId;
      if (inboundId !== undefined) msg.inboundId = inboundId;
      return msg;
    }
    case 'inboundAck': {
      if (typeof obj.duplicate !== 'boolean') throw new ProtocolError('INVALID_MESSAGE', 'duplicate must be a boolean');
      return {
        type: 'inboundAck',
        v: INBOUND_MESSAGE_VERSION,
        inboundId: str(obj, 'inboundId', MAX_INBOUND_ID_LENGTH)!,
        messageId: str(obj, 'messageId', MAX_INBOUND_ID_LENGTH)!,
        duplicate: obj.duplicate,
      };
    }
    case 'appAck': {
      const msg: CloudMessage = {
        type: 'appAck',
        v: INBOUND_MESSAGE_VERSION,
        inboundId: str(obj, 'inboundId', MAX_INBOUND_ID_LENGTH)!,
        messageId: str(obj, 'messageId', MAX_INBOUND_ID_LENGTH)!,
      };
      const response = str(obj, 'response', MAX_MESSAGE_BYTES, true);
      const error = str(obj, 'error', MAX_ERROR_TEXT_LENGTH, true);
      if (response === undefined && error === undefined)
        throw new ProtocolError('INVALID_MESSAGE', 'an appAck needs a response or an error');
      if (response !== undefined) msg.response = response;
      if (error !== undefined) msg.error = error;
      return msg;
    }
    case 'chunk':
      return { type: 'chunk', ...chunkFields(obj) };
    default:
      throw new ProtocolError('UNKNOWN_TYPE', `unknown type ${nameOf(obj.type)}`);
  }
}
