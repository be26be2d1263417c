/**
 * Inbound with nothing scripted: real `edgepush hub` and `edgepush relay` processes, devices we
 * did not write (python-hl7's mllp_send, @medplum/hl7's Hl7Client) and a real webhook server.
 * - both peers get AA; the webhook receives each message once, in order, signed;
 * - with the hub down, 200 messages to a fast channel, the relay killed (-9) half way and
 *   restarted, then the hub started: all 200 reach the webhook in order, none twice;
 * - ack=cloud with the hub down: AE within the channel's timeout, and nothing stored later;
 * - an ASTM analyser's result (edgepush astm send --as-analyser) to a listening channel reaches
 *   the webhook as application/astm, with its records parsed;
 * - a 5 MB ORU with a base64 PDF travels device -> webhook intact (chunked over the WebSocket).
 * CI installs python3-hl7; without mllp_send this suite fails, it does not skip.
 */
import { spawnSync } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Hl7Message } from '@medplum/core';
import { Hl7Client } from '@medplum/hl7';
import { http, run, runToEnd, startHub, stopAll, tempDir, token, type Proc } from './harness';
import { canConnect } from '../inbound/relay-process';
import { connectSender, msa, oru } from '../inbound/sender';
import { freePort } from '../support/free-port';
import { waitFor } from '../support/wait';

interface Received {
  headers: IncomingHttpHeaders;
  raw: string;
  body: Record<string, any>;
}

class Webhook {
  readonly received: Received[] = [];
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        this.received.push({ headers: req.headers, raw, body: JSON.parse(raw) as Record<string, any> });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}/hook`;
  }

  controlIds(channel: string): string[] {
    return this.received.filter((r) => r.body.channel === channel).map((r) => r.body.controlId as string);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function verify(r: Received, secret: string): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(r.headers['edgepush-signature']));
  return !!m && createHmac('sha256', secret).update(`${m[1]}.${r.raw}`).digest('hex') === m[2];
}

/** A hub on a fixed port (so a relay finds it again after a restart), an agent and its webhook. */
async function setUp(dataDir: string, port: number, webhook: Webhook, agentId: string) {
  const hub = await startHub(dataDir, port);
  const tok = await token(dataDir);
  const created = await http(`${hub.url}/agents`, { token: tok, body: { agentId } });
  expect(created.status).toBe(201);
  const hook = await http(`${hub.url}/agents/${agentId}/webhook`, { method: 'PUT', token: tok, body: { url: webhook.url } });
  expect(hook.status).toBe(200);
  return { hub, tok, secret: created.body.secret as string, hookSecret: hook.body.secret as string };
}

function startRelay(wsUrl: string, agentId: string, secret: string, dataDir: string, channels: string[], devices: string[] = []): Proc {
  const args = ['relay', '--url', wsUrl, '--agent', agentId, '--data', dataDir, '--log-level', 'warn'];
  for (const c of channels) args.push('--channel', c);
  for (const d of devices) args.push('--device', d);
  return run(args, { EDGEPUSH_AGENT_SECRET: secret });
}

async function listening(port: number): Promise<void> {
  await waitFor(() => canConnect(port), 15_000, `the relay's channel on port ${port}`);
}

describe('e2e inbound: hub, relay, devices and webhook, all real', () => {
  const webhook = new Webhook();
  const dirs: { remove(): void }[] = [];
  const dir = () => {
    const d = tempDir();
    dirs.push(d);
    return d.path;
  };
  beforeAll(() => webhook.start());
  afterAll(async () => {
    await stopAll();
    await webhook.close();
    dirs.forEach((d) => d.remove());
  });

  it('mllp_send and Hl7Client get AA; the webhook gets each message once, in order, signed; pull agrees', async () => {
    const hubDir = dir();
    const { hub, tok, secret, hookSecret } = await setUp(hubDir, await freePort(), webhook, 'peers');
    const lab = await freePort();
    startRelay(hub.wsUrl, 'peers', secret, dir(), [`lab=mllp://127.0.0.1:${lab}`]);
    await listening(lab);

    const file = join(hubDir, 'messages.mllp');
    writeFileSync(file, ['PY-1', 'PY-2', 'PY-3'].map((id) => `\x0b${oru(id)}\x1c\r`).join(''));
    const py = spawnSync('mllp_send', ['--port', String(lab), '--file', file, '127.0.0.1'], { encoding: 'utf8', timeout: 20_000 });
    expect({ status: py.status, stderr: py.stderr }).toStrictEqual({ status: 0, stderr: '' });
    expect([...py.stdout.matchAll(/MSA\|(\w+)\|([\w-]+)/g)].map((m) => `${m[1]} ${m[2]}`)).toStrictEqual(['AA PY-1', 'AA PY-2', 'AA PY-3']);

    const client = new Hl7Client({ host: '127.0.0.1', port: lab });
    try {
      for (const id of ['MP-1', 'MP-2', 'MP-3']) {
        const ack = await client.sendAndWait(Hl7Message.parse(oru(id)));
        expect([ack.getSegment('MSA')?.getField(1)?.toString(), ack.getSegment('MSA')?.getField(2)?.toString()]).toStrictEqual(['AA', id]);
      }
    } finally {
      client.close();
    }

    await waitFor(() => webhook.controlIds('lab').length >= 6, 20_000, 'six webhook deliveries');
    const mine = webhook.received.filter((r) => r.body.agentId === 'peers');
    expect(mine.map((r) => r.body.controlId)).toStrictEqual(['PY-1', 'PY-2', 'PY-3', 'MP-1', 'MP-2', 'MP-3']);
    expect(mine.every((r) => verify(r, hookSecret))).toBe(true);
    expect(mine[0].body).toMatchObject({
      channel: 'lab',
      contentType: 'x-application/hl7-v2+er7',
      messageType: 'ORU^R01',
      body: oru('PY-1'),
    });

    const pulled = await http(`${hub.url}/agents/peers/messages?channel=lab&limit=10`, { token: tok });
    expect(pulled.status).toBe(200);
    expect((pulled.body.messages as { controlId: string }[]).map((m) => m.controlId)).toStrictEqual([
      'PY-1',
      'PY-2',
      'PY-3',
      'MP-1',
      'MP-2',
      'MP-3',
    ]);
  }, 60_000);

  it('a relay killed half way through 200 spooled messages, with the hub down: all arrive, in order, once', async () => {
    const hubDir = dir();
    const port = await freePort();
    const first = await setUp(hubDir, port, webhook, 'crashy');
    const wsUrl = first.hub.wsUrl;
    first.hub.child.kill('SIGKILL');
    await first.hub.exited;

    const relayDir = dir();
    const lab = await freePort();
    const ids = Array.from({ length: 200 }, (_, i) => `K-${String(i).padStart(3, '0')}`);
    let relay = startRelay(wsUrl, 'crashy', first.secret, relayDir, [`lab=mllp://127.0.0.1:${lab}`]);
    for (const half of [ids.slice(0, 100), ids.slice(100)]) {
      await listening(lab);
      const device = await connectSender(lab);
      for (const id of half) expect(msa(await device.exchange(oru(id)))).toMatchObject({ code: 'AA', controlId: id });
      device.close();
      if (half[0] === ids[0]) {
        relay.child.kill('SIGKILL');
        await relay.exited;
        relay = startRelay(wsUrl, 'crashy', first.secret, relayDir, [`lab=mllp://127.0.0.1:${lab}`]);
      }
    }

    const hub = await startHub(hubDir, port);
    await waitFor(() => webhook.received.filter((r) => r.body.agentId === 'crashy').length >= 200, 60_000, '200 deliveries');
    const delivered = webhook.received.filter((r) => r.body.agentId === 'crashy').map((r) => r.body.controlId as string);
    expect(delivered).toStrictEqual(ids);
    const all = await http(`${hub.url}/agents/crashy/messages?limit=500`, { token: first.tok });
    expect((all.body.messages as unknown[]).length).toBe(200);
  }, 150_000);

  it('ack=cloud with the hub down: the device gets AE within the timeout, and nothing is stored later', async () => {
    const hubDir = dir();
    const port = await freePort();
    const first = await setUp(hubDir, port, webhook, 'cloudy');
    const wsUrl = first.hub.wsUrl;
    first.hub.child.kill('SIGKILL');
    await first.hub.exited;

    const adt = await freePort();
    startRelay(wsUrl, 'cloudy', first.secret, dir(), [`adt=mllp://127.0.0.1:${adt}?ack=cloud&timeout=1s`]);
    await listening(adt);
    const device = await connectSender(adt);
    const started = Date.now();
    expect(msa(await device.exchange(oru('CL-1'), 10_000))).toMatchObject({ code: 'AE', controlId: 'CL-1' });
    expect(Date.now() - started).toBeLessThan(5_000);
    device.close();

    const hub = await startHub(hubDir, port);
    await waitFor(
      async () => (await http(`${hub.url}/agents/cloudy`, { token: first.tok })).body.status === 'connected',
      20_000,
      'the relay back',
    );
    const stored = await http(`${hub.url}/agents/cloudy/messages?limit=10&wait=2`, { token: first.tok });
    expect(stored.body.messages).toStrictEqual([]);
  }, 60_000);

  it("an ASTM analyser's result on a listening channel reaches the webhook with its records", async () => {
    const { hub, secret } = await setUp(dir(), await freePort(), webhook, 'chem');
    const port = await freePort();
    startRelay(hub.wsUrl, 'chem', secret, dir(), [`analyser=astm://127.0.0.1:${port}?listen`]);
    await listening(port);
    const records = ['H|\\^&|||Analyser^1||||||P|LIS2-A2', 'P|1||MRN7', 'O|1|S-42||^^^GLU|R', 'R|1|^^^GLU|5.1|mmol/L||N||F', 'L|1|N'];
    const file = join(dir(), 'results.astm');
    writeFileSync(file, records.join('\r\n') + '\r\n');
    const sent = await runToEnd(['astm', 'send', '127.0.0.1', String(port), '--file', file, '--as-analyser']);
    expect({ code: sent.code, stderr: sent.stderr }).toStrictEqual({ code: 0, stderr: '' });

    await waitFor(() => webhook.received.some((r) => r.body.agentId === 'chem'), 20_000, 'the ASTM result at the webhook');
    const got = webhook.received.find((r) => r.body.agentId === 'chem')!.body;
    expect(got).toMatchObject({ channel: 'analyser', contentType: 'application/astm', body: records.map((r) => r + '\r').join('') });
    expect(JSON.stringify(got.parsed)).toContain('5.1');
  }, 60_000);

  it('a 5 MB ORU with a base64 PDF goes device -> webhook intact', async () => {
    const { hub, secret } = await setUp(dir(), await freePort(), webhook, 'big');
    const lab = await freePort();
    startRelay(hub.wsUrl, 'big', secret, dir(), [`lab=mllp://127.0.0.1:${lab}`]);
    await listening(lab);
    const pdf = Buffer.alloc(3_900_000, 7).toString('base64'); // 5.2 MB of base64
    const message = `${oru('BIG-1')}\rOBX|2|ED|PDF^Report||^application^pdf^Base64^${pdf}`;
    const device = await connectSender(lab);
    expect(msa(await device.exchange(message, 30_000))).toMatchObject({ code: 'AA', controlId: 'BIG-1' });
    device.close();
    await waitFor(() => webhook.received.some((r) => r.body.agentId === 'big'), 60_000, 'the big message at the webhook');
    const got = webhook.received.find((r) => r.body.agentId === 'big')!.body;
    const digest = (s: string) => createHash('sha256').update(s).digest('hex');
    expect(digest(got.body as string)).toBe(digest(message));
  }, 120_000);
});
