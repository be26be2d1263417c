/**
 * Webhook delivery over real HTTP: the fetch sender against a server in the test, and a 5 MB
 * message (a lab result with a base64 PDF) received by the core and delivered intact, signed.
 * (Carrying 5 MB over the relay's WebSocket is the chunking layer's part; this starts at the
 * core's receive, which chunk reassembly hands whole messages to.)
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type RequestListener, type Server } from 'node:http';
import { FetchWebhookSender, MAX_ANSWER_BYTES } from '../../lambdas/adapters/fetch-webhook-sender';
import { createCore } from '../../lambdas/core/core';
import { DEFAULT_CONFIG } from '../../lambdas/core/core-config';
import { receiveInbound } from '../../lambdas/core/inbound-receive';
import type { InboundAckMessage } from '../../protocol/messages';
import { memoryPorts } from '../support/memory-ports';
import { newAgent } from '../support/records';

const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

async function serve(handler: RequestListener): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

describe('FetchWebhookSender', () => {
  const sender = new FetchWebhookSender();

  it('reads at most 64 KB of an answer, with its status and content type', async () => {
    const url = await serve((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('x'.repeat(1024 * 1024)));
    const answer = await sender.post(url, {}, '{}', 5_000);
    expect(answer.status).toBe(200);
    expect(answer.contentType).toBe('text/plain');
    expect(answer.body.length).toBe(MAX_ANSWER_BYTES);
  });

  it('does not follow a redirect: a 3xx is the answer', async () => {
    let followed = false;
    const target = await serve((_req, res) => {
      followed = true;
      res.writeHead(200).end();
    });
    const url = await serve((_req, res) => res.writeHead(307, { location: target }).end());
    expect((await sender.post(url, {}, '{}', 5_000)).status).toBe(307);
    expect(followed).toBe(false);
  });

  it('gives up at the timeout and says so', async () => {
    const url = await serve(() => undefined); // never answers
    await expect(sender.post(url, {}, '{}', 200)).rejects.toThrow('timed out after 200 ms');
  });

  it('names a refused connection', async () => {
    const url = await serve((_req, res) => res.end());
    const closed = servers.pop()!;
    await new Promise((r) => closed.close(r));
    await expect(sender.post(url, {}, '{}', 2_000)).rejects.toThrow('ECONNREFUSED');
  });
});

it('a 5 MB ORU is stored and delivered intact, with a valid signature', async () => {
  const got: { headers: IncomingHttpHeaders; raw: string }[] = [];
  const url = await serve((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      got.push({ headers: req.headers, raw: Buffer.concat(parts).toString('utf8') });
      res.writeHead(204).end();
    });
  });
  const memory = memoryPorts();
  const ports = { ...memory, inbound: { ...memory.inbound, sender: new FetchWebhookSender() } };
  const core = createCore(ports, { allowLocalHttpWebhooks: true });
  await ports.agents.create(newAgent({ agentId: 'lab', channels: [{ name: 'oru', protocol: 'mllp', ack: 'fast' }] }));
  const { setWebhook } = await import('../../lambdas/core/webhook-service');
  const { secret } = await setWebhook(ports, core.config, 'lab', `${url}/hook`);
  const pdf = Buffer.alloc(3_800_000, 7).toString('base64'); // ~5 MB of base64
  const body = `MSH|^~\\&|LAB|DEV|EP|HUB|20240101000000||ORU^R01|BIG1|P|2.5\rPID|1||123\rOBX|1|ED|PDF||^application^pdf^Base64^${pdf}`;
  expect(Buffer.byteLength(body)).toBeGreaterThan(5_000_000);
  const [ack] = (await receiveInbound(ports, { ...DEFAULT_CONFIG, ...core.config }, 'lab', {
    action: 'inbound',
    v: 2,
    inboundId: 'big',
    channel: 'oru',
    contentType: 'x-application/hl7-v2+er7',
    body,
    receivedAt: ports.clock.now(),
    ack: 'fast',
    controlId: 'BIG1',
  })) as InboundAckMessage[];
  const item = memory.inbound.queue.receive()!;
  expect(item.messageId).toBe(ack.messageId);
  expect(await core.deliverInbound(item)).toEqual({ outcome: 'done' });
  expect(got).toHaveLength(1);
  const delivered = JSON.parse(got[0].raw) as { body: string; parsed: { segments: unknown[][] } };
  expect(delivered.body === body).toBe(true);
  expect(delivered.parsed.segments).toHaveLength(3);
  const [, t, v1] = /^t=(\d+),v1=([0-9a-f]+)$/.exec(String(got[0].headers['edgepush-signature']))!;
  expect(createHmac('sha256', secret).update(`${t}.${got[0].raw}`).digest('hex')).toBe(v1);
});
