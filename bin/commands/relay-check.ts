/**
 * `edgepush relay --check`: can this machine reach each configured device (one TCP connect
 * each), can each channel listen on its port (bind, then close), and can the spool of `fast`
 * channels be written in the data dir?
 */
import { accessSync, constants, mkdirSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import type { DeviceConfig } from '../../edge-agent/relay/config-schema';
import { CHANNEL_DRIVERS } from '../../edge-agent/relay/channel-drivers';
import type { ChannelSettings } from '../../edge-agent/relay/inbound-sink';

export interface DeviceCheck {
  name: string;
  host: string;
  port: number;
  ok: boolean;
  why?: string;
}

const CHECK_TIMEOUT_MS = 3000;

export function checkDevices(devices: readonly DeviceConfig[], timeoutMs = CHECK_TIMEOUT_MS): Promise<DeviceCheck[]> {
  return Promise.all(devices.map((d) => checkOne(d, timeoutMs)));
}

function checkOne(device: DeviceConfig, timeoutMs: number): Promise<DeviceCheck> {
  const base = { name: device.name, host: device.host, port: device.port };
  return new Promise((resolve) => {
    const socket = connect({ host: device.host, port: device.port });
    const done = (why?: string): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(why === undefined ? { ...base, ok: true } : { ...base, ok: false, why });
    };
    const timer = setTimeout(() => done(`no connection within ${timeoutMs} ms`), timeoutMs);
    socket.once('connect', () => done());
    socket.once('error', (err: NodeJS.ErrnoException) =>
      done(err.code === 'ECONNREFUSED' ? 'connection refused' : (err.code ?? err.message)),
    );
  });
}

export interface ChannelCheck {
  name: string;
  host: string;
  port: number;
  ok: boolean;
  why?: string;
}

/** Binds each channel's port and lets it go at once; a port in use or not permitted fails. */
export async function checkChannels(channels: readonly ChannelSettings[], dataDir: string): Promise<ChannelCheck[]> {
  const out: ChannelCheck[] = [];
  const dataProblem = channels.some((c) => c.ack === 'fast') ? checkDataDir(dataDir) : undefined;
  for (const c of channels) {
    const base = { name: c.name, host: c.host, port: c.port };
    let why = CHANNEL_DRIVERS[c.protocol] ? await tryListen(c.host, c.port) : `no driver for ${c.protocol}:// channels in this relay`;
    if (!why && c.ack === 'fast' && dataProblem) why = dataProblem;
    out.push(why === undefined ? { ...base, ok: true } : { ...base, ok: false, why });
  }
  return out;
}

function tryListen(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) =>
      resolve(
        err.code === 'EADDRINUSE'
          ? 'port in use'
          : err.code === 'EACCES'
            ? 'not permitted to listen on this port'
            : (err.code ?? err.message),
      ),
    );
    server.listen(port, host, () => server.close(() => resolve(undefined)));
  });
}

function checkDataDir(dir: string): string | undefined {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    accessSync(dir, constants.W_OK);
    return undefined;
  } catch (err) {
    return `data dir ${dir} is not writable (${(err as NodeJS.ErrnoException).code ?? String(err)}): give --data DIR`;
  }
}
