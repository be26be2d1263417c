/**
 * Where the relay's configuration comes from, lowest to highest precedence: a JSON file
 * (`--config`), environment variables (EDGEPUSH_*, for systemd), command-line flags. Each source
 * gives a RawConfig; mergeRaw layers them, and config-schema.ts validates the result.
 */
import { readFileSync } from 'node:fs';
import { ConfigError, isPlainObject, type RawConfig } from './config-schema';

/** Reads a JSON config file; errors name the file. */
export function readConfigFile(path: string): RawConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([`cannot read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([`config file ${path} is not valid JSON: ${jsonErrorWithoutText(text, err as Error)}`]);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError([`config file ${path} must hold a JSON object`]);
  }
  return value;
}

/**
 * V8's JSON.parse messages quote the text around the error ("Unexpected token 'T', ...\"secret\":
 * TOPSECRET}\" is not valid JSON"); the file holds the agent secret and this goes to stderr, i.e.
 * the journal. Keep the reason up to the first quote, and turn a position into line:column.
 */
function jsonErrorWithoutText(text: string, err: Error): string {
  const reason = err.message
    .split(/[,'"]/, 1)[0]
    .replace(/\s+(?:in JSON\s+)?at position \d+.*$/s, '')
    .trim();
  const at = /at position (\d+)/.exec(err.message);
  if (!at) return `${reason} (look for a value without quotes)`;
  const before = text.slice(0, Number(at[1]));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return `${reason} at line ${line}, column ${column}`;
}

/**
 * EDGEPUSH_URL, EDGEPUSH_AGENT_ID, EDGEPUSH_AGENT_SECRET, EDGEPUSH_DEVICES and EDGEPUSH_CHANNELS
 * (space or comma separated name=url), EDGEPUSH_DATA_DIR, else systemd's STATE_DIRECTORY.
 */
export function configFromEnv(env: NodeJS.ProcessEnv): RawConfig {
  const raw: RawConfig = {};
  if (env.EDGEPUSH_URL) raw.url = env.EDGEPUSH_URL;
  if (env.EDGEPUSH_AGENT_ID) raw.agentId = env.EDGEPUSH_AGENT_ID;
  if (env.EDGEPUSH_AGENT_SECRET) raw.secret = env.EDGEPUSH_AGENT_SECRET;
  if (env.EDGEPUSH_DEVICES) raw.devices = env.EDGEPUSH_DEVICES.split(/[\s,]+/).filter(Boolean);
  if (env.EDGEPUSH_CHANNELS) raw.channels = env.EDGEPUSH_CHANNELS.split(/[\s,]+/).filter(Boolean);
  // StateDirectory= may list several, separated by ':'; the relay's own is the first.
  const dataDir = env.EDGEPUSH_DATA_DIR || env.STATE_DIRECTORY?.split(':')[0];
  if (dataDir) raw.dataDir = dataDir;
  if (env.EDGEPUSH_LOG_LEVEL) raw.logLevel = env.EDGEPUSH_LOG_LEVEL;
  if (env.EDGEPUSH_ALLOW_INSECURE === '1' || env.EDGEPUSH_ALLOW_INSECURE === 'true') raw.allowInsecure = true;
  return raw;
}

/** The `edgepush relay` flags that carry configuration, as commander parses them. */
export interface RelayFlags {
  url?: string;
  agent?: string;
  secret?: string;
  device?: string[];
  channel?: string[];
  data?: string;
  heartbeat?: string;
  logLevel?: string;
  allowInsecure?: boolean;
}

export function configFromFlags(flags: RelayFlags): RawConfig {
  return {
    url: flags.url,
    agentId: flags.agent,
    secret: flags.secret,
    devices: flags.device?.length ? flags.device : undefined,
    channels: flags.channel?.length ? flags.channel : undefined,
    dataDir: flags.data,
    heartbeatIntervalMs: flags.heartbeat,
    logLevel: flags.logLevel,
    allowInsecure: flags.allowInsecure,
  };
}

/** Later sources win, field by field (nested objects are merged one level deep). */
export function mergeRaw(...sources: RawConfig[]): RawConfig {
  const out: Record<string, unknown> = {};
  for (const src of sources) {
    for (const [key, value] of Object.entries(src)) {
      if (value === undefined) continue;
      const prev = out[key];
      out[key] = isPlainObject(prev) && isPlainObject(value) ? { ...prev, ...value } : value;
    }
  }
  return out;
}
