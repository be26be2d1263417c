/**
 * Channel URLs: where the relay listens for devices that send to it.
 *
 *   name=mllp://0.0.0.0:2575?ack=fast|cloud|app&encoding=windows-1252&timeout=10s
 *   name=astm://0.0.0.0:4000?listen&ack=...          (the ASTM driver serves it)
 *
 * From `--channel` (repeatable), relay.json `channels` ({name: url} or ["name=url"]) and
 * EDGEPUSH_CHANNELS (space or comma separated). Limits shared by every channel (frame cap, idle
 * timeout, connections) come from relay.json `inbound`; see config-schema.ts.
 */
import { ACK_MODES, type AckMode } from '../../protocol/messages';
import { CHANNEL_NAME_RULE, isChannelName } from '../../protocol/names';
import { MAX_BODY_BYTES } from '../../protocol/limits';
import { parseAstmUrl } from '../astm/astm-url';
import { SUPPORTED_ENCODINGS, resolveEncoding } from '../mllp/encoding';
import type { ChannelSettings } from './inbound-sink';

export interface ChannelLimits {
  maxMessageBytes: number;
  idleTimeoutMs: number;
  maxConnections: number;
}

export const CHANNEL_DEFAULTS = {
  ack: 'fast' as AckMode,
  // cloud/app: most MLLP senders wait 30-60 s for an ACK before they resend; 10 s answers AE
  // well before that, so the device's own retry (not a timeout on its side) handles an outage.
  timeoutMs: 10_000,
  limits: {
    // The protocol's largest body: a lab result with a base64 PDF fits, nothing larger could be sent on.
    maxMessageBytes: MAX_BODY_BYTES,
    // Senders often hold one connection open all day; closing a silent one costs them a reconnect.
    idleTimeoutMs: 10 * 60_000,
    // A site has tens of senders per feed; the cap keeps a connection storm from eating the relay's memory.
    maxConnections: 200,
  } satisfies ChannelLimits,
};

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };
const MAX_TIMEOUT_MS = 10 * 60_000;

/** `500ms`, `10s`, `2m` or a bare number of ms. */
function parseTimeout(name: string, value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(value);
  const ms = m ? Math.round(Number(m[1]) * UNITS[m[2] ?? 'ms']) : NaN;
  if (!(ms >= 100 && ms <= MAX_TIMEOUT_MS)) {
    throw new Error(`channel ${name}: timeout must be a duration from 100ms to 10m such as 10s, got ${JSON.stringify(value)}`);
  }
  return ms;
}

function parseAck(name: string, value: string): AckMode {
  if (!(ACK_MODES as readonly string[]).includes(value)) {
    throw new Error(`channel ${name}: ack must be one of ${ACK_MODES.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as AckMode;
}

/** Parses one channel URL; throws an Error naming the channel and what to write instead. */
export function parseChannelUrl(name: string, value: string, limits: ChannelLimits = CHANNEL_DEFAULTS.limits): ChannelSettings {
  if (!isChannelName(name)) throw new Error(`channel name ${JSON.stringify(name)} must be ${CHANNEL_NAME_RULE}`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`channel ${name}: ${JSON.stringify(value)} is not a URL like mllp://0.0.0.0:2575`);
  }
  let ack = CHANNEL_DEFAULTS.ack;
  let timeoutMs = CHANNEL_DEFAULTS.timeoutMs;
  // ack and timeout belong to every channel; the rest of the query is the protocol's own.
  for (const [key, v] of [...url.searchParams]) {
    if (key === 'ack') ack = parseAck(name, v);
    else if (key === 'timeout') timeoutMs = parseTimeout(name, v);
    else continue;
    url.searchParams.delete(key);
  }
  const base = { name, ack, timeoutMs, ...limits };

  if (url.protocol === 'astm:' || url.protocol === 'astm+serial:') {
    let endpoint;
    try {
      endpoint = parseAstmUrl(url.toString());
    } catch (err) {
      throw new Error(`channel ${name}: ${(err as Error).message}`);
    }
    if (endpoint.kind !== 'listen') {
      throw new Error(
        `channel ${name}: an analyser the relay dials (or on a serial line) is a device (--device); it receives on a channel of its own name. A channel listens: astm://0.0.0.0:port?listen`,
      );
    }
    return { ...base, protocol: 'astm', host: endpoint.host, port: endpoint.port, encoding: endpoint.encoding };
  }
  if (url.protocol !== 'mllp:') throw new Error(`channel ${name}: scheme must be mllp:// or astm://, got ${url.protocol}//`);
  const port = Number(url.port);
  if (!url.hostname || !url.port || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`channel ${name}: needs a host and a port between 1 and 65535, as in mllp://0.0.0.0:2575`);
  }
  if (url.username || url.password || (url.pathname && url.pathname !== '/') || url.hash) {
    throw new Error(`channel ${name}: only mllp://host:port?ack=...&encoding=...&timeout=... is allowed`);
  }
  let encoding = 'utf-8';
  for (const [key, v] of url.searchParams) {
    if (key !== 'encoding') throw new Error(`channel ${name}: unknown option ${JSON.stringify(key)} (ack, encoding, timeout)`);
    try {
      encoding = resolveEncoding(v);
    } catch {
      throw new Error(`channel ${name}: unknown encoding ${JSON.stringify(v)} (use one of: ${SUPPORTED_ENCODINGS.join(', ')})`);
    }
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return { ...base, protocol: 'mllp', host, port, encoding };
}

/** Splits a `name=mllp://...` flag or list entry. */
export function parseChannelFlag(flag: string, limits?: ChannelLimits): ChannelSettings {
  const eq = flag.indexOf('=');
  if (eq <= 0) throw new Error(`--channel ${JSON.stringify(flag)} must look like name=mllp://0.0.0.0:2575`);
  return parseChannelUrl(flag.slice(0, eq), flag.slice(eq + 1), limits);
}
