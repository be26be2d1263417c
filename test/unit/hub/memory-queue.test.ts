import { MemoryQueue, type DispatchOutcome } from '../../../hub/adapters/memory-queue';
import type { QueueItem } from '../../../lambdas/core/records';
import { newPush } from '../../support/records';
import { sleep, waitFor } from '../../support/wait';

const item = (pushId: string, destination = 'lab', agentId = 'agent-1'): QueueItem => ({ pushId, agentId, destination });

/** A dispatcher whose answers the test decides, recording every call. */
function scriptedDispatch(answer: (item: QueueItem, call: number) => DispatchOutcome | Promise<DispatchOutcome>) {
  const calls: string[] = [];
  const fn = async (i: QueueItem, _options: { after?: string }): Promise<DispatchOutcome> => {
    calls.push(i.pushId);
    return answer(i, calls.length);
  };
  return { calls, fn };
}

describe('MemoryQueue', () => {
  let queue: MemoryQueue;
  afterEach(async () => {
    await queue.stop();
  });

  it('delivers a group in FIFO order, one at a time, and groups concurrently', async () => {
    queue = new MemoryQueue();
    const inFlight = new Map<string, number>();
    let maxPerGroup = 0;
    const d = scriptedDispatch(async (i) => {
      const n = (inFlight.get(i.destination) ?? 0) + 1;
      inFlight.set(i.destination, n);
      maxPerGroup = Math.max(maxPerGroup, n);
      await sleep(1);
      inFlight.set(i.destination, n - 1);
      return { done: true };
    });
    queue.start(d.fn);
    for (let i = 0; i < 10; i++) await queue.enqueue(item(`a${i}`, 'A'));
    for (let i = 0; i < 10; i++) await queue.enqueue(item(`b${i}`, 'B'));
    await waitFor(() => queue.size() === 0);
    expect(d.calls).toHaveLength(20);
    expect(d.calls.filter((c) => c.startsWith('a'))).toEqual(Array.from({ length: 10 }, (_, i) => `a${i}`));
    expect(d.calls.filter((c) => c.startsWith('b'))).toEqual(Array.from({ length: 10 }, (_, i) => `b${i}`));
    expect(maxPerGroup).toBe(1);
    // B did not wait for all of A: the groups interleave.
    expect(d.calls.indexOf('b0')).toBeLessThan(d.calls.indexOf('a9'));
  });

  it('redelivers the head after retryAfterMs and holds the rest of its group back', async () => {
    queue = new MemoryQueue();
    const d = scriptedDispatch((i, call) => (i.pushId === 'p1' && call < 3 ? { done: false, retryAfterMs: 20 } : { done: true }));
    queue.start(d.fn);
    await queue.enqueue(item('p1'));
    await queue.enqueue(item('p2'));
    await waitFor(() => d.calls.length === 4);
    expect(d.calls).toEqual(['p1', 'p1', 'p1', 'p2']);
  });

  it('release() of the terminal head lets the next push go without waiting for the timer', async () => {
    queue = new MemoryQueue();
    const d = scriptedDispatch(() => ({ done: false, retryAfterMs: 60_000 }));
    queue.start(d.fn);
    const p1 = newPush({ pushId: 'p1' });
    await queue.enqueue(item('p1'));
    await queue.enqueue(item('p2'));
    await waitFor(() => d.calls.length === 1);
    await queue.release({ ...p1, status: 'queued' }); // not terminal: ignored
    await sleep(10);
    expect(d.calls).toEqual(['p1']);
    // release knows the push by id only, as with an SQS receipt
    await queue.release({ ...p1, status: 'acked', destination: 'elsewhere' });
    await waitFor(() => d.calls.length === 2);
    expect(d.calls).toEqual(['p1', 'p2']);
    expect(queue.size()).toBe(1);
  });

  it('a release that lands while the dispatch is still in flight is not lost', async () => {
    queue = new MemoryQueue();
    let releaseDuringDispatch: (() => Promise<void>) | undefined;
    const d = scriptedDispatch(async (i) => {
      if (i.pushId === 'p1') await releaseDuringDispatch!();
      return { done: false, retryAfterMs: 60_000 };
    });
    releaseDuringDispatch = () => queue.release(newPush({ pushId: 'p1', status: 'acked' }));
    queue.start(d.fn);
    await queue.enqueue(item('p1'));
    await queue.enqueue(item('p2'));
    await waitFor(() => d.calls.length === 2);
    expect(d.calls).toEqual(['p1', 'p2']);
  });

  it("wake(agentId) retries that agent's waiting heads at once, and only that agent's", async () => {
    queue = new MemoryQueue();
    const d = scriptedDispatch(() => ({ done: false, retryAfterMs: 60_000 }));
    queue.start(d.fn);
    await queue.enqueue(item('x1', 'lab', 'agent-x'));
    await queue.enqueue(item('y1', 'lab', 'agent-y'));
    await waitFor(() => d.calls.length === 2);
    await queue.wake('agent-x');
    await waitFor(() => d.calls.length === 3);
    await sleep(20);
    expect(d.calls.slice(2)).toEqual(['x1']);
  });

  it('a wake that arrives during a dispatch skips the following wait (relay connected meanwhile)', async () => {
    queue = new MemoryQueue();
    let first = true;
    const d = scriptedDispatch(async () => {
      if (first) {
        first = false;
        await queue.wake('agent-1');
        return { done: false, retryAfterMs: 60_000 };
      }
      return { done: true };
    });
    queue.start(d.fn);
    await queue.enqueue(item('p1'));
    await waitFor(() => d.calls.length === 2);
  });

  it('deduplicates by pushId, including the head in flight', async () => {
    queue = new MemoryQueue();
    const d = scriptedDispatch(() => ({ done: false, retryAfterMs: 60_000 }));
    queue.start(d.fn);
    await queue.enqueue(item('p1'));
    await queue.enqueue(item('p1'));
    await queue.enqueue(item('p2'));
    await queue.enqueue(item('p2'));
    await sleep(10);
    expect(queue.size()).toBe(2);
    expect(d.calls).toEqual(['p1']);
  });

  it('keeps going after a dispatch that throws, retrying the same head', async () => {
    const errors: unknown[] = [];
    queue = new MemoryQueue({ errorRetryMs: 5, onError: (err) => errors.push(err) });
    const d = scriptedDispatch((_i, call) => {
      if (call === 1) throw new Error('store down');
      return { done: true };
    });
    queue.start(d.fn);
    await queue.enqueue(item('p1'));
    await waitFor(() => d.calls.length === 2);
    expect(errors).toHaveLength(1);
    expect(queue.size()).toBe(0);
  });

  it('holds items enqueued before start, and starts with the rebuilt items first', async () => {
    queue = new MemoryQueue();
    await queue.enqueue(item('late'));
    const d = scriptedDispatch(() => ({ done: true }));
    queue.start(d.fn, [item('old1'), item('old2'), item('late')]);
    await waitFor(() => queue.size() === 0);
    expect(d.calls).toEqual(['late', 'old1', 'old2']);
  });

  it('stop() waits for the dispatch in flight and delivers nothing more', async () => {
    queue = new MemoryQueue();
    let finished = false;
    const d = scriptedDispatch(async () => {
      await sleep(30);
      finished = true;
      return { done: true };
    });
    queue.start(d.fn);
    await queue.enqueue(item('p1'));
    await queue.enqueue(item('p2'));
    await waitFor(() => d.calls.length === 1);
    await queue.stop();
    expect(finished).toBe(true);
    await sleep(50);
    expect(d.calls).toEqual(['p1']);
  });

  it('parks a group whose agent has no relay until wake(), instead of polling it', async () => {
    queue = new MemoryQueue();
    let online = false;
    const d = scriptedDispatch(() => (online ? { done: true } : { done: false, retryAfterMs: 5, waitForRelay: true }));
    queue.start(d.fn);
    for (let i = 0; i < 50; i++) await queue.enqueue(item(`g${i}`, `dest-${i}`));
    await waitFor(() => d.calls.length === 50);
    // With a 5 ms retry, polling would have made hundreds of calls by now.
    await sleep(200);
    expect(d.calls).toHaveLength(50);
    online = true;
    await queue.wake('agent-1');
    await waitFor(() => queue.size() === 0);
    expect(d.calls).toHaveLength(100);
  });

  it('hands an item waiting behind its head to onExpire at its expiresAt', async () => {
    const expired: string[] = [];
    queue = new MemoryQueue({
      onExpire: (i) => {
        expired.push(i.pushId);
        return queue.release(newPush({ pushId: i.pushId, status: 'expired' }));
      },
    });
    // The head never finishes; the item behind it is never dispatched.
    const d = scriptedDispatch(() => ({ done: false, retryAfterMs: 60_000 }));
    queue.start(d.fn);
    await queue.enqueue({ ...item('head'), expiresAt: Date.now() + 60_000 });
    await queue.enqueue({ ...item('behind'), expiresAt: Date.now() + 50 });
    await queue.enqueue({ ...item('later'), expiresAt: Date.now() + 30_000 });
    await waitFor(() => expired.length === 1);
    expect(expired).toEqual(['behind']);
    expect(queue.size()).toBe(2);
    expect(d.calls).toEqual(['head']);
  });
});

describe('MemoryQueue pipelining window', () => {
  let queue: MemoryQueue;
  afterEach(async () => {
    await queue.stop();
  });

  /** Every dispatch with the `after` it was given ('-' for none). */
  function recordingDispatch(answer: (item: QueueItem, after: string | undefined) => DispatchOutcome) {
    const calls: string[] = [];
    const fn = (i: QueueItem, options: { after?: string }): Promise<DispatchOutcome> => {
      calls.push(`${i.pushId}<${options.after ?? '-'}`);
      return Promise.resolve(answer(i, options.after));
    };
    return { calls, fn };
  }
  const WAITING: DispatchOutcome = { done: false, retryAfterMs: 60_000, inFlight: true };
  const acked = (pushId: string) => queue.release(newPush({ pushId, status: 'acked' }));

  it('sends the next items while the ones before wait at the relay, in order, each after the one before, up to the window', async () => {
    queue = new MemoryQueue({ window: 3 });
    const d = recordingDispatch(() => WAITING);
    queue.start(d.fn);
    for (let i = 0; i < 5; i++) await queue.enqueue(item(`p${i}`));
    await waitFor(() => d.calls.length === 3);
    await sleep(20);
    expect(d.calls).toStrictEqual(['p0<-', 'p1<p0', 'p2<p1']);
    // The head's result lets the window move by one.
    await acked('p0');
    await waitFor(() => d.calls.length === 4);
    await sleep(20);
    expect(d.calls).toStrictEqual(['p0<-', 'p1<p0', 'p2<p1', 'p3<p2']);
    expect(queue.size()).toBe(4);
  });

  it('stops at the first outcome that is not inFlight, until that item is released', async () => {
    queue = new MemoryQueue();
    // p1 was sent again after a failed attempt: a plain retry, no window behind it.
    const d = recordingDispatch((i) => (i.pushId === 'p1' ? { done: false, retryAfterMs: 60_000 } : WAITING));
    queue.start(d.fn);
    for (let i = 0; i < 4; i++) await queue.enqueue(item(`p${i}`));
    await waitFor(() => d.calls.length === 2);
    await sleep(20);
    expect(d.calls).toStrictEqual(['p0<-', 'p1<p0']);
    await acked('p1');
    await waitFor(() => d.calls.length === 4);
    expect(d.calls).toStrictEqual(['p0<-', 'p1<p0', 'p2<p0', 'p3<p2']);
  });

  it('window 1 dispatches one at a time, as before pipelining', async () => {
    queue = new MemoryQueue({ window: 1 });
    const d = recordingDispatch(() => WAITING);
    queue.start(d.fn);
    await queue.enqueue(item('p0'));
    await queue.enqueue(item('p1'));
    await waitFor(() => d.calls.length === 1);
    await sleep(20);
    expect(d.calls).toStrictEqual(['p0<-']);
    await acked('p0');
    await waitFor(() => d.calls.length === 2);
    expect(d.calls).toStrictEqual(['p0<-', 'p1<-']);
  });

  it('refuses a window below 1', () => {
    expect(() => new MemoryQueue({ window: 0 })).toThrow('window must be a whole number, 1 or more, got 0');
    queue = new MemoryQueue();
  });

  it("starts over from the head when the head's wait for its result is over", async () => {
    queue = new MemoryQueue();
    const d = recordingDispatch((i) => (i.pushId === 'p0' ? { ...WAITING, retryAfterMs: 30 } : WAITING));
    queue.start(d.fn);
    await queue.enqueue(item('p0'));
    await queue.enqueue(item('p1'));
    await waitFor(() => d.calls.length >= 4);
    expect(d.calls.slice(0, 4)).toStrictEqual(['p0<-', 'p1<p0', 'p0<-', 'p1<p0']);
  });

  it('after a retryable failure, the head waits out its backoff and the bounced pushes behind it go again only after it, in order', async () => {
    queue = new MemoryQueue();
    // What the core does, in miniature: a queued push is posted (sent); a sent one waits.
    type State = { status: 'queued' | 'sent'; error?: string; retryAt?: number };
    const state = new Map<string, State>();
    const posts: string[] = [];
    const d = recordingDispatch((i, after) => {
      const s = state.get(i.pushId)!;
      if (s.retryAt !== undefined && s.retryAt > Date.now()) return { done: false, retryAfterMs: s.retryAt - Date.now() };
      if (s.status === 'sent') return WAITING;
      s.status = 'sent';
      posts.push(`${i.pushId}<${after ?? '-'}`);
      return s.error === undefined ? WAITING : { done: false, retryAfterMs: 60_000 };
    });
    queue.start(d.fn);
    for (let i = 0; i < 4; i++) {
      state.set(`p${i}`, { status: 'queued' });
      await queue.enqueue(item(`p${i}`));
    }
    await waitFor(() => posts.length === 4);
    expect(posts).toStrictEqual(['p0<-', 'p1<p0', 'p2<p1', 'p3<p2']);
    await acked('p0');
    // The device refuses p1 (retry in 300 ms); the relay bounces p2 and p3, unsent.
    state.set('p1', { status: 'queued', error: 'device down', retryAt: Date.now() + 300 });
    state.set('p2', { status: 'queued', error: 'not sent: the push before it was not delivered' });
    state.set('p3', { status: 'queued', error: 'not sent: the push before it was not delivered' });
    await queue.wake('agent-1');
    await sleep(30);
    expect(posts).toHaveLength(4); // nothing overtakes p1 during its backoff
    await waitFor(() => posts.length === 5);
    await sleep(20);
    // Sent again after a failure: no window behind it.
    expect(posts.slice(4)).toStrictEqual(['p1<-']);
    await acked('p1');
    await waitFor(() => posts.length === 6);
    await acked('p2');
    await waitFor(() => posts.length === 7);
    expect(posts.slice(4)).toStrictEqual(['p1<-', 'p2<-', 'p3<-']);
  });

  it('re-dispatches a bounced push behind pushes still waiting, after them', async () => {
    queue = new MemoryQueue();
    const bounced = new Set<string>();
    const posts: string[] = [];
    const d = recordingDispatch((i, after) => {
      if (!posts.some((p) => p.startsWith(`${i.pushId}<`)) || bounced.delete(i.pushId)) posts.push(`${i.pushId}<${after ?? '-'}`);
      return WAITING;
    });
    queue.start(d.fn);
    for (let i = 0; i < 3; i++) await queue.enqueue(item(`p${i}`));
    await waitFor(() => posts.length === 3);
    // p2 came back unsent (its predecessor's turn had not come on a relay that restarted, say).
    bounced.add('p2');
    await queue.wake('agent-1');
    await waitFor(() => posts.length === 4);
    await sleep(20);
    expect(posts).toStrictEqual(['p0<-', 'p1<p0', 'p2<p1', 'p2<p1']);
    // The re-walk passed p0 and p1 first, in order.
    expect(d.calls.slice(3)).toStrictEqual(['p0<-', 'p1<p0', 'p2<p1']);
  });

  it('expires items behind a stuck head on time, in the window (sent ahead) and beyond it', async () => {
    const expired: string[] = [];
    queue = new MemoryQueue({
      window: 2,
      onExpire: (i, sentAhead) => {
        expired.push(`${i.pushId}:${sentAhead ? 'sent ahead' : 'queued'}`);
        return queue.release(newPush({ pushId: i.pushId, status: 'expired' }));
      },
    });
    const d = recordingDispatch(() => WAITING);
    queue.start(d.fn);
    await queue.enqueue({ ...item('head'), expiresAt: Date.now() + 60_000 });
    // The same instant, so one timer turn finds both where they stand.
    const expiresAt = Date.now() + 50;
    await queue.enqueue({ ...item('second'), expiresAt });
    await queue.enqueue({ ...item('behind'), expiresAt });
    await queue.enqueue({ ...item('later'), expiresAt: Date.now() + 30_000 });
    await waitFor(() => d.calls.length === 2);
    expect(d.calls).toStrictEqual(['head<-', 'second<head']);
    await waitFor(() => expired.length === 2);
    expect(expired).toStrictEqual(['second:sent ahead', 'behind:queued']);
    // The window moved on past the expired one: the next item goes right after the head.
    await waitFor(() => d.calls.length === 3);
    await sleep(20);
    expect(d.calls).toStrictEqual(['head<-', 'second<head', 'later<head']);
    expect(queue.size()).toBe(2);
  });
});
