/**
 * The devices this relay may reach, from its own config: name -> MLLP client. The cloud only
 * ever names a device; an unknown name gets no client, so the relay never dials an address it
 * was not configured with. Clients are created on first use and kept (one connection each).
 */
import type { Logger } from 'pino';
import type { InboundSink } from './inbound-sink';
import { ASTM_CONTENT_TYPE, HL7_V2_CONTENT_TYPE } from '../../protocol/content-types';
import type { ChannelProtocol, DeviceProtocols, PushMessage, ResultMessage } from '../../protocol/messages';
import { AstmDevice } from '../astm/astm-device';
import { DEVICE_CONNECT_ATTEMPTS, DEVICE_CONNECT_BACKOFF } from '../../protocol/timeouts';
import { MllpDeviceClient } from '../mllp/device-client';
import type { DeviceConfig, RelayConfig } from './config-schema';
import { astmAcked, fromAck, fromAstmError, fromError } from './outcome';

/** One configured device, whatever it speaks: it takes a push and gives the result to report. */
export interface DeviceDriver {
  /** The content type a push to this device must carry. */
  readonly contentType: string;
  /** Called synchronously in the cloud's order: each driver keeps its device's queue in that order. */
  deliver(push: PushMessage): Promise<ResultMessage>;
  close(): Promise<void>;
}

/** Connect attempts per push: fail fast on a dead device; the cloud keeps the push queued and retries it (retryable). */
export const DEVICE_RECONNECT = { ...DEVICE_CONNECT_BACKOFF, maxAttempts: DEVICE_CONNECT_ATTEMPTS };

export class DeviceRegistry {
  private readonly configs = new Map<string, DeviceConfig>();
  private readonly clients = new Map<string, MllpDeviceClient>();
  private readonly astm = new Map<string, AstmDevice>();

  /**
   * `inbound`: where an ASTM analyser's own transfers (results, host queries) go, on a channel of
   * the device's name. Without it, an analyser's ENQ is refused (NAK) and it keeps its results.
   */
  constructor(
    devices: DeviceConfig[],
    private readonly settings: RelayConfig['device'],
    private readonly logger: Logger,
    private readonly inbound?: InboundSink,
  ) {
    for (const d of devices) this.configs.set(d.name, d);
  }

  /** Opens every ASTM analyser's link now: it can only send its results on a line the relay holds open. */
  startAstm(): void {
    if (!this.inbound) return;
    for (const d of this.configs.values()) if (d.protocol === 'astm') this.astmDevice(d).start();
  }

  /** Push destinations served by a listening channel (an ASTM analyser that dials in). */
  private readonly channelDevices = new Map<string, { protocol: ChannelProtocol; driver: DeviceDriver }>();

  addChannelDevice(name: string, protocol: ChannelProtocol, driver: DeviceDriver): void {
    this.channelDevices.set(name, { protocol, driver });
  }

  names(): string[] {
    return [...this.configs.keys(), ...this.channelDevices.keys()];
  }

  /** What each device speaks, for hello.deviceProtocols. */
  protocols(): DeviceProtocols {
    const kinds: DeviceProtocols = {};
    for (const d of this.configs.values()) kinds[d.name] = d.protocol;
    for (const [name, c] of this.channelDevices) kinds[name] = c.protocol;
    return kinds;
  }

  has(name: string): boolean {
    return this.configs.has(name) || this.channelDevices.has(name);
  }

  /** The driver for a configured device, or undefined for any other name. */
  driver(name: string): DeviceDriver | undefined {
    const d = this.configs.get(name);
    if (!d) return this.channelDevices.get(name)?.driver;
    if (d.protocol === 'astm') {
      const device = this.astmDevice(d);
      return {
        contentType: ASTM_CONTENT_TYPE,
        deliver: (push) =>
          device.send(push.body).then(
            () => astmAcked(push.pushId),
            (err: unknown) => fromAstmError(push.pushId, err),
          ),
        close: () => device.close(),
      };
    }
    const client = this.client(name)!;
    return {
      contentType: HL7_V2_CONTENT_TYPE,
      deliver: (push) =>
        client.send(push.body, { returnAck: push.returnAck }).then(
          (ack) => fromAck(push.pushId, ack),
          (err: unknown) => fromError(push.pushId, err),
        ),
      close: () => client.close(),
    };
  }

  private astmDevice(d: DeviceConfig): AstmDevice {
    let device = this.astm.get(d.name);
    if (!device) {
      device = new AstmDevice({
        endpoint: d.astm!,
        connectTimeoutMs: this.settings.connectTimeoutMs,
        logger: this.logger.child({ destination: d.name }),
        ...(this.inbound ? { inbound: { channel: d.name, sink: this.inbound } } : {}),
      });
      this.astm.set(d.name, device);
    }
    return device;
  }

  /** The MLLP client for a configured MLLP device, or undefined for any other name. */
  client(name: string): MllpDeviceClient | undefined {
    let client = this.clients.get(name);
    if (client) return client;
    const d = this.configs.get(name);
    if (!d || d.protocol !== 'mllp') return undefined;
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
    const clients = [...this.clients.values(), ...this.astm.values()];
    this.clients.clear();
    this.astm.clear();
    await Promise.allSettled(clients.map((c) => c.close()));
  }
}
