/**
 * Names both sides must agree on. An agent id and a device name travel between the API, the
 * cloud's store, the relay's config and the protocol; one rule each, checked by the same
 * function on both sides, so a name one side accepts is never one the other refuses.
 */

export const MAX_AGENT_ID_LENGTH = 64;
export const MAX_DEVICE_NAME_LENGTH = 128;

/** Starts with a letter or digit; then letters, digits, `.`, `_` or `-`. */
const AGENT_ID = new RegExp(`^[A-Za-z0-9][A-Za-z0-9._-]{0,${MAX_AGENT_ID_LENGTH - 1}}$`);
/**
 * No `:` (nor `=`, `/`, spaces): the relay's config spells a device `name=mllp://host:port`, and
 * `Device/<name>` is how Medplum names one.
 */
const DEVICE_NAME = new RegExp(`^[A-Za-z0-9][A-Za-z0-9._-]{0,${MAX_DEVICE_NAME_LENGTH - 1}}$`);

export const AGENT_ID_RULE = `1-${MAX_AGENT_ID_LENGTH} letters, digits, ".", "_" or "-", starting with a letter or digit`;
export const DEVICE_NAME_RULE = `1-${MAX_DEVICE_NAME_LENGTH} letters, digits, ".", "_" or "-", starting with a letter or digit`;

/** Medplum's way to name a device (`Device/lab`); the API and the relay accept it. */
export const DEVICE_PREFIX = 'Device/';

export function isAgentId(value: unknown): value is string {
  return typeof value === 'string' && AGENT_ID.test(value);
}

export function isDeviceName(value: unknown): value is string {
  return typeof value === 'string' && DEVICE_NAME.test(value);
}

/** `Device/<name>` or `<name>` → `<name>` (not checked: see isDeviceName). */
export function stripDevicePrefix(destination: string): string {
  return destination.startsWith(DEVICE_PREFIX) ? destination.slice(DEVICE_PREFIX.length) : destination;
}

/**
 * A relay channel's name: the device-name rule, since an ASTM device also receives on a channel
 * of its own name, and names appear in the same places (URLs, filters, logs).
 */
export const CHANNEL_NAME_RULE = DEVICE_NAME_RULE;
export function isChannelName(value: unknown): value is string {
  return isDeviceName(value);
}
