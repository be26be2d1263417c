/**
 * Liveness on jest's fake timers (which also move Date.now): heartbeats every intervalMs, and a
 * peer silent for timeoutMs after a heartbeat is declared dead, to the millisecond.
 */
import { Liveness } from '../../../edge-agent/relay/liveness';

const INTERVAL = 1_000;
const TIMEOUT = 500;

function rig(intervalMs = INTERVAL, timeoutMs = TIMEOUT) {
  const beats: number[] = [];
  const dead: { at: number; silentForMs: number }[] = [];
  const t0 = Date.now();
  const liveness = new Liveness({
    intervalMs,
    timeoutMs,
    sendHeartbeat: () => beats.push(Date.now() - t0),
    onDead: (silentForMs) => dead.push({ at: Date.now() - t0, silentForMs }),
  });
  return { liveness, beats, dead };
}

beforeEach(() => jest.useFakeTimers({ now: Date.UTC(2024, 0, 1) }));
afterEach(() => jest.useRealTimers());

it('sends a heartbeat every intervalMs while the peer answers', () => {
  const { liveness, beats, dead } = rig();
  liveness.start();
  for (let i = 0; i < 5; i++) {
    jest.advanceTimersByTime(INTERVAL);
    liveness.heard(); // the peer answers each heartbeat
  }
  expect(beats).toEqual([1_000, 2_000, 3_000, 4_000, 5_000]);
  expect(dead).toEqual([]);
  liveness.stop();
});

it('declares a silent peer dead exactly timeoutMs after the first unanswered heartbeat', () => {
  const { liveness, dead } = rig();
  liveness.start();
  jest.advanceTimersByTime(INTERVAL + TIMEOUT - 1);
  expect(dead).toEqual([]);
  jest.advanceTimersByTime(1);
  expect(dead).toEqual([{ at: 1_500, silentForMs: 1_500 }]);
  liveness.stop();
});

it('anything heard before the deadline clears it; silence is counted from the last thing heard', () => {
  const { liveness, dead } = rig();
  liveness.start();
  jest.advanceTimersByTime(1_400); // heartbeat at 1000, deadline 1500
  liveness.heard();
  jest.advanceTimersByTime(1_099); // 2499: heartbeat at 2000, deadline 2500
  expect(dead).toEqual([]);
  jest.advanceTimersByTime(1);
  expect(dead).toEqual([{ at: 2_500, silentForMs: 1_100 }]);
  liveness.stop();
});

it('keeps one deadline while heartbeats go unanswered (timeoutMs longer than intervalMs)', () => {
  const { liveness, beats, dead } = rig(1_000, 2_500);
  liveness.start();
  jest.advanceTimersByTime(3_499);
  expect(beats).toEqual([1_000, 2_000, 3_000]);
  expect(dead).toEqual([]);
  jest.advanceTimersByTime(1); // the first heartbeat's deadline, not re-armed by the later ones
  expect(dead).toEqual([{ at: 3_500, silentForMs: 3_500 }]);
  // The heartbeats at 2000 and 3000 set no deadlines of their own; the next is 4000's, at 6500.
  jest.advanceTimersByTime(2_999);
  expect(dead).toHaveLength(1);
  jest.advanceTimersByTime(1);
  expect(dead).toEqual([
    { at: 3_500, silentForMs: 3_500 },
    { at: 6_500, silentForMs: 6_500 },
  ]);
  liveness.stop();
});

it('a peer that keeps talking is never declared dead, however long', () => {
  const { liveness, dead } = rig();
  liveness.start();
  for (let t = 0; t < 60_000; t += 400) {
    jest.advanceTimersByTime(400);
    liveness.heard();
  }
  expect(dead).toEqual([]);
  liveness.stop();
});

it('stop() ends heartbeats and a pending deadline', () => {
  const { liveness, beats, dead } = rig();
  liveness.start();
  jest.advanceTimersByTime(INTERVAL); // a deadline is pending now
  liveness.stop();
  jest.advanceTimersByTime(10 * INTERVAL);
  expect(beats).toEqual([1_000]);
  expect(dead).toEqual([]);
  expect(jest.getTimerCount()).toBe(0);
});

it('start() counts silence from the start, not from construction', () => {
  const { liveness, dead } = rig();
  jest.advanceTimersByTime(10_000); // constructed long before the socket opened
  liveness.start();
  jest.advanceTimersByTime(INTERVAL + TIMEOUT);
  expect(dead).toEqual([{ at: 11_500, silentForMs: 1_500 }]);
  liveness.stop();
});

it('never keeps the process alive (its timers are unref’d)', () => {
  const { liveness } = rig();
  liveness.start();
  jest.advanceTimersByTime(INTERVAL); // arms the deadline too
  expect((liveness as any).interval.hasRef()).toBe(false);
  expect((liveness as any).deadline.hasRef()).toBe(false);
  liveness.stop();
});
