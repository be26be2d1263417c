/**
 * A small cloud for relay tests: a real `ws` server on a loopback port that speaks the
 * relay<->cloud protocol. It checks the agent headers on the upgrade, validates what the relay
 * sends with the shared validator, and answers hello/heartbeat/result the way the cloud does.
 * Switches let a test make it silent (no heartbeatAck) or withhold resultAcks. Inbound messages
 * are stored once per inboundId and per (channel, controlId), like the cloud's dedupe, and
 * answered with inboundAck (and, for ack=app, the appAck a test scripts).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import {
  AGENT_ID_HEADER,
  AGENT_SECRET_HEADER,
  BASE_MESSAGE_VERSION,
  INBOUND_MESSAGE_VERSION,
  type InboundMessage,
  type PushMessage,
  type RelayMessage,
} from '../../protocol/messages';
import { parseRelayMessage } from '../../protocol/validate';

export interface FakeCloudOptions {
  port?: number;
  agentId?: string;
  secret?: string;
}

export interface Upgrade {
  url: string;
  headers: IncomingHttpHeaders;
}

export class FakeCloud {
  readonly upgrades: Upgrade[] = [];
  /** Every valid message received, across connections, in order. */
  readonly received: RelayMessage[] = [];
  readonly invalid: string[] = [];
  /** Reply to heartbeats (set false to play a dead cloud). */
  answerHeartbeats = true;
  /** Acknowledge results (set false to keep them in the relay's outbox). */
  ackResults = true;
  /**
   * Answer a result with this raw frame instead of a resultAck (e.g. API Gateway's own
   * `{"message":"Internal server error",...}`, or a cloud error); undefined: answer as usual.
   */
  resultReply: ((result: Extract<RelayMessage, { action: 'result' }>, nth: number) => string | undefined) | undefined;
  /** Answer `inbound` with inboundAck (set false to play a cloud that never stores). */
  ackInbound = true;
  /**
   * Answer an inbound message with this raw frame instead (e.g. an `error` with its inboundId);
   * `nth` counts this inboundId's arrivals from 1. undefined: answer as usual.
   */
  inboundReply: ((msg: InboundMessage, nth: number) => string | undefined) | undefined;
  /** For ack=app messages, after the inboundAck: the application's answer; undefined sends no appAck. */
  appReply: ((msg: InboundMessage) => { response?: string; error?: string } | undefined) | undefined;
  /** Inbound messages stored, once each (deduplicated by inboundId and by channel + controlId). */
  readonly stored: InboundMessage[] = [];
  private readonly storedIds = new Map<string, string>();
  private readonly arrivals = new Map<string, number>();
  connections = 0;
  current: WebSocket | undefined;
  private waiters: Array<() => void> = [];

  private constructor(
    readonly server: WebSocketServer,
    readonly port: number,
  ) {}

  static start(opts: FakeCloudOptions = {}): Promise<FakeCloud> {
    const agentId = opts.agentId ?? 'agent-1';
    const secret = opts.secret ?? 's3cret';
    return new Promise((resolve, reject) => {
      const server = new WebSocketServer({
        host: '127.0.0.1',
        port: opts.port ?? 0,
        verifyClient: (info: { req: { url?: string; headers: IncomingHttpHeaders } }, done: (ok: boolean, code?: number) => void) => {
          cloud.upgrades.push({ url: info.req.url ?? '', headers: info.req.headers });
          const ok = info.req.headers[AGENT_ID_HEADER] === agentId && info.req.headers[AGENT_SECRET_HEADER] === secret;
          done(ok, ok ? undefined : 401);
          cloud.notify();
        },
      });
      const cloud: FakeCloud = new FakeCloud(server, 0);
      server.once('error', reject);
      server.once('listening', () => {
        (cloud as { port: number }).port = (server.address() as AddressInfo).port;
        resolve(cloud);
      });
      server.on('connection', (ws) => {
        cloud.connections++;
        cloud.current = ws;
        ws.on('message', (data) => cloud.onMessage(ws, data.toString()));
        ws.on('close', () => {
          if (cloud.current === ws) cloud.current = undefined;
          cloud.notify();
        });
        cloud.notify();
      });
    });
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/ws`;
  }

  results(pushId?: string): Extract<RelayMessage, { action: 'result' }>[] {
    return this.received.filter(
      (m): m is Extract<RelayMessage, { action: 'result' }> => m.action === 'result' && (pushId === undefined || m.pushId === pushId),
    );
  }

  /** Every inbound message received, resends included. */
  inbound(): InboundMessage[] {
    return this.received.filter((m): m is InboundMessage => m.action === 'inbound');
  }

  count(action: RelayMessage['action']): number {
    return this.received.filter((m) => m.action === action).length;
  }

  sendRaw(text: string): void {
    if (!this.current) throw new Error('no relay connected');
    this.current.send(text);
  }

  push(fields: Partial<PushMessage> & { pushId: string; body: string }): void {
    const msg: PushMessage = {
      type: 'push',
      v: BASE_MESSAGE_VERSION,
      destination: 'lab',
      contentType: 'x-application/hl7-v2+er7',
      returnAck: 'first',
      expiresAt: Date.now() + 60_000,
      ...fields,
    };
    this.sendRaw(JSON.stringify(msg));
  }

  /** Resolves when `check` holds, re-checked on every event; rejects after `timeoutMs`. */
  async waitFor(check: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 50));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Drops the relay's connection without a close handshake, like a network failure. */
  dropConnection(): void {
    this.current?.terminate();
  }

  async close(): Promise<void> {
    for (const ws of this.server.clients) ws.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onMessage(ws: WebSocket, text: string): void {
    let msg: RelayMessage;
    try {
      msg = parseRelayMessage(text);
    } catch {
      this.invalid.push(text);
      this.notify();
      return;
    }
    this.received.push(msg);
    const reply = (m: object): void => ws.send(JSON.stringify({ v: BASE_MESSAGE_VERSION, ...m }));
    if (msg.action === 'hello') reply({ type: 'helloAck' });
    else if (msg.action === 'heartbeat' && this.answerHeartbeats) reply({ type: 'heartbeatAck' });
    else if (msg.action === 'result' && this.resultReply) {
      const raw = this.resultReply(msg, this.results(msg.pushId).length);
      if (raw !== undefined) ws.send(raw);
      else if (this.ackResults) reply({ type: 'resultAck', pushId: msg.pushId });
    } else if (msg.action === 'result' && this.ackResults) reply({ type: 'resultAck', pushId: msg.pushId });
    else if (msg.action === 'inbound') this.onInbound(ws, msg);
    this.notify();
  }

  private onInbound(ws: WebSocket, msg: InboundMessage): void {
    // A count per id, not a scan of everything received: a bench drains 100,000 through here.
    const nth = (this.arrivals.get(msg.inboundId) ?? 0) + 1;
    this.arrivals.set(msg.inboundId, nth);
    const raw = this.inboundReply?.(msg, nth);
    if (raw !== undefined) {
      ws.send(raw);
      return;
    }
    if (!this.ackInbound) return;
    const key = `${msg.channel}\u0000${msg.controlId ?? msg.inboundId}`;
    const earlier = this.storedIds.get(msg.inboundId) ?? this.storedIds.get(key);
    const messageId = earlier ?? `msg-${this.stored.length + 1}`;
    if (!earlier) {
      this.stored.push(msg);
      this.storedIds.set(msg.inboundId, messageId);
      this.storedIds.set(key, messageId);
    }
    const v2 = (m: object): void => ws.send(JSON.stringify({ v: INBOUND_MESSAGE_VERSION, ...m }));
    v2({ type: 'inboundAck', inboundId: msg.inboundId, messageId, duplicate: earlier !== undefined });
    const app = msg.ack === 'app' ? this.appReply?.(msg) : undefined;
    if (app) v2({ type: 'appAck', inboundId: msg.inboundId, messageId, ...app });
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
