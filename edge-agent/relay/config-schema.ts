/**
 * The relay's configuration schema: what a valid configuration is, its defaults, and the one
 * step that turns the merged sources (config-sources.ts) into a RelayConfig. Everything is
 * validated here, once, so the rest of the relay can trust it; every problem is reported in
 * one ConfigError.
 */
import { parseAstmUrl, type AstmEndpoint } from '../astm/astm-url';
import { MAX_BODY_BYTES } from '../../protocol/limits';
import { AGENT_ID_RULE, DEVICE_NAME_RULE, isAgentId, isDeviceName } from '../../protocol/names';
import { DEVICE_ACK_TIMEOUT_MS, DEVICE_CONNECT_TIMEOUT_MS } from '../../protocol/timeouts';
import { SUPPORTED_ENCODINGS, resolveEncoding } from '../mllp/encoding';
import { CHANNEL_DEFAULTS, parseChannelFlag, parseChannelUrl, type ChannelLimits } from './channel-config';
import type { ChannelSettings } from './inbound-sink';

export interface DeviceConfig {
  name: string;
  /** mllp: HL7 v2 over MLLP; astm: ASTM E1381 over TCP or a serial line. */
  protocol: 'mllp' | 'astm';
  /** TCP host and port (empty and 0 for a serial ASTM device). */
  host: string;
  port: number;
  encoding: string;
  /** For protocol astm: the endpoint (TCP the relay dials, or a serial line). */
  astm?: Extract<AstmEndpoint, { kind: 'dial' | 'serial' }>;
}

export interface RelayConfig {
  url: string;
  agentId: string;
  secret: string;
  devices: DeviceConfig[];
  /** Where devices send to the relay (channel-config.ts). */
  channels: ChannelSettings[];
  /** The relay's own state: the inbound spool of `fast` channels (`--data`, systemd's StateDirectory). */
  dataDir: string;
  /** The inbound spool of each `fast` channel. */
  spool: { maxBytes: number; fsync: boolean };
  /** How often the relay sends a heartbeat (API Gateway drops a connection idle for 10 min). */
  heartbeatIntervalMs: number;
  /** After a heartbeat, how long to wait for any message before calling the connection dead. */
  heartbeatTimeoutMs: number;
  /** Reconnect on our own before API Gateway's 2-hour cap; jittered by +-5% (at most 5 min). */
  maxConnectionAgeMs: number;
  reconnect: { initialDelayMs: number; maxDelayMs: number };
  /** Per-device MLLP client settings. */
  device: { connectTimeoutMs: number; ackTimeoutMs: number; idleTimeoutMs: number; maxFrameBytes: number };
  resultCache: { maxEntries: number; ttlMs: number };
  /** Re-send of unacknowledged results while connected (default in relay.ts: 2 s doubling to 30 s). */
  resultResend?: { initialDelayMs: number; maxDelayMs: number };
  /** On SIGTERM: how long in-flight pushes and unacknowledged results may take. */
  shutdownTimeoutMs: number;
  logLevel: string;
  /** Plain ws:// to a host that is not this machine: the secret and PHI would cross the network in clear. */
  allowInsecure: boolean;
}

/** What may come from a file, the environment or flags before validation. */
export interface RawConfig {
  url?: unknown;
  agentId?: unknown;
  secret?: unknown;
  /** `{ name: "mllp://host:port?encoding=..." }` or `["name=mllp://host:port", ...]`. */
  devices?: unknown;
  /** `{ name: "mllp://0.0.0.0:2575?ack=fast" }` or `["name=mllp://0.0.0.0:2575", ...]`. */
  channels?: unknown;
  /** Limits shared by every channel: `{maxMessageBytes, idleTimeoutMs, maxConnections}`. */
  inbound?: unknown;
  dataDir?: unknown;
  /** `{maxBytes, fsync}`. */
  spool?: unknown;
  heartbeatIntervalMs?: unknown;
  heartbeatTimeoutMs?: unknown;
  maxConnectionAgeMs?: unknown;
  reconnect?: unknown;
  device?: unknown;
  resultCache?: unknown;
  shutdownTimeoutMs?: unknown;
  logLevel?: unknown;
  allowInsecure?: unknown;
}

export const DEFAULTS = {
  // 60 s: far under API Gateway's 10-minute idle cut, and under the 2-5 minute idle timeouts
  // common on hospital NATs and proxies, at 1,440 tiny messages a day.
  heartbeatIntervalMs: 60_000,
  heartbeatTimeoutMs: 20_000,
  // 110 min: leaves 10 minutes (minus jitter) before the 2-hour hard cap.
  maxConnectionAgeMs: 110 * 60_000,
  reconnect: { initialDelayMs: 500, maxDelayMs: 30_000 },
  // Connect and ACK timeouts come from the timeout budget the cloud's result timeout is sized for.
  device: {
    connectTimeoutMs: DEVICE_CONNECT_TIMEOUT_MS,
    ackTimeoutMs: DEVICE_ACK_TIMEOUT_MS,
    idleTimeoutMs: 5 * 60_000,
    maxFrameBytes: 1024 * 1024,
  },
  resultCache: { maxEntries: 10_000, ttlMs: 24 * 60 * 60_000 },
  shutdownTimeoutMs: 10_000,
  logLevel: 'info',
  dataDir: '.edgepush-relay',
  // 256 MB per fast channel: at a busy lab's 10 messages/s of 5 KB, over an hour and a half of
  // cloud outage; a disk small enough to mind this is told so at start (ENOSPC shows as AE).
  spool: { maxBytes: 256 * 1024 * 1024, fsync: true },
} as const;

const LOG_LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid relay configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** Parses `mllp://host:port?encoding=windows-1252` for device `name`. */
export function parseDeviceUrl(name: string, value: string): DeviceConfig {
  if (!isDeviceName(name)) throw new Error(`device name ${JSON.stringify(name)} must be ${DEVICE_NAME_RULE}`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`device ${name}: ${JSON.stringify(value)} is not a URL like mllp://host:2575`);
  }
  if (url.protocol === 'astm:' || url.protocol === 'astm+serial:') return parseAstmDevice(name, value);
  if (url.protocol !== 'mllp:') throw new Error(`device ${name}: scheme must be mllp://, astm:// or astm+serial://, got ${url.protocol}//`);
  if (!url.hostname) throw new Error(`device ${name}: missing host`);
  const port = Number(url.port);
  if (!url.port || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`device ${name}: needs a port between 1 and 65535, as in mllp://host:2575`);
  }
  if (url.username || url.password || (url.pathname && url.pathname !== '/') || url.hash) {
    throw new Error(`device ${name}: only mllp://host:port?encoding=... is allowed`);
  }
  let encoding = 'utf-8';
  for (const [key, v] of url.searchParams) {
    if (key !== 'encoding') throw new Error(`device ${name}: unknown option ${JSON.stringify(key)} (only encoding)`);
    // The MLLP client's own check: iconv knows more (UTF-16...), but those break MLLP framing
    // and the client would refuse them on the first push instead of at start.
    try {
      encoding = resolveEncoding(v);
    } catch {
      throw new Error(`device ${name}: unknown encoding ${JSON.stringify(v)} (use one of: ${SUPPORTED_ENCODINGS.join(', ')})`);
    }
  }
  // URL keeps IPv6 literals bracketed; net.connect wants them bare.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return { name, protocol: 'mllp', host, port, encoding };
}

/** `astm://host:port` or `astm+serial:///dev/ttyUSB0?baud=9600` (see edge-agent/astm/astm-url.ts). */
function parseAstmDevice(name: string, value: string): DeviceConfig {
  let endpoint: AstmEndpoint;
  try {
    endpoint = parseAstmUrl(value);
  } catch (err) {
    throw new Error(`device ${name}: ${(err as Error).message}`);
  }
  if (endpoint.kind === 'listen') {
    throw new Error(
      `device ${name}: an analyser that dials the relay (?listen) is a channel, not a device; give astm://host:port or a serial line`,
    );
  }
  if (endpoint.kind === 'serial') return { name, protocol: 'astm', host: '', port: 0, encoding: endpoint.encoding, astm: endpoint };
  return { name, protocol: 'astm', host: endpoint.host, port: endpoint.port, encoding: endpoint.encoding, astm: endpoint };
}

/** Splits a `name=mllp://...` flag value. */
export function parseDeviceFlag(flag: string): DeviceConfig {
  const eq = flag.indexOf('=');
  if (eq <= 0) throw new Error(`--device ${JSON.stringify(flag)} must look like name=mllp://host:port`);
  return parseDeviceUrl(flag.slice(0, eq), flag.slice(eq + 1));
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Validates and fills defaults. Throws one ConfigError listing every problem found. */
export function resolveConfig(raw: RawConfig): RelayConfig {
  const problems: string[] = [];

  const url = typeof raw.url === 'string' ? raw.url : '';
  if (!url) problems.push('url is required (--url or EDGEPUSH_URL), e.g. wss://example.com/ws');
  else {
    try {
      const u = new URL(url);
      if (u.protocol !== 'ws:' && u.protocol !== 'wss:') problems.push(`url must start with ws:// or wss://, got ${u.protocol}//`);
      // The agent secret and every message (PHI) cross this connection: plain ws:// only to this
      // machine, unless the operator says the network in between is trusted.
      if (u.protocol === 'ws:' && !isLoopback(u.hostname) && raw.allowInsecure !== true) {
        problems.push(
          `url ${u.origin} is plain ws:// to another host: use wss://, or pass --allow-insecure (EDGEPUSH_ALLOW_INSECURE=1) on a trusted network`,
        );
      }
      // The secret travels in a header; a URL ends up in proxy and access logs.
      if (u.username || u.password || /secret|token|password/i.test(u.search)) {
        problems.push('url must not carry credentials; use --secret or EDGEPUSH_AGENT_SECRET');
      }
    } catch {
      problems.push(`url ${JSON.stringify(url)} is not a valid URL`);
    }
  }

  const agentId = typeof raw.agentId === 'string' ? raw.agentId : '';
  if (!agentId) problems.push('agent id is required (--agent or EDGEPUSH_AGENT_ID)');
  else if (!isAgentId(agentId)) problems.push(`agent id must be ${AGENT_ID_RULE}`);
  const secret = typeof raw.secret === 'string' ? raw.secret : '';
  if (!secret) problems.push('agent secret is required (--secret or EDGEPUSH_AGENT_SECRET)');

  const devices: DeviceConfig[] = [];
  const addDevice = (fn: () => DeviceConfig): void => {
    try {
      const d = fn();
      if (devices.some((x) => x.name === d.name)) problems.push(`device ${d.name} is configured twice`);
      else devices.push(d);
    } catch (err) {
      problems.push((err as Error).message);
    }
  };
  if (Array.isArray(raw.devices)) {
    for (const entry of raw.devices) {
      if (typeof entry !== 'string') problems.push('devices entries must be strings like name=mllp://host:port');
      else addDevice(() => parseDeviceFlag(entry));
    }
  } else if (isPlainObject(raw.devices)) {
    for (const [name, value] of Object.entries(raw.devices)) {
      if (typeof value !== 'string') problems.push(`device ${name}: value must be a string like mllp://host:port`);
      else addDevice(() => parseDeviceUrl(name, value));
    }
  } else if (raw.devices !== undefined) {
    problems.push('devices must be an object {name: "mllp://host:port"} or a list of name=mllp://host:port');
  }
  const ms = (value: unknown, fallback: number, field: string, min: number, max: number): number => {
    if (value === undefined) return fallback;
    const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
      problems.push(`${field} must be an integer between ${min} and ${max}`);
      return fallback;
    }
    return n;
  };
  const obj = (value: unknown, field: string): Record<string, unknown> => {
    if (value === undefined) return {};
    if (!isPlainObject(value)) {
      problems.push(`${field} must be an object`);
      return {};
    }
    return value;
  };

  const heartbeatIntervalMs = ms(raw.heartbeatIntervalMs, DEFAULTS.heartbeatIntervalMs, 'heartbeatIntervalMs', 10, 9 * 60_000);
  const heartbeatTimeoutMs = ms(raw.heartbeatTimeoutMs, DEFAULTS.heartbeatTimeoutMs, 'heartbeatTimeoutMs', 10, 5 * 60_000);
  const maxConnectionAgeMs = ms(raw.maxConnectionAgeMs, DEFAULTS.maxConnectionAgeMs, 'maxConnectionAgeMs', 1_000, 115 * 60_000);
  const rc = obj(raw.reconnect, 'reconnect');
  const reconnect = {
    initialDelayMs: ms(rc.initialDelayMs, DEFAULTS.reconnect.initialDelayMs, 'reconnect.initialDelayMs', 1, 60_000),
    maxDelayMs: ms(rc.maxDelayMs, DEFAULTS.reconnect.maxDelayMs, 'reconnect.maxDelayMs', 1, 5 * 60_000),
  };
  const dv = obj(raw.device, 'device');
  const device = {
    connectTimeoutMs: ms(dv.connectTimeoutMs, DEFAULTS.device.connectTimeoutMs, 'device.connectTimeoutMs', 1, 120_000),
    ackTimeoutMs: ms(dv.ackTimeoutMs, DEFAULTS.device.ackTimeoutMs, 'device.ackTimeoutMs', 1, 10 * 60_000),
    idleTimeoutMs: ms(dv.idleTimeoutMs, DEFAULTS.device.idleTimeoutMs, 'device.idleTimeoutMs', 1, 24 * 60 * 60_000),
    maxFrameBytes: ms(dv.maxFrameBytes, DEFAULTS.device.maxFrameBytes, 'device.maxFrameBytes', 1024, 64 * 1024 * 1024),
  };
  const cache = obj(raw.resultCache, 'resultCache');
  const resultCache = {
    maxEntries: ms(cache.maxEntries, DEFAULTS.resultCache.maxEntries, 'resultCache.maxEntries', 1, 1_000_000),
    ttlMs: ms(cache.ttlMs, DEFAULTS.resultCache.ttlMs, 'resultCache.ttlMs', 1_000, 7 * 24 * 60 * 60_000),
  };
  const ib = obj(raw.inbound, 'inbound');
  const limits: ChannelLimits = {
    maxMessageBytes: ms(ib.maxMessageBytes, CHANNEL_DEFAULTS.limits.maxMessageBytes, 'inbound.maxMessageBytes', 1024, MAX_BODY_BYTES),
    idleTimeoutMs: ms(ib.idleTimeoutMs, CHANNEL_DEFAULTS.limits.idleTimeoutMs, 'inbound.idleTimeoutMs', 100, 24 * 60 * 60_000),
    maxConnections: ms(ib.maxConnections, CHANNEL_DEFAULTS.limits.maxConnections, 'inbound.maxConnections', 1, 10_000),
  };
  const channels: ChannelSettings[] = [];
  const addChannel = (fn: () => ChannelSettings): void => {
    try {
      const c = fn();
      const clash = channels.find((x) => x.name === c.name);
      const port = channels.find((x) => x.port === c.port);
      if (clash) problems.push(`channel ${c.name} is configured twice`);
      else if (devices.some((d) => d.protocol === 'astm' && d.name === c.name))
        problems.push(`channel ${c.name}: ASTM device ${c.name} already receives on a channel of that name; name the channel otherwise`);
      else if (port) problems.push(`channel ${c.name}: port ${c.port} is already channel ${port.name}'s`);
      else channels.push(c);
    } catch (err) {
      problems.push((err as Error).message);
    }
  };
  if (Array.isArray(raw.channels)) {
    for (const entry of raw.channels) {
      if (typeof entry !== 'string') problems.push('channels entries must be strings like name=mllp://0.0.0.0:2575');
      else addChannel(() => parseChannelFlag(entry, limits));
    }
  } else if (isPlainObject(raw.channels)) {
    for (const [name, value] of Object.entries(raw.channels)) {
      if (typeof value !== 'string') problems.push(`channel ${name}: value must be a string like mllp://0.0.0.0:2575`);
      else addChannel(() => parseChannelUrl(name, value, limits));
    }
  } else if (raw.channels !== undefined) {
    problems.push('channels must be an object {name: "mllp://0.0.0.0:2575"} or a list of name=mllp://0.0.0.0:2575');
  }
  if (devices.length === 0 && channels.length === 0 && !problems.some((p) => p.startsWith('device') || p.startsWith('channel'))) {
    problems.push('at least one device or channel is required (--device name=mllp://host:port, --channel name=mllp://0.0.0.0:2575)');
  }
  let dataDir: string = DEFAULTS.dataDir;
  if (typeof raw.dataDir === 'string' && raw.dataDir.trim() !== '') dataDir = raw.dataDir;
  else if (raw.dataDir !== undefined) problems.push('dataDir must be a directory path (--data DIR)');
  const sp = obj(raw.spool, 'spool');
  const spool = {
    maxBytes: ms(sp.maxBytes, DEFAULTS.spool.maxBytes, 'spool.maxBytes', 64 * 1024, 1024 * 1024 * 1024 * 1024),
    fsync: sp.fsync === undefined ? DEFAULTS.spool.fsync : sp.fsync === true,
  };
  if (sp.fsync !== undefined && typeof sp.fsync !== 'boolean') problems.push('spool.fsync must be true or false');

  const shutdownTimeoutMs = ms(raw.shutdownTimeoutMs, DEFAULTS.shutdownTimeoutMs, 'shutdownTimeoutMs', 0, 10 * 60_000);
  const logLevel =
    raw.logLevel === undefined ? DEFAULTS.logLevel : typeof raw.logLevel === 'string' ? raw.logLevel : JSON.stringify(raw.logLevel);
  if (!LOG_LEVELS.has(logLevel)) problems.push(`logLevel must be one of ${[...LOG_LEVELS].join(', ')}`);

  if (problems.length) throw new ConfigError(problems);
  const allowInsecure = raw.allowInsecure === true;
  return {
    url,
    agentId,
    secret,
    devices,
    channels,
    dataDir,
    spool,
    heartbeatIntervalMs,
    heartbeatTimeoutMs,
    maxConnectionAgeMs,
    reconnect,
    device,
    resultCache,
    shutdownTimeoutMs,
    logLevel,
    allowInsecure,
  };
}
