/**
 * The relay's InboundSink: one lane per inbound channel (spooled-lane.ts for `fast`,
 * direct-lane.ts for `cloud` and `app`), and the router for the cloud's answers (inboundAck,
 * appAck, error with an inboundId). Channels are the configured ones plus, for each ASTM device,
 * a `fast` channel of the device's name (what the analyser sends back on its link).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { AppAckMessage, ChannelInfo, ErrorMessage, InboundAckMessage } from '../../protocol/messages';
import type { BackoffOptions } from '../backoff';
import type { DeviceConfig } from './config-schema';
import { DirectLane } from './direct-lane';
import type { CloudLink, InboundLane } from './inbound-lane';
import type { ChannelSettings, InboundSink, InboundSubmission, InboundVerdict } from './inbound-sink';
import { Spool } from './spool';
import { SpooledLane } from './spooled-lane';

export interface InboundForwarderOptions {
  channels: readonly ChannelSettings[];
  /** ASTM devices: each also receives on a `fast` channel of its own name. */
  devices: readonly DeviceConfig[];
  dataDir: string;
  spool: { maxBytes: number; fsync: boolean };
  link: CloudLink;
  logger: Logger;
  retry?: BackoffOptions;
  answerTimeoutMs?: number;
}

/** After an `error` for a spooled message: 1 s, doubling to a minute. */
export const DEFAULT_INBOUND_RETRY: BackoffOptions = { initialDelayMs: 1_000, maxDelayMs: 60_000 };
/** A spooled message the cloud neither stored nor refused in this time is sent again. */
export const DEFAULT_ANSWER_TIMEOUT_MS = 30_000;

export class InboundForwarder implements InboundSink {
  readonly lanes = new Map<string, InboundLane>();
  private readonly infos: ChannelInfo[] = [];

  constructor(o: InboundForwarderOptions) {
    const laneFor = (name: string, ack: ChannelSettings['ack'], timeoutMs: number, eager: boolean): InboundLane => {
      if (ack !== 'fast') return new DirectLane({ channel: name, mode: ack, timeoutMs, link: o.link, logger: o.logger });
      const dir = join(o.dataDir, 'spool', name);
      return new SpooledLane({
        channel: name,
        openSpool: () => Spool.open(dir, { maxBytes: o.spool.maxBytes, fsync: o.spool.fsync }),
        eager,
        spoolExists: existsSync(dir),
        link: o.link,
        logger: o.logger,
        retry: o.retry ?? DEFAULT_INBOUND_RETRY,
        answerTimeoutMs: o.answerTimeoutMs ?? DEFAULT_ANSWER_TIMEOUT_MS,
      });
    };
    for (const c of o.channels) {
      this.lanes.set(c.name, laneFor(c.name, c.ack, c.timeoutMs, true));
      this.infos.push({ name: c.name, protocol: c.protocol, ack: c.ack });
    }
    for (const d of o.devices) {
      if (d.protocol !== 'astm' || this.lanes.has(d.name)) continue;
      this.lanes.set(d.name, laneFor(d.name, 'fast', 0, false));
      this.infos.push({ name: d.name, protocol: 'astm', ack: 'fast' });
    }
  }

  /** For `hello`: names, protocols and ACK modes, never addresses. */
  channels(): ChannelInfo[] {
    return this.infos;
  }

  submit(message: InboundSubmission, progress?: { stored?: () => void }): Promise<InboundVerdict> {
    const lane = this.lanes.get(message.channel);
    if (!lane) return Promise.resolve({ outcome: 'refused', reason: `no channel ${message.channel} on this relay` });
    return lane.submit(message, progress);
  }

  onOpen(): void {
    for (const lane of this.lanes.values()) lane.onOpen();
  }

  onInboundAck(msg: InboundAckMessage): void {
    this.owner(msg.inboundId)?.onInboundAck(msg.inboundId);
  }

  onAppAck(msg: AppAckMessage): void {
    const lane = this.owner(msg.inboundId);
    // A late appAck (the device already had its AE) finds no owner; any app lane logs it.
    if (lane) lane.onAppAck(msg);
  }

  /** true when the error was about one of this relay's inbound messages. */
  onError(msg: ErrorMessage): boolean {
    if (!msg.inboundId) return false;
    this.owner(msg.inboundId)?.onError(msg);
    return true;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.lanes.values()].map((l) => l.stop()));
  }

  private owner(inboundId: string): InboundLane | undefined {
    for (const lane of this.lanes.values()) if (lane.owns(inboundId)) return lane;
    return undefined;
  }
}
