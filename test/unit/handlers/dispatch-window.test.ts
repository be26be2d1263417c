/**
 * The dispatcher's batch logic for one message group: which records are sent (and after which),
 * which are reported as batch item failures, and which are made visible again unattempted.
 */
import { DEFAULT_DISPATCH_WINDOW, dispatchWindowFromEnv, runGroup, type RecordAttempt } from '../../../lambdas/handlers/dispatch-window';

/** Runs records r1..rn whose attempts answer as scripted; returns what each attempt was given. */
async function run(outcomes: RecordAttempt['outcome'][], window: number) {
  const records = outcomes.map((_, i) => `r${i + 1}`);
  const calls: Array<[string, string | undefined]> = [];
  const result = await runGroup(records, window, async (record, after) => {
    calls.push([record, after]);
    const outcome = outcomes[records.indexOf(record)];
    return Promise.resolve(outcome === 'inFlight' ? { outcome, pushId: `p-${record}` } : { outcome });
  });
  return { calls, ...result };
}

describe('runGroup: pipelining within one FIFO batch', () => {
  it('sends every record waiting for its result, each after the one before', async () => {
    const r = await run(['inFlight', 'inFlight', 'inFlight'], 10);
    expect(r.calls).toStrictEqual([
      ['r1', undefined],
      ['r2', 'p-r1'],
      ['r3', 'p-r2'],
    ]);
    expect(r.failed).toStrictEqual(['r1', 'r2', 'r3']);
    expect(r.notAttempted).toStrictEqual([]);
  });

  it('skips over done records, keeping the last waiting push as `after`', async () => {
    const r = await run(['done', 'inFlight', 'done', 'inFlight'], 10);
    expect(r.calls).toStrictEqual([
      ['r1', undefined],
      ['r2', undefined],
      ['r3', 'p-r2'],
      ['r4', 'p-r2'],
    ]);
    expect(r.failed).toStrictEqual(['r2', 'r4']);
  });

  it('stops at the first record not done for another reason; the rest are failed unattempted', async () => {
    const r = await run(['inFlight', 'retry', 'inFlight', 'inFlight'], 10);
    expect(r.calls.map(([rec]) => rec)).toStrictEqual(['r1', 'r2']);
    expect(r.failed).toStrictEqual(['r1', 'r2', 'r3', 'r4']);
    expect(r.notAttempted).toStrictEqual(['r3', 'r4']);
  });

  it('stops once the window is full', async () => {
    const r = await run(['inFlight', 'inFlight', 'inFlight', 'inFlight'], 2);
    expect(r.calls.map(([rec]) => rec)).toStrictEqual(['r1', 'r2']);
    expect(r.failed).toStrictEqual(['r1', 'r2', 'r3', 'r4']);
    expect(r.notAttempted).toStrictEqual(['r3', 'r4']);
  });

  it('a window of 1 is one push at a time, as before pipelining', async () => {
    const r = await run(['done', 'inFlight', 'inFlight'], 1);
    expect(r.calls.map(([rec]) => rec)).toStrictEqual(['r1', 'r2']);
    expect(r.failed).toStrictEqual(['r2', 'r3']);
    expect(r.notAttempted).toStrictEqual(['r3']);
  });
});

describe('runGroup: a record being posted lets the next one start', () => {
  /** Each record's post reaches the relay unless listed in `lost`; posts wait for their gate. */
  async function runSending(n: number, window: number, lost: string[] = []) {
    const records = Array.from({ length: n }, (_, i) => `r${i + 1}`);
    const gates: Array<[string, boolean | undefined]> = [];
    const result = await runGroup(records, window, async (record, _after, gate) => {
      const gateOk = gate === undefined ? true : await gate;
      gates.push([record, gate === undefined ? undefined : gateOk]);
      const posted = Promise.resolve(gateOk && !lost.includes(record));
      const settled = posted.then((ok): RecordAttempt => (ok ? { outcome: 'inFlight', pushId: `p-${record}` } : { outcome: 'retry' }));
      return { outcome: 'sending' as const, pushId: `p-${record}`, posted, settled };
    });
    return { gates, ...result };
  }

  it('chains each post to the one before; all waiting records are failures, none left unattempted', async () => {
    const r = await runSending(3, 10);
    expect(r.gates).toStrictEqual([
      ['r1', undefined],
      ['r2', true],
      ['r3', true],
    ]);
    expect(r.failed).toStrictEqual(['r1', 'r2', 'r3']);
    expect(r.notAttempted).toStrictEqual([]);
  });

  it('a post that does not reach the relay closes the gate for every later one', async () => {
    const r = await runSending(4, 10, ['r2']);
    expect(r.gates).toStrictEqual([
      ['r1', undefined],
      ['r2', true],
      ['r3', false],
      ['r4', false],
    ]);
    expect(r.failed).toStrictEqual(['r1', 'r2', 'r3', 'r4']);
  });

  it('counts records being posted against the window', async () => {
    const r = await runSending(5, 3);
    expect(r.gates.map(([rec]) => rec)).toStrictEqual(['r1', 'r2', 'r3']);
    expect(r.notAttempted).toStrictEqual(['r4', 'r5']);
    expect(r.failed).toStrictEqual(['r1', 'r2', 'r3', 'r4', 'r5']);
  });
});

describe('dispatchWindowFromEnv', () => {
  it('defaults to the batch size', () => {
    expect(dispatchWindowFromEnv({})).toBe(DEFAULT_DISPATCH_WINDOW);
    expect(DEFAULT_DISPATCH_WINDOW).toBe(10);
    expect(dispatchWindowFromEnv({ EDGEPUSH_DISPATCH_WINDOW: '' })).toBe(10);
  });

  it('takes 1 to 10', () => {
    expect(dispatchWindowFromEnv({ EDGEPUSH_DISPATCH_WINDOW: '1' })).toBe(1);
    expect(dispatchWindowFromEnv({ EDGEPUSH_DISPATCH_WINDOW: '10' })).toBe(10);
  });

  it.each(['0', '11', '2.5', 'ten', '-1'])('refuses %s with a clear error', (raw) => {
    expect(() => dispatchWindowFromEnv({ EDGEPUSH_DISPATCH_WINDOW: raw })).toThrow(
      `EDGEPUSH_DISPATCH_WINDOW must be a whole number from 1 to 10, got ${JSON.stringify(raw)}`,
    );
  });
});
