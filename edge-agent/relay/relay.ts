/**
 * The relay: wires the cloud connection, the device registry, the result cache and the outbox.
 *
 *   push -> validate -> already answered?  -> send the same result again
 *                    -> in flight?         -> nothing (its result follows)
 *                    -> unknown device / expired / not HL7 -> failed, not retryable
 *                    -> `after` not here -> failed, retryable (it would overtake that push)
 *                    -> device lane (one at a time) -> acked | nacked (ACK text) | failed (reason, retryable?)
 *   result -> outbox (kept until resultAck) -> cloud, again after every reconnect, and again
 *             on a backoff timer while connected (the cloud may not have recorded it)
 *
 *   device -> channel driver (MLLP, ASTM) -> inbound forwarder (fast: spool; cloud, app: direct)
 *          -> `inbound` -> cloud; inboundAck / appAck / error{inboundId} -> forwarder -> device's ACK
 */
import type { Logger } from 'pino';
import { MAX_PUSH_ID_LENGTH } from '../../protocol/limits';
import { equalJitterDelay, type BackoffOptions } from '../backoff';
import { BASE_MESSAGE_VERSION, ProtocolError, type HelloMessage, type PushMessage, type ResultMessage } from '../../protocol/messages';
import { stripDevicePrefix } from '../../protocol/names';
import { HEARTBEAT_ACTION, HELLO_ACTION } from '../../protocol/relay-routes';
import { parseCloudMessage } from '../../protocol/validate';
import { VERSION } from '../../protocol/version';
import type { RelayConfig } from './config-schema';
import { CloudConnection } from './cloud-connection';
import { DeviceRegistry } from './devices';
import { MessageTooLargeError } from './frame-sender';
import { parseGatewayError } from './gateway-error';
import { createRelayLogger } from './logger';
import { failed } from './outcome';
import { Outbox } from './outbox';
import { createChannelDriver } from './channel-drivers';
import type { ChannelDriver } from './inbound-sink';
import { InboundForwarder } from './inbound-forwarder';
import { ResultCache } from './result-cache';
import { notSentBehind, PushLanes } from './push-lanes';

export interface RelayStats {
  pushes: number;
  duplicates: number;
  invalidMessages: number;
  results: number;
  /** Results sent again on the timer because the cloud had not acknowledged them. */
  resultResends: number;
  /** API Gateway's own error frames (a message it did not deliver to the cloud). */
  gatewayErrors: number;
}

/**
 * First re-send of an unacknowledged result after 2 s, doubling to 30 s: a result the cloud did
 * not record (throttled or failed ws-message) is recorded seconds later, well inside the
 * cloud's 35 s wait before it re-sends the push, instead of only after the next reconnect.
 */
export const DEFAULT_RESULT_RESEND: BackoffOptions = { initialDelayMs: 2_000, maxDelayMs: 30_000 };

/**
 * The cloud decides expiry with its own clock before it sends a push; the relay's check only
 * stops a push that waited here too long. Site clocks drift, and a relay whose clock runs ahead
 * must not refuse every fresh push, so it allows this much disagreement.
 */
export const CLOCK_SKEW_ALLOWANCE_MS = 5 * 60_000;

export class Relay {
  readonly logger: Logger;
  readonly connection: CloudConnection;
  readonly devices: DeviceRegistry;
  /** Results as the JSON text sent to the cloud: one flat string each is the cheapest to keep 10,000 of. */
  /** Results as made (never changed afterwards): kept as objects, not JSON, as they take about a third less memory. */
  readonly cache: ResultCache<ResultMessage>;
  readonly outbox: Outbox;
  readonly inbound: InboundForwarder;
  readonly channels: ChannelDriver[] = [];
  /** Settles once every channel listens; rejects when one cannot (port taken, no driver). */
  ready: Promise<void> = Promise.resolve();
  readonly stats: RelayStats = { pushes: 0, duplicates: 0, invalidMessages: 0, results: 0, resultResends: 0, gatewayErrors: 0 };
  private readonly inFlight = new Set<Promise<void>>();
  /** Each device's pushes, one at a time in the cloud's order (the same expiry rule as on arrival). */
  private readonly lanes = new PushLanes({
    expired: (push, waitedMs) =>
      push.expiresAt + CLOCK_SKEW_ALLOWANCE_MS <= Date.now() || (push.ttlMs !== undefined && waitedMs >= push.ttlMs),
  });
  private stopping: Promise<void> | undefined;
  private readonly resend: BackoffOptions;
  private resendTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: RelayConfig,
    logger?: Logger,
  ) {
    this.logger = logger ?? createRelayLogger(config.logLevel);
    this.cache = new ResultCache(config.resultCache);
    this.outbox = new Outbox(config.resultCache.maxEntries);
    this.resend = config.resultResend ?? DEFAULT_RESULT_RESEND;
    this.connection = new CloudConnection({
      url: config.url,
      agentId: config.agentId,
      secret: config.secret,
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      heartbeatTimeoutMs: config.heartbeatTimeoutMs,
      maxConnectionAgeMs: config.maxConnectionAgeMs,
      reconnect: config.reconnect,
      heartbeat: JSON.stringify({ action: HEARTBEAT_ACTION, v: BASE_MESSAGE_VERSION }),
      logger: this.logger,
    });
    this.inbound = new InboundForwarder({
      channels: config.channels,
      devices: config.devices,
      dataDir: config.dataDir,
      spool: config.spool,
      link: { send: (text) => this.connection.send(text), isOpen: () => this.connection.isOpen },
      logger: this.logger,
    });
    this.devices = new DeviceRegistry(config.devices, config.device, this.logger, this.inbound);
    this.connection.on('open', () => this.onOpen());
    this.connection.on('message', (text, reassembled) => this.onMessage(text, reassembled));
  }

  start(): void {
    this.logger.info(
      { agentId: this.config.agentId, devices: this.devices.names(), channels: this.inbound.channels(), version: VERSION },
      'relay starting',
    );
    this.ready = this.startChannels();
    this.devices.startAstm();
    this.ready.catch(() => undefined); // the owner awaits `ready`; an unawaited one must not crash
    this.connection.start();
  }

  private async startChannels(): Promise<void> {
    // Every driver exists before the first await, so the first hello already names channel destinations.
    const drivers = this.config.channels.map((settings) => {
      const driver = createChannelDriver(settings, this.inbound, this.logger);
      const device = driver.asDevice?.();
      if (device) this.devices.addChannelDevice(settings.name, settings.protocol, device);
      this.channels.push(driver);
      return { settings, driver };
    });
    for (const { settings, driver } of drivers) {
      try {
        await driver.start();
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        throw new Error(
          `channel ${settings.name} cannot listen on ${settings.host}:${settings.port}: ${e.code === 'EADDRINUSE' ? 'the port is in use' : e.message}`,
        );
      }
    }
  }

  /**
   * Graceful shutdown: take no new pushes, let in-flight ones finish (or fail them when the
   * time is up by closing the device clients), give the cloud a moment to acknowledge the
   * results, then close the WebSocket. Safe to call more than once.
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    const deadline = Date.now() + this.config.shutdownTimeoutMs;
    this.logger.info({ inFlight: this.inFlight.size, unacknowledged: this.outbox.size }, 'relay stopping');
    // Devices first: no new messages; those in hand are stored and answered (bounded, see STOP_GRACE_MS).
    await Promise.allSettled(this.channels.map((c) => c.stop()));
    await withTimeout(Promise.allSettled([...this.inFlight]), this.config.shutdownTimeoutMs);
    await this.devices.closeAll(); // anything still waiting on a device fails now, and is reported
    await withTimeout(Promise.allSettled([...this.inFlight]), 1_000);
    // Results nobody has acknowledged yet while the WebSocket is down: wait (within the shutdown
    // time) for the reconnect, whose 'open' re-sends them; otherwise they die with the process
    // and the cloud's redelivery reaches the device a second time.
    if (this.outbox.size > 0 && !this.connection.isOpen) await this.waitForOpen(deadline - Date.now());
    if (this.connection.isOpen) await this.outbox.waitEmpty(Math.max(0, Math.min(2_000, deadline - Date.now())));
    clearTimeout(this.resendTimer);
    await this.inbound.stop();
    await this.connection.stop();
    this.logger.info({ unacknowledged: this.outbox.size }, 'relay stopped');
  }

  /** Resolves true on the next 'open' (after onOpen re-sent the outbox), false after `ms`. */
  private waitForOpen(ms: number): Promise<boolean> {
    if (this.connection.isOpen) return Promise.resolve(true);
    if (ms <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onOpen = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.connection.off('open', onOpen);
        resolve(false);
      }, ms);
      this.connection.once('open', onOpen);
    });
  }

  private onOpen(): void {
    const channels = this.inbound.channels();
    const hello: HelloMessage = {
      action: HELLO_ACTION,
      v: BASE_MESSAGE_VERSION,
      version: VERSION,
      devices: this.devices.names(),
      deviceProtocols: this.devices.protocols(),
      ...(channels.length ? { channels } : {}),
    };
    this.send(JSON.stringify(hello));
    const pending = this.outbox.all();
    if (pending.length) this.logger.info({ count: pending.length }, 're-sending unacknowledged results');
    this.outbox.resetSends();
    for (const result of pending) this.sendResult(result);
    this.inbound.onOpen();
  }

  /** Arms the timer for the earliest unacknowledged result's next re-send. */
  private scheduleResend(): void {
    clearTimeout(this.resendTimer);
    this.resendTimer = undefined;
    const next = this.outbox.nextDueAt();
    if (next === undefined || this.stopping) return;
    this.resendTimer = setTimeout(() => this.resendDue(), Math.max(0, next - Date.now()));
    this.resendTimer.unref();
  }

  private resendDue(): void {
    this.resendTimer = undefined;
    // While disconnected nothing goes out; the reconnect's onOpen re-sends them all.
    if (!this.connection.isOpen) return;
    const due = this.outbox.due(Date.now());
    if (due.length) this.logger.info({ count: due.length }, 're-sending results the cloud has not acknowledged');
    for (const result of due) {
      this.stats.resultResends++;
      this.sendResult(result);
    }
    this.scheduleResend();
  }

  private onMessage(text: string, reassembled = false): void {
    const gatewayError = parseGatewayError(text);
    if (gatewayError) {
      // API Gateway did not hand some message to the cloud; unacknowledged results stay in the
      // outbox and the re-send timer sends them again.
      this.stats.gatewayErrors++;
      this.logger.warn({ ...gatewayError, unacknowledged: this.outbox.size }, 'API Gateway did not deliver a message to the cloud');
      return;
    }
    let msg;
    try {
      msg = parseCloudMessage(text, reassembled);
    } catch (err) {
      this.onInvalid(text, err);
      return;
    }
    switch (msg.type) {
      case 'push':
        this.onPush(msg);
        return;
      case 'resultAck':
        this.outbox.ack(msg.pushId);
        return;
      case 'inboundAck':
        this.inbound.onInboundAck(msg);
        return;
      case 'appAck':
        this.inbound.onAppAck(msg);
        return;
      case 'error':
        if (this.inbound.onError(msg)) return; // about an inbound message: its lane logs it
        this.logger.warn({ code: msg.code, error: msg.error, pushId: msg.pushId }, 'cloud reported an error');
        // An answer about one result is the cloud's final word on it, unless it asks for a resend.
        if (msg.pushId && msg.code !== 'INTERNAL') this.outbox.ack(msg.pushId);
        return;
      case 'helloAck':
      case 'heartbeatAck':
        return; // the connection already counted it as a sign of life
    }
  }

  /**
   * A message that does not validate is logged (never its content) and dropped. When it is a
   * push whose pushId can still be read, the cloud gets a failed result for it, so the push
   * reaches a terminal state instead of being retried forever.
   */
  private onInvalid(text: string, err: unknown): void {
    this.stats.invalidMessages++;
    const code = err instanceof ProtocolError ? err.code : 'INVALID_MESSAGE';
    const reason = err instanceof Error ? err.message : String(err);
    const pushId = readPushId(text);
    this.logger.warn({ code, error: reason, pushId, bytes: Buffer.byteLength(text) }, 'invalid message from cloud');
    if (pushId && !this.cache.isInFlight(pushId) && !this.cache.get(pushId)) {
      this.report(failed(pushId, `invalid push (${code}): ${reason}`, false));
    }
  }

  private onPush(push: PushMessage): void {
    const { pushId } = push;
    const cached = this.cache.get(pushId);
    if (cached) {
      this.stats.duplicates++;
      this.logger.info({ pushId, status: cached.status }, 'push already answered; sending the same result');
      this.report(cached);
      return;
    }
    if (this.cache.isInFlight(pushId)) {
      this.stats.duplicates++;
      this.logger.info({ pushId }, 'push already in flight; not starting it again');
      return;
    }
    this.stats.pushes++;
    const destination = stripDevicePrefix(push.destination);
    const log = this.logger.child({ pushId, destination });

    if (this.stopping) {
      // Not cached: after a restart the cloud sends it again and it is delivered then.
      this.report(failed(pushId, 'relay is shutting down', true));
      return;
    }
    const driver = this.devices.driver(destination);
    let refusal: ResultMessage | undefined;
    if (!driver) refusal = failed(pushId, 'unknown device', false);
    else if (push.expiresAt + CLOCK_SKEW_ALLOWANCE_MS <= Date.now()) refusal = failed(pushId, 'expired before delivery', false);
    else if (push.contentType !== driver.contentType)
      refusal = failed(
        pushId,
        `device ${destination} takes ${driver.contentType}, not ${JSON.stringify(push.contentType.slice(0, 64))}`,
        false,
      );
    if (refusal) {
      log.warn({ status: refusal.status, error: refusal.error }, 'push refused');
      this.cache.set(pushId, refusal);
      this.report(refusal);
      return;
    }

    if (push.after !== undefined && !this.cache.isInFlight(push.after) && this.cache.get(push.after) === undefined) {
      // The push meant to go just before this one is not here (lost with a restart, or failed
      // retryably): delivering this one now would overtake it.
      const refusal = failed(pushId, notSentBehind(push.after), true);
      log.info({ after: push.after }, 'push not started: the push before it was not delivered');
      this.report(refusal);
      return;
    }

    this.cache.begin(pushId);
    const startedAt = Date.now();
    // Queued on its device's lane synchronously here, so the lane keeps the cloud's order.
    const deliver = () => driver!.deliver(push);
    const task = this.lanes.run(destination, push, deliver).then((result) => {
      // A retryable failure is forgotten, so the cloud's retry of this pushId is delivered.
      this.cache.finish(pushId, result.status === 'failed' && result.retryable ? undefined : result);
      // A retryable failure (the device could not be reached) is a debug line: the device's
      // client logs when it goes down and comes back, not every retry.
      const level = result.status === 'failed' && result.retryable ? 'debug' : 'info';
      log[level](
        {
          status: result.status,
          ackCode: result.ackCode,
          error: result.error,
          retryable: result.retryable,
          durationMs: Date.now() - startedAt,
        },
        'push done',
      );
      this.report(result);
    });
    this.inFlight.add(task);
    void task.finally(() => this.inFlight.delete(task));
  }

  /** Keeps the result until the cloud acknowledges it, and sends it now if connected. */
  private report(result: ResultMessage): void {
    this.stats.results++;
    const evicted = this.outbox.add(result);
    if (evicted) this.logger.warn({ pushId: evicted }, 'outbox full; dropped the oldest unacknowledged result');
    this.sendResult(result);
  }

  private sendResult(result: ResultMessage): void {
    if (!this.send(JSON.stringify(result), result.pushId)) return;
    if (!this.outbox.has(result.pushId)) return;
    this.outbox.markSent(result.pushId, Date.now(), (sends) => equalJitterDelay(sends, this.resend));
    this.scheduleResend();
  }

  /** true when it went out on an open connection. */
  private send(text: string, pushId?: string): boolean {
    try {
      return this.connection.send(text);
    } catch (err) {
      if (!(err instanceof MessageTooLargeError)) throw err;
      // fit() keeps results under the limit, so this is a bug guard, not a normal path.
      this.logger.error({ pushId, bytes: err.bytes }, 'message too large to send');
      if (pushId) this.outbox.ack(pushId);
      return false;
    }
  }
}

function readPushId(text: string): string | undefined {
  try {
    const obj = JSON.parse(text) as Record<string, unknown>;
    const id = obj?.pushId;
    return obj?.type === 'push' && typeof id === 'string' && id.length > 0 && id.length <= MAX_PUSH_ID_LENGTH ? id : undefined;
  } catch {
    return undefined;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
