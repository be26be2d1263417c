/**
 * A relay scripted by hand on a real WebSocket: it records what the cloud sends and lets the
 * test answer (or not). For the cases a real relay is too well-behaved to show.
 */
import WebSocket from 'ws';
import { AGENT_ID_HEADER, AGENT_SECRET_HEADER, type CloudMessage, type PushMessage } from '../../protocol/messages';

export class ScriptedRelay {
  readonly received: CloudMessage[] = [];
  private waiters: { match: (m: CloudMessage) => boolean; resolve: (m: CloudMessage) => void }[] = [];
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as CloudMessage;
      this.received.push(msg);
      this.waiters = this.waiters.filter((w) => (w.match(msg) ? (w.resolve(msg), false) : true));
    });
  }

  /** Connects; sends hello with `devices` unless it is null (a relay that has not said hello yet). */
  static async connect(wsUrl: string, agentId: string, secret: string, devices: string[] | null = ['lab']): Promise<ScriptedRelay> {
    const ws = new WebSocket(wsUrl, { headers: { [AGENT_ID_HEADER]: agentId, [AGENT_SECRET_HEADER]: secret } });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const relay = new ScriptedRelay(ws);
    if (devices) {
      relay.send({ action: 'hello', v: 1, version: 'scripted', devices });
      await relay.next((m) => m.type === 'helloAck');
    }
    return relay;
  }

  send(msg: object): void {
    this.ws.send(JSON.stringify(msg));
  }

  next(match: (m: CloudMessage) => boolean, timeoutMs = 5000): Promise<CloudMessage> {
    const seen = this.received.find(match);
    if (seen) {
      this.received.splice(this.received.indexOf(seen), 1);
      return Promise.resolve(seen);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for a cloud message')), timeoutMs);
      this.waiters.push({
        match,
        resolve: (m) => {
          clearTimeout(timer);
          this.received.splice(this.received.indexOf(m), 1);
          resolve(m);
        },
      });
    });
  }

  nextPush(timeoutMs?: number): Promise<PushMessage> {
    return this.next((m) => m.type === 'push', timeoutMs) as Promise<PushMessage>;
  }

  /** Reports an AA for a push and waits for the cloud's answer to it (resultAck or error). */
  async ack(pushId: string, code = 'AA', response = `MSA|${code}|X`): Promise<CloudMessage> {
    this.send({
      action: 'result',
      v: 1,
      pushId,
      status: code.endsWith('A') ? 'acked' : 'nacked',
      ackCode: code,
      response,
    });
    return this.next((m) => (m.type === 'resultAck' && m.pushId === pushId) || m.type === 'error');
  }

  async kill(): Promise<void> {
    this.ws.terminate();
    await new Promise((r) => setTimeout(r, 50));
  }

  close(): void {
    this.ws.close();
  }
}
