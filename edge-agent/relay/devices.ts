/**
 * The devices this relay may reach, from its own config: name -> MLLP client. The cloud only
 * ever names a device; an unknown name gets no client, so the relay never dials an address it
 * was not configured with. Clients are created on first use and kept (one connection each).
 */
import type { Logger } from 'pino';
import { DEVICE_CONNECT_ATTEMPTS, DEVICE_CONNECT_BACKOFF } from '../../protocol/timeouts';
import { MllpDeviceClient } from '../mllp/device-client';
import type { DeviceConfig, RelayConfig } from './config-schema';

/** Connect attempts per push: fail fast on a dead device; the cloud keeps the push queued and retries it (retryable). */
export const DEVICE_RECONNECT = { ...DEVICE_CONNECT_BACKOFF, maxAttempts: DEVICE_CONNECT_ATTEMPTS };

export class DeviceRegistry {
  private readonly configs = new Map<string, DeviceConfig>();
  private readonly clients = new Map<string, MllpDeviceClient>();

  constructor(
    devices: DeviceConfig[],
    private readonly settings: RelayConfig['device'],
    private readonly logger: Logger,
  ) {
    for (const d of devices) this.configs.set(d.name, d);
  }

  names(): string[] {
    return [...this.configs.keys()];
  }

  has(name: string): boolean {
    return this.configs.has(name);
  }

  /** The client for a configured device, or undefined for any other name. */
  client(name: string): MllpDeviceClient | undefined {
    let client = this.clients.get(name);
    if (client) return client;
    const d = this.configs.get(name);
    if (!d) return undefined;
    client = new MllpDeviceClient({
      host: d.host,
      port: d.port,
      encoding: d.encoding,
      connectTimeoutMs: this.settings.connectTimeoutMs,
      ackTimeoutMs: this.settings.ackTimeoutMs,
      idleTimeoutMs: this.settings.idleTimeoutMs,
      maxFrameBytes: this.settings.maxFrameBytes,
      reconnect: DEVICE_RECONNECT,
      logger: this.logger.child({ destination: name }),
    });
    this.clients.set(name, client);
    return client;
  }

  async closeAll(): Promise<void> {
    const clients = [...this.clients.values()];
    this.clients.clear();
    await Promise.allSettled(clients.map((c) => c.close()));
  }
}
