/**
 * The console reads fields that a newer server adds (queue depth per destination, why a push
 * waits) in the shapes it may plausibly give them, and says "unknown" rather than 0 when absent.
 */
import { queueDepths, show, waitReason } from '../../../console/src/shapes';

describe('queueDepths', () => {
  it('reads a map, a list, or a count on each device', () => {
    expect(queueDepths({ queueDepths: { lab: 3, ris: 0 } })).toStrictEqual([
      { destination: 'lab', depth: 3 },
      { destination: 'ris', depth: 0 },
    ]);
    expect(queueDepths({ queues: [{ destination: 'lab', depth: 2 }, { name: 'ris', queued: 1 }, { bogus: true }] })).toStrictEqual([
      { destination: 'lab', depth: 2 },
      { destination: 'ris', depth: 1 },
    ]);
    expect(queueDepths({ devices: [{ name: 'lab', kind: 'mllp', queued: 4 }, { name: 'ris' }] })).toStrictEqual([
      { destination: 'lab', depth: 4 },
    ]);
    expect(queueDepths({ queueDepth: {} })).toStrictEqual([]);
  });

  it('gives undefined (shown as unknown) when the server says nothing about queues', () => {
    expect(queueDepths({ agentId: 'a', devices: [{ name: 'lab' }] })).toBeUndefined();
    expect(queueDepths({ queueDepths: { lab: 'many' } })).toStrictEqual([]);
  });
});

describe('waitReason', () => {
  it('reads a string or the text of an object, in that order of preference', () => {
    expect(waitReason({ waitReason: 'agent site-2 is not connected (last seen: never)' })).toBe(
      'agent site-2 is not connected (last seen: never)',
    );
    expect(waitReason({ waitReason: { code: 'DEVICE_REFUSED', message: 'device refuses connections (attempt 19)' } })).toBe(
      'device refuses connections (attempt 19)',
    );
    expect(waitReason({ waitReason: { code: 'AGENT_OFFLINE' } })).toBe('AGENT_OFFLINE');
    expect(waitReason({ waitReason: { attempts: 3 } })).toBe(show({ attempts: 3 }));
    expect(waitReason({ status: 'queued' })).toBeUndefined();
  });
});
