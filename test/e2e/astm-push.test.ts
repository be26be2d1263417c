/**
 * Orders to ASTM analysers through the whole push path: `edgepush hub` and `edgepush relay` as
 * child processes, analysers written byte by byte in the test (test/astm/raw-peer.ts), on TCP.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { RawPeer, type PeerMode } from '../astm/raw-peer';
import { http, run, runToEnd, startHub, stopAll, tempDir, token, type HubProc } from './harness';
import { waitFor } from '../support/wait';

const ORDER = 'H|\\^&|||EdgePush\nP|1|MRN7||||Doe^Jane\nO|1|S-42||^^^GLU\\^^^NA|R\nL|1|N\n';

async function analyser(mode: PeerMode): Promise<{ port: number; peer: () => RawPeer | undefined; server: Server }> {
  let peer: RawPeer | undefined;
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    peer = new RawPeer(socket, mode);
  });
  server.on('close', () => sockets.forEach((s) => s.destroy()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, peer: () => peer, server };
}

describe('e2e: pushes to ASTM analysers', () => {
  const dir = tempDir();
  let hub: HubProc;
  let tok: string;
  let good: Awaited<ReturnType<typeof analyser>>;
  let picky: Awaited<ReturnType<typeof analyser>>;
  const AGENT = 'site-astm';

  beforeAll(async () => {
    hub = await startHub(dir.path);
    tok = await token(dir.path);
    [good, picky] = await Promise.all([analyser('ack'), analyser('nak-frames')]);
    const created = await runToEnd(['agent', 'create', AGENT, '--api', hub.url, '--token', tok]);
    const { secret } = JSON.parse(created.stdout) as { secret: string };
    run(
      [
        'relay',
        '--url',
        hub.wsUrl,
        '--agent',
        AGENT,
        '--log-level',
        'warn',
        '--device',
        `chem=astm://127.0.0.1:${good.port}`,
        '--device',
        `picky=astm://127.0.0.1:${picky.port}`,
      ],
      { EDGEPUSH_AGENT_SECRET: secret },
    );
    await waitFor(
      async () => {
        const r = await http(`${hub.url}/agents/${AGENT}`, { token: tok });
        return r.body.status === 'connected' && r.body.devices?.length === 2 && r;
      },
      15_000,
      'the relay connected',
    );
  }, 60_000);

  afterAll(async () => {
    await stopAll();
    await Promise.all([good, picky].map((a) => new Promise((r) => a?.server.close(r))));
    dir.remove();
  });

  it('an order is acked once every frame was accepted and EOT sent; the analyser has it exactly', async () => {
    const res = await http(`${hub.url}/agents/${AGENT}/push`, {
      method: 'POST',
      token: tok,
      body: { destination: 'chem', contentType: 'application/astm', body: ORDER },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'acked', attempts: 1 });
    expect(res.body.ackCode).toBeUndefined();
    const peer = good.peer()!;
    await peer.until(() => peer.messages.length === 1);
    expect(peer.messages[0]).toBe(ORDER.replace(/\n/g, '\r'));
    expect(peer.frames.every((f) => f.checksumOk)).toBe(true);
  });

  it('orders to one analyser go one transfer at a time, in order', async () => {
    const orders = [1, 2, 3].map((n) => ORDER.replace('S-42', `S-${n}`));
    const results = await Promise.all(
      orders.map((body) =>
        http(`${hub.url}/agents/${AGENT}/push`, {
          method: 'POST',
          token: tok,
          body: { destination: 'chem', contentType: 'application/astm', body },
        }),
      ),
    );
    expect(results.map((r) => r.body.status)).toEqual(['acked', 'acked', 'acked']);
    const peer = good.peer()!;
    expect(peer.messages.slice(-3).map((m) => /O\|1\|(S-\d)/.exec(m)![1])).toEqual(['S-1', 'S-2', 'S-3']);
  });

  it('an analyser that refuses every frame: failed with NAK_LIMIT, not retried', async () => {
    const res = await http(`${hub.url}/agents/${AGENT}/push`, {
      method: 'POST',
      token: tok,
      body: { destination: 'picky', contentType: 'application/astm', body: ORDER },
    });
    expect(res.status).toBe(502);
    expect(res.body).toMatchObject({ status: 'failed', attempts: 1 });
    expect(res.body.error).toMatch(/^NAK_LIMIT: frame 1 was refused 6 times/);
  });

  it('HL7 to an ASTM device is refused by the relay, and bad ASTM is refused by the API with NOT_ASTM', async () => {
    const hl7 = await http(`${hub.url}/agents/${AGENT}/push`, {
      method: 'POST',
      token: tok,
      body: { destination: 'chem', body: 'MSH|^~\\&|A|B|C|D|20240101||ADT^A01|X1|P|2.5\r' },
    });
    expect(hl7.body).toMatchObject({ status: 'failed' });
    expect(hl7.body.error).toMatch(/device chem takes application\/astm/);
    for (const body of ['P|1\nL|1|N\n', 'H|\\^&\nP|1\n', 'H|\\^&\nR|1|\u0005\nL|1\n']) {
      const bad = await http(`${hub.url}/agents/${AGENT}/push`, {
        method: 'POST',
        token: tok,
        body: { destination: 'chem', contentType: 'application/astm', body },
      });
      expect(bad.status).toBe(400);
      expect(bad.body.code).toBe('NOT_ASTM');
    }
  });
});
