/**
 * GET /agents/{agentId} shows each device with its kind (from the relay's hello) and its queue
 * depth (open pushes), through a real `edgepush hub` and `edgepush relay`.
 */
import { http, run, startHub, stopAll, tempDir, token, type HubProc } from './harness';
import { freePort } from '../support/free-port';
import { waitFor } from '../support/wait';

jest.setTimeout(60_000);

const MSG = (id: string) => `MSH|^~\\&|EP|HUB|LAB|DEV|20240101000000||ADT^A01|${id}|P|2.5\rPID|1||123\r`;

describe('agent status: device kinds and queue depths', () => {
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

  it('lists mllp and astm devices with their kinds, and counts open pushes per device', async () => {
    const created = await http(`${hub.url}/agents`, { token: tok, body: { agentId: 'site-k' } });
    // Nothing listens on either port: pushes to lab stay open (queued, retried).
    const [lab, analyser] = [await freePort(), await freePort()];
    run(
      [
        'relay',
        '--url',
        hub.wsUrl,
        '--agent',
        'site-k',
        '--log-level',
        'warn',
        '--device',
        `lab=mllp://127.0.0.1:${lab}`,
        '--device',
        `an=astm://127.0.0.1:${analyser}`,
      ],
      { EDGEPUSH_AGENT_SECRET: created.body.secret as string },
    );
    const agent = await waitFor(async () => {
      const res = await http(`${hub.url}/agents/site-k`, { token: tok });
      return res.body.devices?.length === 2 ? res.body : undefined;
    }, 15_000);
    expect(agent.devices).toStrictEqual([
      { name: 'lab', kind: 'mllp', queueDepth: 0 },
      { name: 'an', kind: 'astm', queueDepth: 0 },
    ]);
    for (const id of ['Q1', 'Q2']) {
      const res = await http(`${hub.url}/agents/site-k/push`, {
        token: tok,
        body: { destination: 'lab', body: MSG(id), waitForResponse: false },
      });
      expect(res.status).toBe(202);
    }
    const after = await http(`${hub.url}/agents/site-k`, { token: tok });
    expect(after.body.devices).toStrictEqual([
      { name: 'lab', kind: 'mllp', queueDepth: 2 },
      { name: 'an', kind: 'astm', queueDepth: 0 },
    ]);
    // The list shows kinds but no depths (one read per agent would cost a read per device).
    const list = await http(`${hub.url}/agents`, { token: tok });
    expect(list.body.agents[0].devices).toStrictEqual([
      { name: 'lab', kind: 'mllp' },
      { name: 'an', kind: 'astm' },
    ]);
  });
});
