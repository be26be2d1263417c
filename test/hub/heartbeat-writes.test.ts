/**
 * Heartbeats must not cost a store write each (issue 9 #4): a flood of them is answered, and
 * lastSeenAt is written at most once per lastSeenWriteMs per agent. Real gateway, real sockets.
 */
import { openRelay, startInProcessHub, until, type InProcessHub } from './in-process-hub';

describe('heartbeat writes (in-process hub)', () => {
  let hub: InProcessHub;
  afterAll(() => hub.close());

  it('answers 500 heartbeats with at most one lastSeenAt write', async () => {
    hub = await startInProcessHub({ core: { lastSeenWriteMs: 60_000 } });
    const { secret } = (await hub.api('POST', '/agents', { agentId: 'beating' })).body as { secret: string };
    const relay = await openRelay(hub.wsUrl, 'beating', secret);
    relay.send({ action: 'hello', v: 1, version: 't', devices: ['lab'] });
    await until(() => relay.messages.some((m) => m.type === 'helloAck'));
    const touch = jest.spyOn(hub.store, 'touch');
    for (let i = 0; i < 500; i++) relay.send({ action: 'heartbeat', v: 1 });
    await until(() => relay.messages.filter((m) => m.type === 'heartbeatAck').length === 500, 10_000);
    expect(touch.mock.calls.length).toBeLessThanOrEqual(1);
    const agent = await hub.api('GET', '/agents/beating');
    expect(agent.body.status).toBe('connected');
    relay.ws.close();
    await relay.closed;
  });
});
