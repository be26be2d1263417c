/**
 * The forwarder's lanes on jest's fake timers, against a scripted link (what the relay would
 * send on the WebSocket) and, for `fast`, the real spool in a temp dir (fsync off).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { InboundMessage } from '../../../protocol/messages';
import { DirectLane } from '../../../edge-agent/relay/direct-lane';
import type { InboundVerdict } from '../../../edge-agent/relay/inbound-sink';
import { Spool } from '../../../edge-agent/relay/spool';
import { SpooledLane } from '../../../edge-agent/relay/spooled-lane';

const logger = pino({ enabled: false });

class Link {
  open = false;
  sent: InboundMessage[] = [];
  send(text: string): boolean {
    if (!this.open) return false;
    this.sent.push(JSON.parse(text) as InboundMessage);
    return true;
  }
  isOpen(): boolean {
    return this.open;
  }
  ids(): string[] {
    return this.sent.map((m) => m.controlId ?? '');
  }
}

const sub = (controlId: string, channel = 'lab') => ({
  channel,
  contentType: 'x-application/hl7-v2+er7',
  body: `MSH|^~\\&|||||||ORU^R01|${controlId}|P|2.5.1`,
  receivedAt: 1,
  controlId,
  messageType: 'ORU^R01',
});

// Spool appends run on libuv's threads and setImmediate: only the timers are fake.
beforeEach(() => jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] }));
afterEach(() => jest.useRealTimers());

describe('SpooledLane (fast)', () => {
  let dir: string;
  const lanes: SpooledLane[] = [];
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'lane-'))));
  afterEach(async () => {
    for (const l of lanes.splice(0)) await l.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const lane = (link: Link): SpooledLane => {
    const l = new SpooledLane({
      channel: 'lab',
      openSpool: () => Spool.open(dir, { fsync: false }),
      eager: true,
      spoolExists: false,
      link,
      logger,
      retry: { initialDelayMs: 1_000, maxDelayMs: 8_000 },
      answerTimeoutMs: 30_000,
      random: () => 1,
    });
    lanes.push(l);
    return l;
  };

  it('accepts while offline, then sends one at a time in order, each after the previous inboundAck', async () => {
    const link = new Link();
    const l = lane(link);
    const stored = jest.fn();
    expect(await l.submit(sub('M1'), { stored })).toStrictEqual({ outcome: 'accepted' });
    await l.submit(sub('M2'));
    await l.submit(sub('M3'));
    expect(stored).toHaveBeenCalledTimes(1);
    expect(link.sent).toStrictEqual([]);
    link.open = true;
    l.onOpen();
    expect(link.ids()).toStrictEqual(['M1']);
    expect(link.sent[0]).toMatchObject({ action: 'inbound', v: 2, channel: 'lab', ack: 'fast', messageType: 'ORU^R01' });
    l.onInboundAck('not-ours');
    expect(link.ids()).toStrictEqual(['M1']);
    l.onInboundAck(link.sent[0].inboundId);
    l.onInboundAck(link.sent[1].inboundId);
    l.onInboundAck(link.sent[2].inboundId);
    expect(link.ids()).toStrictEqual(['M1', 'M2', 'M3']);
    expect(l.pending).toBe(0);
  });

  it('keeps a message the cloud refused and sends it again, same inboundId, after a growing backoff', async () => {
    const link = new Link();
    link.open = true;
    const l = lane(link);
    await l.submit(sub('M1'));
    await l.submit(sub('M2'));
    const id = link.sent[0].inboundId;
    l.onError({ type: 'error', v: 2, code: 'INTERNAL', error: 'store down', inboundId: id });
    jest.advanceTimersByTime(999);
    expect(link.sent).toHaveLength(1);
    jest.advanceTimersByTime(1);
    expect(link.sent.map((m) => m.inboundId)).toStrictEqual([id, id]);
    l.onError({ type: 'error', v: 2, code: 'INTERNAL', error: 'store down', inboundId: id });
    jest.advanceTimersByTime(1_999);
    expect(link.sent).toHaveLength(2);
    jest.advanceTimersByTime(1);
    expect(link.sent).toHaveLength(3);
    l.onInboundAck(id);
    expect(link.ids()).toStrictEqual(['M1', 'M1', 'M1', 'M2']);
  });

  it('sends again when the cloud neither stores nor refuses within the answer timeout', async () => {
    const link = new Link();
    link.open = true;
    const l = lane(link);
    await l.submit(sub('M1'));
    jest.advanceTimersByTime(30_000);
    expect(link.ids()).toStrictEqual(['M1', 'M1']);
    expect(link.sent[1].inboundId).toBe(link.sent[0].inboundId);
  });

  it('after a reconnect or a restart, sends the unacknowledged ones again with their inboundIds', async () => {
    const link = new Link();
    link.open = true;
    const l = lane(link);
    await l.submit(sub('M1'));
    await l.submit(sub('M2'));
    l.onInboundAck(link.sent[0].inboundId);
    const m2 = link.sent[1].inboundId;
    l.onOpen(); // the connection was replaced
    expect(link.sent.slice(2).map((m) => m.inboundId)).toStrictEqual([m2]);
    await l.stop();
    lanes.splice(lanes.indexOf(l), 1);

    const link2 = new Link();
    link2.open = true;
    const again = lane(link2);
    again.onOpen();
    expect(link2.sent.map((m) => [m.controlId, m.inboundId])).toStrictEqual([['M2', m2]]);
  });

  it('answers refused when the spool is full', async () => {
    const link = new Link();
    const l = new SpooledLane({
      channel: 'lab',
      openSpool: () => Spool.open(dir, { fsync: false, maxBytes: 300 }),
      eager: true,
      spoolExists: false,
      link,
      logger,
      retry: { initialDelayMs: 1_000, maxDelayMs: 8_000 },
      answerTimeoutMs: 30_000,
    });
    lanes.push(l);
    expect(await l.submit(sub('M1'))).toStrictEqual({ outcome: 'accepted' });
    expect(await l.submit(sub('M2'))).toStrictEqual({ outcome: 'refused', reason: 'relay spool is full; send again later' });
  });
});

describe('DirectLane (cloud, app)', () => {
  const lane = (link: Link, mode: 'cloud' | 'app' = 'cloud') => new DirectLane({ channel: 'adt', mode, timeoutMs: 10_000, link, logger });
  const verdicts = (p: Promise<InboundVerdict>, into: InboundVerdict[]) => void p.then((v) => into.push(v));
  const flush = () => Promise.resolve().then(() => undefined);

  it('cloud: AA on inboundAck, one message in flight at a time, in order', async () => {
    const link = new Link();
    link.open = true;
    const l = lane(link);
    const out: InboundVerdict[] = [];
    verdicts(l.submit(sub('C1')), out);
    verdicts(l.submit(sub('C2')), out);
    expect(link.ids()).toStrictEqual(['C1']);
    expect(link.sent[0].ack).toBe('cloud');
    l.onInboundAck(link.sent[0].inboundId);
    expect(link.ids()).toStrictEqual(['C1', 'C2']);
    l.onInboundAck(link.sent[1].inboundId);
    await flush();
    expect(out).toStrictEqual([{ outcome: 'accepted' }, { outcome: 'accepted' }]);
  });

  it('cloud: refused at the timeout, never sent afterwards; the next one goes', async () => {
    const link = new Link();
    const l = lane(link);
    const out: InboundVerdict[] = [];
    verdicts(l.submit(sub('C1')), out);
    jest.advanceTimersByTime(5_000);
    verdicts(l.submit(sub('C2')), out);
    jest.advanceTimersByTime(5_000);
    await flush();
    expect(out).toStrictEqual([{ outcome: 'refused', reason: 'the cloud did not confirm storing it within 10000 ms' }]);
    link.open = true;
    l.onOpen();
    expect(link.ids()).toStrictEqual(['C2']);
  });

  it('cloud: refused with the code on an error for its inboundId; resent on reconnect with the same id', async () => {
    const link = new Link();
    link.open = true;
    const l = lane(link);
    const out: InboundVerdict[] = [];
    verdicts(l.submit(sub('C1')), out);
    l.onOpen();
    expect(link.sent.map((m) => m.inboundId)).toStrictEqual([link.sent[0].inboundId, link.sent[0].inboundId]);
    l.onError({ type: 'error', v: 2, code: 'UNKNOWN_CHANNEL', error: 'x', inboundId: link.sent[0].inboundId });
    await flush();
    expect(out).toStrictEqual([{ outcome: 'refused', reason: 'the cloud did not store it (UNKNOWN_CHANNEL)' }]);
  });

  it("app: stored on inboundAck (the next is sent), then the application's ACK or its error", async () => {
    const link = new Link();
    link.open = true;
    const l = lane(link, 'app');
    const out: InboundVerdict[] = [];
    const stored = jest.fn();
    verdicts(l.submit(sub('A1'), { stored }), out);
    verdicts(l.submit(sub('A2')), out);
    const [a1] = link.sent;
    l.onInboundAck(a1.inboundId);
    expect(stored).toHaveBeenCalledTimes(1);
    expect(link.ids()).toStrictEqual(['A1', 'A2']);
    l.onAppAck({ type: 'appAck', v: 2, inboundId: a1.inboundId, messageId: 'm1', response: 'MSH|...\rMSA|AA|A1\r' });
    l.onInboundAck(link.sent[1].inboundId);
    l.onAppAck({ type: 'appAck', v: 2, inboundId: link.sent[1].inboundId, messageId: 'm2', error: 'webhook 500' });
    await flush();
    expect(out).toStrictEqual([
      { outcome: 'application', response: 'MSH|...\rMSA|AA|A1\r' },
      { outcome: 'refused', reason: 'the application did not acknowledge it: webhook 500' },
    ]);
  });

  it('app: refused at the timeout when the application is silent; a late appAck is dropped', async () => {
    const link = new Link();
    link.open = true;
    const l = lane(link, 'app');
    const out: InboundVerdict[] = [];
    verdicts(l.submit(sub('A1')), out);
    const id = link.sent[0].inboundId;
    l.onInboundAck(id);
    jest.advanceTimersByTime(10_000);
    await flush();
    expect(out).toStrictEqual([{ outcome: 'refused', reason: 'no application ACK within 10000 ms' }]);
    l.onAppAck({ type: 'appAck', v: 2, inboundId: id, messageId: 'm1', response: 'late' });
    await flush();
    expect(out).toHaveLength(1);
    expect(l.owns(id)).toBe(false);
  });
});
