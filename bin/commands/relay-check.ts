/** `edgepush relay --check`: can this machine reach each configured device? One TCP connect each. */
import { connect } from 'node:net';
import type { DeviceConfig } from '../../edge-agent/relay/config-schema';

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
