/** IdleTimer on jest's fake timers (which also move Date.now): fires once idle, to the millisecond. */
import { IdleTimer } from '../../../edge-agent/mllp/idle-timer';

beforeEach(() => jest.useFakeTimers({ now: Date.UTC(2024, 0, 1) }));
afterEach(() => jest.useRealTimers());

function rig(timeoutMs = 1_000) {
  const t0 = Date.now();
  const fired: number[] = [];
  const timer = new IdleTimer(timeoutMs, () => fired.push(Date.now() - t0));
  return { timer, fired };
}

it('fires once, timeoutMs after the last touch', () => {
  const { timer, fired } = rig();
  timer.touch();
  jest.advanceTimersByTime(999);
  expect(fired).toEqual([]);
  jest.advanceTimersByTime(1);
  expect(fired).toEqual([1_000]);
  jest.advanceTimersByTime(10_000);
  expect(fired).toEqual([1_000]);
});

it('a touch during the period moves the deadline, with one timer however many touches', () => {
  const { timer, fired } = rig();
  timer.touch();
  for (let t = 100; t <= 600; t += 100) {
    jest.advanceTimersByTime(100);
    timer.touch();
  }
  expect(jest.getTimerCount()).toBe(1);
  jest.advanceTimersByTime(999); // 1599: the first check (at 1000) re-armed for the rest
  expect(fired).toEqual([]);
  jest.advanceTimersByTime(1);
  expect(fired).toEqual([1_600]);
});

it('a touch after it fired starts a new idle period', () => {
  const { timer, fired } = rig();
  timer.touch();
  jest.advanceTimersByTime(1_000);
  jest.advanceTimersByTime(500);
  timer.touch();
  jest.advanceTimersByTime(1_000);
  expect(fired).toEqual([1_000, 2_500]);
});

it('cancel() stops it; a later touch arms it again', () => {
  const { timer, fired } = rig();
  timer.touch();
  jest.advanceTimersByTime(500);
  timer.cancel();
  jest.advanceTimersByTime(5_000);
  expect(fired).toEqual([]);
  expect(jest.getTimerCount()).toBe(0);
  timer.touch();
  jest.advanceTimersByTime(1_000);
  expect(fired).toEqual([6_500]);
});

it.each([0, -1])('timeoutMs %i disables it: no timer, never fires', (timeoutMs) => {
  const { timer, fired } = rig(timeoutMs);
  timer.touch();
  expect(jest.getTimerCount()).toBe(0);
  jest.advanceTimersByTime(3_600_000);
  expect(fired).toEqual([]);
});

it('never keeps the process alive (its timer is unref’d)', () => {
  const { timer } = rig();
  timer.touch();
  expect((timer as any).timer.hasRef()).toBe(false);
  timer.cancel();
});
