/**
 * The whole push path with real processes: `edgepush hub`, `edgepush relay`, and
 * `edgepush hl7 listen` devices (one ACKs AA, one AE), all from dist/edgepush.js.
 */
import { writeFileSync } from 'node:fs';
import { MedplumClient } from '@medplum/core';
import { generateExampleAdt } from '../../hl7/example';
import { requestBytesFor } from '../../hub/http-server';
import { MAX_BODY_BYTES } from '../../protocol/limits';
import { http, runToEnd, startDevice, startHub, startRelay, stopAll, tempDir, token, type HubProc } from './harness';
import { waitFor } from '../support/wait';

const msg = (controlId = `E2E${Date.now()}${Math.floor(Math.random() * 1000)}`) =>
  `MSH|^~\\&|EP|CLOUD|LAB|SITE|20240101120000||ADT^A01|${controlId}|P|2.5\nPID|1||12345^^^MRN||DOE^JANE\n`;

describe('e2e: hub + relay + devices as child processes', () => {
  const dir = tempDir();
  let hub: HubProc;
  let tok: string;
  let pushOnly: string;
  let adminOnly: string;
  const AGENT = 'site-e2e';

  beforeAll(async () => {
    hub = await startHub(dir.path);
    [tok, pushOnly, adminOnly] = await Promise.all([
      token(dir.path),
      token(dir.path, ['edgepush/push']),
      token(dir.path, ['edgepush/admin']),
    ]);
    const [good, nack] = await Promise.all([startDevice(0, 'AA'), startDevice(0, 'AE')]);
    const created = await runToEnd(['agent', 'create', AGENT, '--api', hub.url, '--token', tok]);
    expect(created.code).toBe(0);
    const { secret } = JSON.parse(created.stdout) as { secret: string };
    startRelay(hub.wsUrl, AGENT, secret, { lab: good.port, picky: nack.port });
    await waitFor(
      async () => {
        const r = await http(`${hub.url}/agents/${AGENT}`, { token: tok });
        return r.body.status === 'connected' && r.body.devices?.length === 2 && r;
      },
      15_000,
      'connected',
    );
  }, 30_000);

  afterAll(async () => {
    await stopAll();
    dir.remove();
  });

  const push = (body: unknown, t = tok, agent = AGENT) => http(`${hub.url}/agents/${agent}/push`, { token: t, body });

  it('acked -> 200 with the ACK; GET /pushes and GET /agents agree', async () => {
    const res = await push({ destination: 'lab', body: msg('CTRL-A1') });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'acked', ackCode: 'AA', attempts: 1 });
    expect(res.body.response).toMatch(/MSA\|AA\|CTRL-A1/);
    const got = await http(`${hub.url}/pushes/${res.body.pushId}`, { token: tok });
    expect(got.body).toEqual(res.body);
    const agent = await http(`${hub.url}/agents/${AGENT}`, { token: tok });
    expect(agent.body).toMatchObject({ agentId: AGENT, status: 'connected', devices: [{ name: 'lab' }, { name: 'picky' }] });
    expect(agent.body.version).toEqual(expect.any(String));
  });

  it('accepts Device/<name> and \\r\\n line endings', async () => {
    const res = await push({ destination: 'Device/lab', body: msg('CTRL-CRLF').replace(/\n/g, '\r\n') });
    expect(res.status).toBe(200);
    expect(res.body.response).toMatch(/MSA\|AA\|CTRL-CRLF/);
  });

  it('the device answers AE -> 422 with the ACK', async () => {
    const res = await push({ destination: 'picky', body: msg('CTRL-AE') });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ status: 'nacked', ackCode: 'AE' });
    expect(res.body.response).toMatch(/MSA\|AE\|CTRL-AE/);
  });

  it('an unknown device -> 404 and an unknown agent -> 404, with clear codes', async () => {
    const res = await push({ destination: 'nope', body: msg() });
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ code: 'DESTINATION_NOT_FOUND', error: expect.stringContaining('nope') });
    const noAgent = await push({ destination: 'lab', body: msg() }, tok, 'ghost');
    expect(noAgent.status).toBe(404);
    expect(noAgent.body.code).toBe('AGENT_NOT_FOUND');
  });

  it('no token -> 401, a bad token -> 401, a missing scope -> 403, /health is open', async () => {
    const none = await http(`${hub.url}/agents/${AGENT}/push`, { body: { destination: 'lab', body: msg() } });
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ code: 'UNAUTHORIZED', error: expect.any(String) });
    const forged = await push({ destination: 'lab', body: msg() }, `${tok.slice(0, -4)}AAAA`);
    expect(forged.status).toBe(401);
    const otherHub = tempDir();
    try {
      // Signed with another hub's key (`token` creates a key only when asked, with --init).
      const foreign = (await runToEnd(['token', '--init', '--data', otherHub.path])).stdout.trim();
      const wrongKey = await push({ destination: 'lab', body: msg() }, foreign);
      expect(wrongKey.status).toBe(401);
      expect(wrongKey.body.code).toBe('TOKEN_WRONG_KEY');
    } finally {
      otherHub.remove();
    }
    const wrongScope = await push({ destination: 'lab', body: msg() }, adminOnly);
    expect(wrongScope.status).toBe(403);
    expect(wrongScope.body.code).toBe('FORBIDDEN');
    const adminNeeded = await http(`${hub.url}/agents`, { token: pushOnly, body: { agentId: 'x' } });
    expect(adminNeeded.status).toBe(403);
    expect((await http(`${hub.url}/agents/${AGENT}`, { token: pushOnly })).status).toBe(403);
    expect((await http(`${hub.url}/health`)).status).toBe(200);
  });

  it('bad JSON -> 400, missing destination -> 400, a non-HL7 body -> 400, waitTimeout out of range -> 400', async () => {
    const bad = await http(`${hub.url}/agents/${AGENT}/push`, { token: tok, raw: '{"destination": "lab", ' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: expect.any(String), error: expect.any(String) });
    expect((await push({ body: msg() })).status).toBe(400);
    expect((await push({ destination: 'lab', body: 'hello, not HL7' })).status).toBe(400);
    expect((await push({ destination: 'lab', body: msg(), waitTimeout: 25_001 })).status).toBe(400);
  });

  it("too large -> 413, both over the largest body (10 MB) and over the hub's request cap", async () => {
    const big = msg() + `NTE|1||${'x'.repeat(MAX_BODY_BYTES)}\n`;
    const res = await push({ destination: 'lab', body: big });
    expect(res.status).toBe(413);
    expect(res.body.code).toBe('PAYLOAD_TOO_LARGE');
    const huge = await http(`${hub.url}/agents/${AGENT}/push`, {
      token: tok,
      raw: JSON.stringify({ destination: 'lab', body: 'x'.repeat(requestBytesFor(MAX_BODY_BYTES) + 1) }),
    });
    expect(huge.status).toBe(413);
    // The hub is still fine afterwards.
    expect((await push({ destination: 'lab', body: msg() })).status).toBe(200);
  });

  it('an idempotencyKey replay returns the first push; the same key with another body -> 409', async () => {
    const body = msg('CTRL-IDEM');
    const first = await push({ destination: 'lab', body, idempotencyKey: 'order-42' });
    expect(first.status).toBe(200);
    const again = await push({ destination: 'lab', body, idempotencyKey: 'order-42' });
    expect(again.status).toBe(200);
    expect(again.body.pushId).toBe(first.body.pushId);
    expect(again.body.attempts).toBe(1); // not delivered a second time
    const conflict = await push({ destination: 'lab', body: msg('OTHER'), idempotencyKey: 'order-42' });
    expect(conflict.status).toBe(409);
  });

  it('waitForResponse:false -> 202 with a Location that later shows acked', async () => {
    const res = await push({ destination: 'lab', body: msg(), waitForResponse: false });
    expect(res.status).toBe(202);
    const location = res.headers.get('location')!;
    expect(location).toBe(`${hub.url}/pushes/${res.body.pushId}`);
    const done = await waitFor(
      async () => {
        const r = await http(location, { token: tok });
        return r.body.status === 'acked' && r;
      },
      15_000,
      'acked',
    );
    expect(done.body.ackCode).toBe('AA');
  });

  it('edgepush push prints the ACK and exits 0; exits 1 on AE', async () => {
    const ok = await runToEnd(['push', AGENT, 'lab', '--generate-example'], { EDGEPUSH_API: hub.url, EDGEPUSH_TOKEN: tok });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^MSH\|.*\nMSA\|AA\|/m);
    const nack = await runToEnd(['push', AGENT, 'picky', '--generate-example', '--api', hub.url, '--token', tok]);
    expect(nack.code).toBe(1);
    expect(nack.stdout).toMatch(/MSA\|AE\|/);
    expect(nack.stderr).toMatch(/answered AE/);
    const usage = await runToEnd(['push', AGENT, 'lab', '--api', hub.url, '--token', tok]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--file <file> or --generate-example/);
  });

  it('edgepush push checks its own flags: a missing file, a --timeout over 25000 and a bad --return-ack exit 2 and name the flag', async () => {
    const env = { EDGEPUSH_API: hub.url, EDGEPUSH_TOKEN: tok };
    const noFile = await runToEnd(['push', AGENT, 'lab', '--file', `${dir.path}/nope.hl7`], env);
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toMatch(/cannot read --file .*nope\.hl7: ENOENT/);
    const slow = await runToEnd(['push', AGENT, 'lab', '--generate-example', '--timeout', '30000'], env);
    expect(slow.code).toBe(2);
    expect(slow.stderr).toMatch(/--timeout must be .*0 to 25000/);
    const mode = await runToEnd(['push', AGENT, 'lab', '--generate-example', '--return-ack', 'last'], env);
    expect(mode.code).toBe(2);
    expect(mode.stderr).toMatch(/--return-ack must be first or application/);
  });

  it('edgepush push --file accepts a UTF-8 file saved with a byte-order mark', async () => {
    const file = `${dir.path}/bom.hl7`;
    writeFileSync(file, `\uFEFF${msg()}`);
    const r = await runToEnd(['push', AGENT, 'lab', '--file', file], { EDGEPUSH_API: hub.url, EDGEPUSH_TOKEN: tok });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^MSA\|AA\|/m);
  });

  it('MedplumClient.pushToAgent against the hub gets the ACK', async () => {
    const medplum = new MedplumClient({ baseUrl: `${hub.url}/`, fetch: (url: string, init: RequestInit) => fetch(url, init) });
    medplum.setAccessToken(tok);
    const ack = await medplum.pushToAgent(
      { reference: `Agent/${AGENT}` },
      'Device/lab',
      generateExampleAdt(),
      'x-application/hl7-v2+er7',
      true,
    );
    expect(String(ack)).toMatch(/^MSH\|.*\rMSA\|AA\|/s);
  });
});
