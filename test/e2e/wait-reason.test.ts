/**
 * Saying why a push waits (issue 11), through a real `edgepush hub`, relay and CLI: the push
 * JSON's `waitReason` and the CLI's stderr name the cause at once: the agent's relay is not
 * connected, or the device refuses connections (with the attempt count).
 */
import { http, runToEnd, startHub, startRelay, stopAll, tempDir, token, type HubProc } from './harness';
import { freePort } from '../support/free-port';
import { waitFor } from '../support/wait';

jest.setTimeout(60_000);

describe('why a push waits', () => {
  const dir = tempDir();
  let hub: HubProc;
  let tok: string;
  const env = () => ({ EDGEPUSH_API: hub.url, EDGEPUSH_TOKEN: tok });

  beforeAll(async () => {
    hub = await startHub(dir.path);
    tok = await token(dir.path);
  });
  afterAll(async () => {
    await stopAll();
    dir.remove();
  });

  it('an agent whose relay never connected: answered at once, not after waitTimeout', async () => {
    expect((await http(`${hub.url}/agents`, { token: tok, body: { agentId: 'site-2' } })).status).toBe(201);
    // waitTimeout 25 s: the answer must not wait for it (the test's own timeout is shorter).
    const res = await http(`${hub.url}/agents/site-2/push`, {
      token: tok,
      body: { destination: 'lab', body: 'MSH|^~\\&|A|B|C|D|20240101000000||ADT^A01|W1|P|2.5\r', waitTimeout: 25_000 },
    });
    expect(res.status).toBe(504);
    expect(res.headers.get('location')).toMatch(new RegExp(`/pushes/${res.body.pushId}$`));
    expect(res.body).toMatchObject({
      status: 'queued',
      waitReason: { code: 'AGENT_NOT_CONNECTED', message: 'agent site-2 is not connected (last seen: never)' },
    });
    const read = await http(`${hub.url}/pushes/${res.body.pushId}`, { token: tok });
    expect(read.body.waitReason).toStrictEqual(res.body.waitReason);
    const listed = await http(`${hub.url}/pushes?agentId=site-2`, { token: tok });
    expect(listed.body.pushes[0].waitReason.code).toBe('AGENT_NOT_CONNECTED');

    const cli = await runToEnd(['push', 'site-2', 'lab', '--generate-example', '--timeout', '25s'], env());
    expect(cli.code).toBe(3);
    expect(cli.stderr).toContain('agent site-2 is not connected (last seen: never)');
    const noWait = await runToEnd(['push', 'site-2', 'lab', '--generate-example', '--no-wait'], env());
    expect(noWait.code).toBe(0);
    expect(noWait.stderr).toContain('waits: agent site-2 is not connected (last seen: never)');
    const status = await runToEnd(['push', 'status', res.body.pushId as string], env());
    expect(status.code).toBe(3);
    expect(status.stderr).toContain('agent site-2 is not connected (last seen: never)');
  }, 20_000);

  it('a device that refuses connections: the reason and the attempt count', async () => {
    const created = await http(`${hub.url}/agents`, { token: tok, body: { agentId: 'site-3' } });
    const relay = startRelay(hub.wsUrl, 'site-3', created.body.secret as string, { lab: await freePort() });
    await waitFor(async () => (await http(`${hub.url}/agents/site-3`, { token: tok })).body.devices?.length === 1, 15_000);
    const res = await http(`${hub.url}/agents/site-3/push`, {
      token: tok,
      body: { destination: 'lab', body: 'MSH|^~\\&|A|B|C|D|20240101000000||ADT^A01|R1|P|2.5\r', waitForResponse: false },
    });
    expect(res.status).toBe(202);
    const reason = await waitFor(async () => {
      const p = await http(`${hub.url}/pushes/${res.body.pushId}`, { token: tok });
      return p.body.waitReason?.code === 'DEVICE_UNREACHABLE' ? (p.body.waitReason as { message: string }) : undefined;
    }, 30_000);
    expect(reason.message).toMatch(/^device lab refuses connections \(attempt [1-9]\d*\)$/);
    const status = await runToEnd(['push', 'status', res.body.pushId as string], env());
    expect(status.stderr).toMatch(/device lab refuses connections \(attempt \d+\)/);
    relay.child.kill('SIGTERM');
  });
});
