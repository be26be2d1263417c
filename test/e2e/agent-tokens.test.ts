/**
 * Tokens restricted to agents (issue 11): `edgepush token --agent A` mints a token carrying the
 * `agents` claim; against a real `edgepush hub` it acts only on A: every other agent's routes
 * answer 403, and GET /agents and GET /pushes list only A's.
 */
import { http, runToEnd, startHub, stopAll, tempDir, token, type HubProc } from './harness';

const MSG = (id: string) => `MSH|^~\\&|EP|HUB|LAB|DEV|20240101000000||ADT^A01|${id}|P|2.5\rPID|1||123\r`;

describe('tokens restricted to agents', () => {
  const dir = tempDir();
  let hub: HubProc;
  let admin: string;
  let onlyA: string;
  let both: string;
  const pushes: Record<string, string> = {};

  const mint = async (...args: string[]) => {
    const res = await runToEnd(['token', '--data', dir.path, ...args]);
    expect(res).toMatchObject({ code: 0, stderr: '' });
    return res.stdout.trim();
  };

  beforeAll(async () => {
    hub = await startHub(dir.path);
    admin = await token(dir.path);
    for (const agentId of ['tok-a', 'tok-b', 'tok-c']) {
      expect((await http(`${hub.url}/agents`, { token: admin, body: { agentId } })).status).toBe(201);
      const res = await http(`${hub.url}/agents/${agentId}/push`, {
        token: admin,
        body: { destination: 'lab', body: MSG(agentId), waitForResponse: false },
      });
      pushes[agentId] = res.body.pushId as string;
    }
    onlyA = await mint('--agent', 'tok-a');
    both = await mint('--agent', 'tok-a', '--agent', 'tok-b');
  });
  afterAll(async () => {
    await stopAll();
    dir.remove();
  });

  it('acts on its own agent: push, read, cancel, resend, agent routes', async () => {
    const res = await http(`${hub.url}/agents/tok-a/push`, {
      token: onlyA,
      body: { destination: 'lab', body: MSG('A2'), waitForResponse: false },
    });
    expect(res.status).toBe(202);
    expect((await http(`${hub.url}/pushes/${pushes['tok-a']}`, { token: onlyA })).status).toBe(200);
    expect((await http(`${hub.url}/pushes/${res.body.pushId}/cancel`, { token: onlyA, method: 'POST' })).status).toBe(200);
    expect((await http(`${hub.url}/pushes/${res.body.pushId}/resend`, { token: onlyA, method: 'POST' })).status).toBe(202);
    expect((await http(`${hub.url}/agents/tok-a`, { token: onlyA })).body).toMatchObject({ agentId: 'tok-a' });
  });

  it('answers 403 FORBIDDEN for every route on another agent, naming the agents it may act on', async () => {
    const refused = [
      await http(`${hub.url}/agents/tok-b/push`, { token: onlyA, body: { destination: 'lab', body: MSG('B2'), waitForResponse: false } }),
      await http(`${hub.url}/agents/tok-b`, { token: onlyA }),
      await http(`${hub.url}/agents/tok-b`, { token: onlyA, method: 'PATCH', body: { enabled: false } }),
      await http(`${hub.url}/agents/tok-b/secret`, { token: onlyA, method: 'POST' }),
      await http(`${hub.url}/agents/tok-b`, { token: onlyA, method: 'DELETE' }),
      await http(`${hub.url}/agents`, { token: onlyA, body: { agentId: 'tok-new' } }),
      await http(`${hub.url}/pushes/${pushes['tok-b']}`, { token: onlyA }),
      await http(`${hub.url}/pushes/${pushes['tok-b']}/cancel`, { token: onlyA, method: 'POST' }),
      await http(`${hub.url}/pushes/${pushes['tok-b']}/resend`, { token: onlyA, method: 'POST' }),
      await http(`${hub.url}/pushes?agentId=tok-b`, { token: onlyA }),
    ];
    for (const res of refused) {
      expect(res).toMatchObject({ status: 403, body: { code: 'FORBIDDEN', error: 'this token acts only on agent tok-a' } });
    }
    // Nothing happened to tok-b: still enabled, its push still queued, no new agent.
    expect((await http(`${hub.url}/agents/tok-b`, { token: admin })).body.status).not.toBe('disabled');
    expect((await http(`${hub.url}/pushes/${pushes['tok-b']}`, { token: admin })).body.status).toBe('queued');
    expect((await http(`${hub.url}/agents/tok-new`, { token: admin })).status).toBe(404);
    const medplum = await http(`${hub.url}/fhir/R4/Agent/tok-b/$push`, {
      token: onlyA,
      body: { destination: 'Device/lab', body: MSG('M1') },
    });
    expect(medplum.status).toBe(403);
    expect(medplum.body.resourceType).toBe('OperationOutcome');
  });

  it('filters the lists: GET /agents and GET /pushes show only its agents', async () => {
    const agentIds = async (tok: string) =>
      ((await http(`${hub.url}/agents`, { token: tok })).body.agents as { agentId: string }[]).map((a) => a.agentId).sort();
    expect(await agentIds(onlyA)).toStrictEqual(['tok-a']);
    expect(await agentIds(both)).toStrictEqual(['tok-a', 'tok-b']);
    expect(await agentIds(admin)).toStrictEqual(['tok-a', 'tok-b', 'tok-c']);
    const pushAgents = async (tok: string) =>
      [...new Set(((await http(`${hub.url}/pushes`, { token: tok })).body.pushes as { agentId: string }[]).map((p) => p.agentId))].sort();
    expect(await pushAgents(onlyA)).toStrictEqual(['tok-a']);
    expect(await pushAgents(both)).toStrictEqual(['tok-a', 'tok-b']);
    expect(await pushAgents(admin)).toStrictEqual(['tok-a', 'tok-b', 'tok-c']);
  });

  it('the CLI refuses a malformed --agent as a usage error (exit 2)', async () => {
    const res = await runToEnd(['token', '--data', dir.path, '--agent', 'no/slash']);
    expect(res.code).toBe(2);
    expect(res.stdout).toBe('');
    expect(res.stderr).toContain('--agent');
  });
});
