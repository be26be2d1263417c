/**
 * One relay per agent, and the live connection wins (DESIGN.md, Agents; issue 9 #1 and issue
 * 11 "Two relays, one agent"), through the hub's real WebSocket gateway on loopback.
 */
import { startInProcessHub, openRelay, until, type InProcessHub, type RawRelay } from './in-process-hub';

const HL7 = (id: string) => `MSH|^~\\&|EP|HUB|LAB|DEV|20240101000000||ADT^A01|${id}|P|2.5\rPID|1||123\r`;
// Long enough that a loaded CI machine never makes a heartbeating relay look silent.
const LIVE_WINDOW_MS = 2_000;

describe('one relay per agent (in-process hub, real sockets)', () => {
  let hub: InProcessHub;
  let secret: string;
  const agentId = 'site-1';
  beforeAll(async () => {
    hub = await startInProcessHub({ core: { liveWindowMs: LIVE_WINDOW_MS, lastSeenWriteMs: 50 } });
    const created = await hub.api('POST', '/agents', { agentId });
    secret = created.body.secret as string;
  });
  afterAll(() => hub.close());

  const pushTo = async (id: string) =>
    (await hub.api('POST', `/agents/${agentId}/push`, { destination: 'lab', body: HL7(id), waitForResponse: false })).body;
  const pushesSeen = (relay: RawRelay) => relay.messages.filter((m) => m.type === 'push').map((m) => m.pushId as string);
  const hello = (relay: RawRelay) => relay.send({ action: 'hello', v: 1, version: 't', devices: ['lab'] });
  /** Keeps a relay live the way a real one does, faster than the test's window. */
  const heartbeat = (relay: RawRelay) => {
    const timer = setInterval(() => relay.send({ action: 'heartbeat', v: 1 }), LIVE_WINDOW_MS / 6);
    void relay.closed.then(() => clearInterval(timer));
    return () => clearInterval(timer);
  };

  it('refuses a second connection while the first is live; closing it leaves the live relay connected and receiving pushes', async () => {
    const live = await openRelay(hub.wsUrl, agentId, secret, 'relay-a');
    hello(live);
    await until(() => live.messages.some((m) => m.type === 'helloAck'));
    const stop = heartbeat(live);

    // The attack of issue 9 #1: open a connection with the agent's credentials and close it again.
    const intruder = await openRelay(hub.wsUrl, agentId, secret);
    expect(await intruder.closed).toEqual({ code: 4409, reason: 'agent already connected' });
    const clone = await openRelay(hub.wsUrl, agentId, secret, 'relay-b');
    clone.send({ action: 'heartbeat', v: 1 });
    expect(await clone.closed).toEqual({ code: 4409, reason: 'agent already connected' });
    expect(clone.messages).toEqual([]);

    const agent = await hub.api('GET', `/agents/${agentId}`);
    expect(agent.body).toMatchObject({ status: 'connected', conflict: { count: 2, at: expect.any(String) } });
    const warnings = hub.logLines.map((l) => JSON.parse(l)).filter((l) => l.level === 40 && /second relay connection refused/.test(l.msg));
    expect(warnings).toHaveLength(2);

    const push = await pushTo('ONE-1');
    await until(() => pushesSeen(live).includes(push.pushId));
    expect(live.ws.readyState).toBe(live.ws.OPEN);
    stop();
  });

  it('replaces a connection whose relay went silent past the window, and closes the silent one', async () => {
    // After the test above, relay-a stopped heartbeating: it is silent now.
    const [silent] = hub.gateway.connectionIds();
    expect(silent).toBeDefined();
    await new Promise((r) => setTimeout(r, LIVE_WINDOW_MS + 100));
    const newcomer = await openRelay(hub.wsUrl, agentId, secret, 'relay-c');
    hello(newcomer);
    await until(() => newcomer.messages.some((m) => m.type === 'helloAck'));
    await until(() => !hub.gateway.connectionIds().includes(silent));
    expect(hub.gateway.connectionIds()).toHaveLength(1);
    const push = await pushTo('ONE-2');
    await until(() => pushesSeen(newcomer).includes(push.pushId));
    expect((await hub.api('GET', `/agents/${agentId}`)).body.status).toBe('connected');
    newcomer.ws.close();
    await newcomer.closed;
    await until(async () => (await hub.api('GET', `/agents/${agentId}`)).body.status === 'disconnected' || undefined);
  });

  it('lets the same relay process replace its own live connection at once (a reconnect or a rotation)', async () => {
    const first = await openRelay(hub.wsUrl, agentId, secret, 'relay-d');
    const stop = heartbeat(first);
    hello(first);
    await until(() => first.messages.some((m) => m.type === 'helloAck'));
    const second = await openRelay(hub.wsUrl, agentId, secret, 'relay-d');
    hello(second);
    await until(() => second.messages.some((m) => m.type === 'helloAck'));
    expect((await first.closed).code).toBe(1000);
    stop();
    // The replaced connection's disconnect did not disconnect the agent.
    expect((await hub.api('GET', `/agents/${agentId}`)).body.status).toBe('connected');
    const push = await pushTo('ONE-3');
    await until(() => pushesSeen(second).includes(push.pushId));
    expect(pushesSeen(first)).not.toContain(push.pushId);
    second.ws.close();
    await second.closed;
  });
});
