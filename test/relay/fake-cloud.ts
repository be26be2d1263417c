/**
 * A small cloud for relay tests: a real `ws` server on a loopback port that speaks the
 * relay<->cloud protocol. It checks the agent headers on the upgrade, validates what the relay
 * sends with the shared validator, and answers hello/heartbeat/result the way the cloud does.
 * Switches let a test make it silent (no heartbeatAck) or withhold resultAcks.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { AGENT_ID_HEADER, AGENT_SECRET_HEADER, BASE_MESSAGE_VERSION, type PushMessage, type RelayMessage } from '../../protocol/messages';
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
    this.notify();
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
