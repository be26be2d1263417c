/**
 * Inbound end to end, cloud side: a real `edgepush hub` process, a relay scripted on a real
 * WebSocket speaking protocol v2, and the application's webhook as a real HTTP server here.
 * (The relay's own side, MLLP channels and ACK modes, is tested with the relay.)
 */
import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AppAckMessage, CloudMessage, InboundAckMessage } from '../../protocol/messages';
import { ScriptedRelay } from '../core/scripted-relay';
import { waitFor } from '../support/wait';
import { http, run, stopAll, tempDir, token, type HubProc } from './harness';

const CHANNELS = [
  { name: 'lab-in', protocol: 'mllp', ack: 'cloud' },
  { name: 'app-in', protocol: 'mllp', ack: 'app' },
  { name: 'adt-in', protocol: 'mllp', ack: 'fast' },
];

interface Received {
  headers: IncomingHttpHeaders;
  raw: string;
  body: Record<string, any>;
}

/** The application: records each POST; answers 503 while down; answers app-in messages with an HL7 AE. */
class Webhook {
  readonly received: Received[] = [];
  down = false;
  private server!: Server;
  url = '';

  async start(port = 0): Promise<void> {
    this.server = createServer((req, res) => {
      let raw = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => (raw += d));
      req.on('end', () => {
        const body = JSON.parse(raw) as Record<string, any>;
        if (this.down) return void res.writeHead(503).end('down');
        this.received.push({ headers: req.headers, raw, body });
        if (body.channel === 'app-in') {
          const ack = `MSH|^~\\&|APP|HOSP|LAB|DEV|20240101000000||ACK^R01|A${body.controlId}|P|2.5\rMSA|AE|${body.controlId}|bad result`;
          return void res.writeHead(200, { 'content-type': 'x-application/hl7-v2+er7' }).end(ack);
        }
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}/hook`;
  }

  delivered(channel: string): string[] {
    return this.received.filter((r) => r.body.channel === channel).map((r) => r.body.messageId as string);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

async function startHub(dataDir: string): Promise<HubProc> {
  // Backoff capped at 200 ms so the down-then-up case takes well under a second of retries.
  const p = run(['hub', '--port', '0', '--data', dataDir, '--log-level', 'warn', '--webhook-max-backoff', '200ms']);
  const [, url] = await p.waitFor(/Push API:\s+(http:\/\/\S+?)\/\s/);
  const [, wsUrl] = await p.waitFor(/Relay WebSocket:\s+(ws:\/\/\S+)/);
  return Object.assign(p, { url, wsUrl });
}

let seq = 0;
function inbound(channel: string, ack: string, controlId = `C${++seq}-${randomUUID().slice(0, 6)}`, inboundId = randomUUID()) {
  return {
    action: 'inbound',
    v: 2,
    inboundId,
    channel,
    contentType: 'x-application/hl7-v2+er7',
    body: `MSH|^~\\&|LAB|DEV|EP|HUB|20240101000000||ORU^R01|${controlId}|P|2.5\rPID|1||123\rOBX|1|NM|GLU||${seq}`,
    receivedAt: Date.now(),
    ack,
    controlId,
    messageType: 'ORU^R01',
  };
}

async function connect(hub: HubProc, agentId: string, secret: string): Promise<ScriptedRelay> {
  const relay = await ScriptedRelay.connect(hub.wsUrl, agentId, secret, null);
  relay.send({ action: 'hello', v: 1, version: 'scripted', devices: [], channels: CHANNELS });
  await relay.next((m) => m.type === 'helloAck');
  return relay;
}

/** Sends one inbound message and waits for the cloud's answer to it. */
async function send(relay: ScriptedRelay, msg: ReturnType<typeof inbound>): Promise<CloudMessage> {
  relay.send(msg);
  return relay.next((m) => (m.type === 'inboundAck' || m.type === 'error') && m.inboundId === msg.inboundId);
}

function checkSignature(r: Received, secret: string): void {
  const header = String(r.headers['edgepush-signature']);
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  expect(match).not.toBeNull();
  const [, t, v1] = match!;
  expect(Math.abs(Number(t) - Date.now() / 1000)).toBeLessThan(60);
  expect(createHmac('sha256', secret).update(`${t}.${r.raw}`).digest('hex')).toBe(v1);
  expect(r.headers['edgepush-message-id']).toBe(r.body.messageId);
}

describe('inbound through a real hub', () => {
  const dir = tempDir();
  const webhook = new Webhook();
  let hub: HubProc;
  let adminToken: string;
  let receiveToken: string;
  let agentId: string;
  let agentSecret: string;
  let hookSecret: string;
  let relay: ScriptedRelay;
  /** messageIds of lab-in in the order the relay sent them (each once). */
  const labIn: string[] = [];

  beforeAll(async () => {
    hub = await startHub(dir.path);
    adminToken = await token(dir.path, ['edgepush/admin']);
    receiveToken = await token(dir.path, ['edgepush/receive']);
    agentId = `site-${randomUUID().slice(0, 6)}`;
    const created = await http(`${hub.url}/agents`, { token: adminToken, body: { agentId } });
    agentSecret = created.body.secret as string;
    await webhook.start();
    const set = await http(`${hub.url}/agents/${agentId}/webhook`, { method: 'PUT', token: adminToken, body: { url: webhook.url } });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({ url: webhook.url, secret: expect.stringMatching(/^whsec_/) });
    hookSecret = set.body.secret as string;
    relay = await connect(hub, agentId, agentSecret);
  }, 30_000);

  afterAll(async () => {
    relay?.close();
    await stopAll();
    await webhook.close();
    dir.remove();
  });

  it('shows the webhook URL but never its secret again', async () => {
    const shown = await http(`${hub.url}/agents/${agentId}/webhook`, { token: adminToken });
    expect(shown.status).toBe(200);
    expect(shown.body.url).toBe(webhook.url);
    expect(shown.text).not.toContain(hookSecret);
  });

  it('stores before acknowledging, then delivers each message once, in order, signed', async () => {
    for (let i = 0; i < 5; i++) {
      const ack = (await send(relay, inbound('lab-in', 'cloud'))) as InboundAckMessage;
      expect(ack).toMatchObject({ type: 'inboundAck', v: 2, duplicate: false });
      // Stored already: readable at once, whatever the webhook has done so far.
      expect((await http(`${hub.url}/messages/${ack.messageId}`, { token: receiveToken })).status).toBe(200);
      labIn.push(ack.messageId);
    }
    await waitFor(() => webhook.delivered('lab-in').length >= 5, 10_000, 'five deliveries');
    expect(webhook.delivered('lab-in')).toStrictEqual(labIn);
    for (const r of webhook.received) checkSignature(r, hookSecret);
    const first = webhook.received[0].body;
    expect(first).toMatchObject({ agentId, channel: 'lab-in', contentType: 'x-application/hl7-v2+er7', messageType: 'ORU^R01' });
    expect(first.parsed.format).toBe('hl7v2');
    expect(first.parsed.segments[0][0]).toBe('MSH');
    const view = await http(`${hub.url}/messages/${labIn[0]}`, { token: receiveToken });
    expect(view.body.delivery).toMatchObject({ status: 'delivered', attempts: 1 });
  });

  it('stores a resent or repeated message once: same messageId, duplicate true', async () => {
    const original = inbound('lab-in', 'cloud');
    const first = (await send(relay, original)) as InboundAckMessage;
    labIn.push(first.messageId);
    const resent = (await send(relay, original)) as InboundAckMessage; // the relay's resend: same inboundId
    const repeated = (await send(relay, { ...original, inboundId: randomUUID() })) as InboundAckMessage; // the device's: same MSH-10
    expect(resent).toMatchObject({ duplicate: true, messageId: first.messageId });
    expect(repeated).toMatchObject({ duplicate: true, messageId: first.messageId });
    const page = await http(`${hub.url}/agents/${agentId}/messages?channel=lab-in&limit=500`, { token: receiveToken });
    expect(page.body.messages.map((m: { messageId: string }) => m.messageId)).toStrictEqual(labIn);
  });

  it('refuses a channel the relay did not announce, storing nothing', async () => {
    const msg = inbound('not-mine', 'cloud');
    const answer = await send(relay, msg);
    expect(answer).toMatchObject({ type: 'error', code: 'UNKNOWN_CHANNEL', inboundId: msg.inboundId });
    const page = await http(`${hub.url}/agents/${agentId}/messages?channel=not-mine`, { token: receiveToken });
    expect(page.body.messages).toEqual([]);
  });

  it('holds the channel while the webhook is down and delivers the backlog in order once it is up', async () => {
    webhook.down = true;
    const backlog: string[] = [];
    for (let i = 0; i < 4; i++) backlog.push(((await send(relay, inbound('lab-in', 'cloud'))) as InboundAckMessage).messageId);
    labIn.push(...backlog);
    await waitFor(
      async () => (await http(`${hub.url}/messages/${backlog[0]}`, { token: receiveToken })).body.delivery.attempts >= 2,
      10_000,
      'failed attempts',
    );
    const failing = await http(`${hub.url}/messages/${backlog[0]}`, { token: receiveToken });
    expect(failing.body.delivery).toMatchObject({ status: 'pending', lastError: 'HTTP 503' });
    // Order: the channel's next message was not tried while its head was failing.
    expect((await http(`${hub.url}/messages/${backlog[1]}`, { token: receiveToken })).body.delivery.attempts).toBe(0);
    webhook.down = false;
    await waitFor(() => webhook.delivered('lab-in').length >= labIn.length, 10_000, 'backlog delivered');
    expect(webhook.delivered('lab-in')).toStrictEqual(labIn);
  });

  it("ack=app: the webhook's HL7 answer reaches the relay as appAck; a duplicate gets it again at once", async () => {
    const msg = inbound('app-in', 'app');
    const ack = (await send(relay, msg)) as InboundAckMessage;
    const appAck = (await relay.next((m) => m.type === 'appAck' && m.inboundId === msg.inboundId, 10_000)) as AppAckMessage;
    expect(appAck).toMatchObject({ v: 2, messageId: ack.messageId });
    expect(appAck.response).toMatch(new RegExp(`^MSH\\|.*\\rMSA\\|AE\\|${msg.controlId}\\|bad result$`));
    const again = { ...msg, inboundId: randomUUID() };
    const dup = (await send(relay, again)) as InboundAckMessage;
    expect(dup).toMatchObject({ duplicate: true, messageId: ack.messageId });
    const replayed = (await relay.next((m) => m.type === 'appAck' && m.inboundId === again.inboundId, 2_000)) as AppAckMessage;
    expect(replayed.response).toBe(appAck.response);
    expect(webhook.delivered('app-in')).toStrictEqual([ack.messageId]);
  });

  it('pull: pages by cursor with no gaps and no repeats, across a hub restart, and pending deliveries resume', async () => {
    const pulled: string[] = [];
    let after: string | undefined;
    const page = async (): Promise<number> => {
      const res = await http(`${hub.url}/agents/${agentId}/messages?channel=lab-in&limit=3${after ? `&after=${after}` : ''}`, {
        token: receiveToken,
      });
      expect(res.status).toBe(200);
      pulled.push(...res.body.messages.map((m: { messageId: string }) => m.messageId));
      after = res.body.next as string | undefined;
      return res.body.messages.length as number;
    };
    await page();
    await page();
    // Two more while the webhook is down, then the hub dies (kill -9) with them pending.
    webhook.down = true;
    for (let i = 0; i < 2; i++) labIn.push(((await send(relay, inbound('lab-in', 'cloud'))) as InboundAckMessage).messageId);
    hub.child.kill('SIGKILL');
    await hub.exited;
    webhook.down = false;
    hub = await startHub(dir.path);
    relay = await connect(hub, agentId, agentSecret);
    labIn.push(((await send(relay, inbound('lab-in', 'cloud'))) as InboundAckMessage).messageId);
    while ((await page()) > 0);
    expect(pulled).toStrictEqual(labIn);
    await waitFor(() => webhook.delivered('lab-in').length >= labIn.length, 10_000, 'pending deliveries after restart');
    expect(webhook.delivered('lab-in')).toStrictEqual(labIn);
  }, 30_000);

  it('long poll: a waiting pull answers as soon as a message is stored', async () => {
    const last = await http(`${hub.url}/agents/${agentId}/messages?channel=lab-in&limit=500`, { token: receiveToken });
    const waiting = http(`${hub.url}/agents/${agentId}/messages?channel=lab-in&wait=20&after=${last.body.next}`, { token: receiveToken });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const sent = (await send(relay, inbound('lab-in', 'cloud'))) as InboundAckMessage;
    const started = Date.now();
    const res = await waiting;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(res.body.messages.map((m: { messageId: string }) => m.messageId)).toStrictEqual([sent.messageId]);
  });

  it('refuses bad inputs with a clear code', async () => {
    const put = (url: unknown, agent = agentId) =>
      http(`${hub.url}/agents/${agent}/webhook`, { method: 'PUT', token: adminToken, body: { url } });
    const cases: [Promise<{ status: number; body: Record<string, any> }>, number, string][] = [
      [put('not a url'), 400, 'INVALID_WEBHOOK_URL'],
      [put('http://example.com/hook'), 400, 'INVALID_WEBHOOK_URL'],
      [put('ftp://example.com/hook'), 400, 'INVALID_WEBHOOK_URL'],
      [put(undefined), 400, 'INVALID_WEBHOOK_URL'],
      [put('https://example.com/hook', 'no-such-agent'), 404, 'AGENT_NOT_FOUND'],
      [http(`${hub.url}/agents/no-such-agent/webhook`, { token: adminToken }), 404, 'AGENT_NOT_FOUND'],
      [http(`${hub.url}/agents/no-such-agent/messages`, { token: receiveToken }), 404, 'AGENT_NOT_FOUND'],
      [http(`${hub.url}/agents/${agentId}/messages?after=garbage`, { token: receiveToken }), 400, 'INVALID_QUERY'],
      [http(`${hub.url}/agents/${agentId}/messages?limit=0`, { token: receiveToken }), 400, 'INVALID_QUERY'],
      [http(`${hub.url}/agents/${agentId}/messages?limit=501`, { token: receiveToken }), 400, 'INVALID_QUERY'],
      [http(`${hub.url}/agents/${agentId}/messages?wait=21`, { token: receiveToken }), 400, 'INVALID_QUERY'],
      [http(`${hub.url}/agents/${agentId}/messages?channel=a%20b`, { token: receiveToken }), 400, 'INVALID_QUERY'],
      [http(`${hub.url}/messages/${randomUUID()}`, { token: receiveToken }), 404, 'MESSAGE_NOT_FOUND'],
      [http(`${hub.url}/agents/${agentId}/messages`, { token: adminToken }), 403, 'FORBIDDEN'],
    ];
    for (const [res, status, code] of cases) expect(await res).toMatchObject({ status, body: { code } });
    // Nothing changed: the webhook is still the one set.
    expect((await http(`${hub.url}/agents/${agentId}/webhook`, { token: adminToken })).body.url).toBe(webhook.url);
  });

  it('deletes the webhook; later messages are kept for pull (delivery none)', async () => {
    const del = await http(`${hub.url}/agents/${agentId}/webhook`, { method: 'DELETE', token: adminToken });
    expect(del.status).toBe(204);
    expect((await http(`${hub.url}/agents/${agentId}/webhook`, { token: adminToken })).body.code).toBe('WEBHOOK_NOT_FOUND');
    const ack = (await send(relay, inbound('adt-in', 'fast'))) as InboundAckMessage;
    expect((await http(`${hub.url}/messages/${ack.messageId}`, { token: receiveToken })).body.delivery).toEqual({
      status: 'none',
      attempts: 0,
    });
  });
});
