/**
 * Open pushes are bounded per destination, per agent, and (before the relay's hello) in the
 * number of destinations: beyond them, 429 TOO_MANY_QUEUED (issue 8 "A stuck destination",
 * issue 9 #11). On the hub and on the AWS path (the real Lambda handlers on the emulators).
 */
import { CLOUD_KINDS, startCloud, type Cloud } from './clouds';
import { ScriptedRelay } from './scripted-relay';

jest.setTimeout(60_000);

const MSG = (id: string) => `MSH|^~\\&|EHR|HOSP|LAB|DEV|20260101000000||ADT^A01|${id}|P|2.5.1\rPID|1||123\r`;

describe.each(CLOUD_KINDS)('queue limits on the %s', (kind) => {
  let cloud: Cloud;
  let relay: ScriptedRelay | undefined;
  const api = (method: string, path: string, body?: object) => cloud.api(method, path, body);
  const push = (agentId: string, destination: string, id: string) =>
    api('POST', `/agents/${agentId}/push`, { destination, body: MSG(id), waitForResponse: false });

  beforeAll(async () => {
    cloud = await startCloud(kind, { maxQueuedPerDestination: 2, maxQueuedPerAgent: 4, maxDestinationsBeforeHello: 2 });
  });
  afterAll(async () => {
    relay?.close();
    await cloud.stop();
  });

  it('answers 429 TOO_MANY_QUEUED past each bound, and takes pushes again as they finish', async () => {
    const agent = await api('POST', '/agents', { agentId: 'busy' });
    expect(agent.status).toBe(201);

    // No relay yet: destinations are not known, so their number is bounded too.
    const lab1 = await push('busy', 'lab', 'L1');
    expect(lab1.status).toBe(202);
    expect((await push('busy', 'lab', 'L2')).status).toBe(202);
    const perDestination = await push('busy', 'lab', 'L3');
    expect(perDestination).toMatchObject({ status: 429, body: { code: 'TOO_MANY_QUEUED' } });
    expect(perDestination.body.error).toMatch(/lab already has 2 pushes waiting/);
    expect((await push('busy', 'ris', 'R1')).status).toBe(202);
    const bogus = await push('busy', 'bogus-1', 'B1');
    expect(bogus).toMatchObject({ status: 429, body: { code: 'TOO_MANY_QUEUED' } });
    expect(bogus.body.error).toMatch(/2 destinations/);
    // Another agent has its own bounds.
    const other = await api('POST', '/agents', { agentId: 'calm' });
    expect(other.status).toBe(201);
    expect((await push('calm', 'lab', 'C1')).status).toBe(202);

    // The relay names its devices: the destination bound no longer applies, the per-agent one does.
    relay = await ScriptedRelay.connect(cloud.wsUrl, 'busy', agent.body.secret as string, ['lab', 'ris', 'ct']);
    expect((await push('busy', 'ct', 'T1')).status).toBe(202);
    const perAgent = await push('busy', 'ris', 'R2');
    expect(perAgent).toMatchObject({ status: 429, body: { code: 'TOO_MANY_QUEUED' } });
    expect(perAgent.body.error).toMatch(/agent busy already has 4 pushes waiting/);

    // A push that finishes frees its slot (the agent's, and its destination's).
    const first = await relay.nextPush(10_000);
    expect(await relay.ack(first.pushId)).toMatchObject({ type: 'resultAck' });
    expect((await push('busy', first.destination, 'A1')).status).toBe(202);
  });
});
