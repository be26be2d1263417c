/**
 * Agent lifecycle on the hub (the `edgepush hub` child process), over HTTP and a raw relay
 * WebSocket: list, disable/enable (the live connection is closed, the relay refused, pushes
 * 409), rotate the secret (the old one stops working), delete; and the `agent` CLI.
 */
import { WebSocket } from 'ws';
import { http, runToEnd, startHub, stopAll, tempDir, token, type HubProc } from './harness';
import { waitFor } from '../support/wait';

const MSG = 'MSH|^~\\&|EP|HUB|LAB|DEV|20240101000000||ADT^A01|M1|P|2.5\rPID|1||123\r';

describe('agent lifecycle on the hub', () => {
  const dir = tempDir();
  let hub: HubProc;
  let tok: string;
  beforeAll(async () => {
    hub = await startHub(dir.path);
    tok = await token(dir.path);
  });
  afterAll(async () => {
    await stopAll();
    dir.remove();
  });

  const create = async (agentId: string) => (await http(`${hub.url}/agents`, { token: tok, body: { agentId } })).body.secret as string;

  /** A relay connection: resolves once open, with its close code, or the upgrade's HTTP status when refused. */
  function connect(agentId: string, secret: string): Promise<{ ws?: WebSocket; status: number; closed: Promise<number> }> {
    return new Promise((resolve) => {
      const ws = new WebSocket(hub.wsUrl, { headers: { 'x-edgepush-agent-id': agentId, 'x-edgepush-agent-secret': secret } });
      const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
      ws.once('open', () => resolve({ ws, status: 101, closed }));
      ws.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode!, closed }));
      ws.once('error', () => undefined);
    });
  }
  const agentStatus = async (agentId: string) => (await http(`${hub.url}/agents/${agentId}`, { token: tok })).body.status as string;

  it('lists every agent with its status', async () => {
    await create('life-a');
    await create('life-b');
    const res = await http(`${hub.url}/agents`, { token: tok });
    expect(res.status).toBe(200);
    const ids = res.body.agents.map((a: { agentId: string }) => a.agentId);
    expect(ids).toEqual(expect.arrayContaining(['life-a', 'life-b']));
    expect(res.body.agents.find((a: { agentId: string }) => a.agentId === 'life-a')).toMatchObject({ status: 'disconnected', devices: [] });
    expect(res.text).not.toContain('secret');
  });

  it('disable closes the live connection, refuses the relay and pushes; enable lets it back', async () => {
    const secret = await create('life-d');
    const relay = await connect('life-d', secret);
    expect(relay.status).toBe(101);
    await waitFor(async () => (await agentStatus('life-d')) === 'connected', 5000, 'connected');

    const off = await http(`${hub.url}/agents/life-d`, { token: tok, method: 'PATCH', body: { enabled: false } });
    expect(off).toMatchObject({ status: 200, body: { agentId: 'life-d', status: 'disabled' } });
    expect(await relay.closed).toBe(1008);
    expect((await connect('life-d', secret)).status).toBe(401);
    const push = await http(`${hub.url}/agents/life-d/push`, { token: tok, body: { destination: 'lab', body: MSG } });
    expect(push).toMatchObject({ status: 409, body: { code: 'AGENT_DISABLED' } });

    const on = await http(`${hub.url}/agents/life-d`, { token: tok, method: 'PATCH', body: { enabled: true } });
    expect(on).toMatchObject({ status: 200, body: { status: 'disconnected' } });
    const back = await connect('life-d', secret);
    expect(back.status).toBe(101);
    back.ws!.close();

    const bad = await http(`${hub.url}/agents/life-d`, { token: tok, method: 'PATCH', body: { enabled: 'no' } });
    expect(bad).toMatchObject({ status: 400, body: { code: 'INVALID_AGENT_PATCH' } });
    const missing = await http(`${hub.url}/agents/nobody`, { token: tok, method: 'PATCH', body: { enabled: false } });
    expect(missing).toMatchObject({ status: 404, body: { code: 'AGENT_NOT_FOUND' } });
  });

  it('rotating the secret returns a new one, closes the connection, and the old one stops working', async () => {
    const old = await create('life-r');
    const relay = await connect('life-r', old);
    await waitFor(async () => (await agentStatus('life-r')) === 'connected', 5000, 'connected');
    const res = await http(`${hub.url}/agents/life-r/secret`, { token: tok, method: 'POST' });
    expect(res.status).toBe(200);
    expect(res.body.agentId).toBe('life-r');
    expect(res.body.secret).not.toBe(old);
    expect(await relay.closed).toBe(1008);
    expect((await connect('life-r', old)).status).toBe(401);
    const fresh = await connect('life-r', res.body.secret);
    expect(fresh.status).toBe(101);
    fresh.ws!.close();
  });

  it('deletes an agent: gone from the list, its relay refused', async () => {
    const secret = await create('life-x');
    const relay = await connect('life-x', secret);
    await waitFor(async () => (await agentStatus('life-x')) === 'connected', 5000, 'connected');
    const res = await http(`${hub.url}/agents/life-x`, { token: tok, method: 'DELETE' });
    expect(res.status).toBe(204);
    expect(await relay.closed).toBe(1008);
    expect((await http(`${hub.url}/agents/life-x`, { token: tok })).status).toBe(404);
    const list = await http(`${hub.url}/agents`, { token: tok });
    expect(list.body.agents.map((a: { agentId: string }) => a.agentId)).not.toContain('life-x');
    expect((await http(`${hub.url}/agents/life-x`, { token: tok, method: 'DELETE' })).status).toBe(404);
    expect((await connect('life-x', secret)).status).toBe(401);
  });

  it('the CLI: agent list, disable, enable, rotate-secret, delete', async () => {
    const cli = (...args: string[]) => runToEnd(['agent', ...args], { EDGEPUSH_API: hub.url, EDGEPUSH_TOKEN: tok });
    await create('life-cli');
    const list = await cli('list');
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as { agents: { agentId: string }[] }).agents.map((a) => a.agentId)).toContain('life-cli');
    const off = await cli('disable', 'life-cli');
    expect(off.code).toBe(0);
    expect(JSON.parse(off.stdout)).toMatchObject({ agentId: 'life-cli', status: 'disabled' });
    expect(JSON.parse((await cli('enable', 'life-cli')).stdout)).toMatchObject({ status: 'disconnected' });
    const rotated = await cli('rotate-secret', 'life-cli');
    expect(rotated.code).toBe(0);
    expect(JSON.parse(rotated.stdout)).toMatchObject({ agentId: 'life-cli', secret: expect.any(String) });
    expect(await cli('delete', 'life-cli')).toMatchObject({ code: 0, stdout: '' });
    const again = await cli('delete', 'life-cli');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('does not exist');
  });
});
