/**
 * The receive side as a device or channel uses it: the LIS01-A2 link (link.ts) feeding AstmInbound,
 * on a manual clock, with a real in-memory sink. The analyser is raw bytes written by the test.
 */
import { AstmInbound, type AstmInboundEvent } from '../../../edge-agent/astm/astm-inbound';
import { AstmLink, type LinkEvent } from '../../../edge-agent/astm/link';
import { RecordingSink, type SinkMode } from '../../support/recording-sink';
import { ManualTimers } from './manual-timers';

const ENQ = '\x05';
const ACK = '\x06';
const NAK = '\x15';
const EOT = '\x04';

function frame(fn: number, text: string, final = true): string {
  const body = `${fn % 8}${text}${final ? '\x03' : '\x17'}`;
  let sum = 0;
  for (const b of Buffer.from(body, 'latin1')) sum += b;
  return `\x02${body}${(sum % 256).toString(16).toUpperCase().padStart(2, '0')}\r\n`;
}

/** A whole transfer as the analyser writes it: ENQ, one frame per record, EOT. */
function transfer(records: string[]): string {
  return ENQ + records.map((r, i) => frame(i + 1, r + '\r')).join('') + EOT;
}

const RESULT_1 = ['H|\\^&|||Analyser^1', 'P|1', 'O|1|S-1||^^^GLU', 'R|1|^^^GLU|5.1|mmol/L||N||F', 'L|1|N'];
const RESULT_2 = ['H|\\^&|||Analyser^1', 'P|1', 'O|1|S-2||^^^NA', 'R|1|^^^NA|140|mmol/L||N||F', 'L|1|N'];
const body = (records: string[]) => records.map((r) => r + '\r').join('');

/** Lets the sink's promises settle. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

function setup(mode: SinkMode = 'accept') {
  const timers = new ManualTimers();
  timers.now = 1_700_000_000_000;
  const sink = new RecordingSink(mode);
  const written: string[] = [];
  const events: (AstmInboundEvent | LinkEvent)[] = [];
  const inbound = new AstmInbound({
    channel: 'chem',
    sink,
    timers,
    now: () => timers.now,
    random: () => 0, // backoff at its fixed half: 500 ms, 1 s, 2 s, …
    onEvent: (e) => events.push(e),
  });
  const link = new AstmLink({
    role: 'computer',
    timers,
    write: (b) => written.push(b.toString('latin1')),
    onMessage: (t) => inbound.receive(t.toString('latin1')),
    onEvent: (e) => events.push(e),
  });
  inbound.attach(link);
  const peer = (s: string) => link.receive(Buffer.from(s, 'latin1'));
  const take = () => written.splice(0).join('');
  return { timers, sink, link, inbound, peer, take, events };
}

describe('ASTM inbound: transfers become submissions', () => {
  it('submits one transfer as one application/astm message of the channel, text as received', async () => {
    const { peer, take, sink, timers } = setup();
    peer(transfer(RESULT_1));
    expect(take()).toBe(ACK.repeat(6)); // ENQ and five frames; EOT is never answered
    await flush();
    expect(sink.accepted).toStrictEqual([
      { channel: 'chem', contentType: 'application/astm', body: body(RESULT_1), receivedAt: timers.now },
    ]);
  });

  it('submits transfers in the order received; an ENQ during a submission is held, then ACKed', async () => {
    const { peer, take, sink, link } = setup('manual');
    peer(transfer(RESULT_1));
    take();
    expect(link.receiveGate).toBe('hold');
    peer(ENQ); // the analyser's next transfer, right after EOT
    expect(take()).toBe('');
    sink.release();
    await flush();
    expect(take()).toBe(ACK);
    peer(RESULT_2.map((r, i) => frame(i + 1, r + '\r')).join('') + EOT);
    await flush();
    sink.release();
    await flush();
    expect(sink.bodies()).toStrictEqual([body(RESULT_1), body(RESULT_2)]);
    expect(link.receiveGate).toBe('open');
  });

  it('a refused transfer closes the gate: ENQs get NAK (busy) until a resubmission is accepted, order kept', async () => {
    const { peer, take, sink, timers, events } = setup('refuse');
    peer(transfer(RESULT_1));
    take();
    await flush();
    expect(events).toContainEqual({ type: 'refused', reason: 'spool full', retryInMs: 500 });
    // The analyser bids with its next result: busy, it keeps it and bids again in 10 s.
    peer(ENQ);
    expect(take()).toBe(NAK);
    timers.advance(500);
    await flush();
    expect(sink.attempts).toHaveLength(2); // resubmitted, refused again (backoff grows)
    peer(ENQ);
    expect(take()).toBe(NAK);
    sink.mode = 'accept';
    timers.advance(1_000);
    await flush();
    expect(sink.bodies()).toStrictEqual([body(RESULT_1)]);
    peer(transfer(RESULT_2));
    expect(take()).toBe(ACK.repeat(6));
    await flush();
    expect(sink.bodies()).toStrictEqual([body(RESULT_1), body(RESULT_2)]);
    expect(sink.attempts.map((a) => a.body)).toStrictEqual([body(RESULT_1), body(RESULT_1), body(RESULT_1), body(RESULT_2)]);
  });

  it('a sink that throws counts as a refusal', async () => {
    const { peer, take, sink, events } = setup('throw');
    peer(transfer(RESULT_1));
    take();
    await flush();
    expect(events).toContainEqual({ type: 'refused', reason: 'the sink is closed', retryInMs: 500 });
    peer(ENQ);
    expect(take()).toBe(NAK);
    expect(sink.accepted).toStrictEqual([]);
  });

  it('an app-mode verdict (the application answered) opens the gate like an accept', async () => {
    const { peer, take, sink, link } = setup('manual');
    peer(transfer(RESULT_1));
    take();
    sink.release({ outcome: 'application', response: 'MSH|…' });
    await flush();
    expect(link.receiveGate).toBe('open');
    expect(sink.bodies()).toStrictEqual([body(RESULT_1)]);
  });

  it('a link dropped mid-message submits nothing of it', async () => {
    const { peer, sink, link, inbound } = setup();
    peer(ENQ + frame(1, RESULT_1[0] + '\r') + frame(2, RESULT_1[1] + '\r'));
    link.close();
    await flush();
    expect(sink.attempts).toStrictEqual([]);
    expect(inbound.pending).toBe(0);
  });

  it('a transfer abandoned for 30 s is discarded; the next one is submitted whole', async () => {
    const { peer, take, sink, timers } = setup();
    peer(ENQ + frame(1, RESULT_1[0] + '\r'));
    timers.advance(30_000);
    await flush();
    expect(sink.attempts).toStrictEqual([]);
    take();
    peer(transfer(RESULT_2));
    await flush();
    expect(sink.bodies()).toStrictEqual([body(RESULT_2)]);
  });

  it('garbage on the line is ignored; a bad frame is NAKed and its good resend kept once', async () => {
    const { peer, take, sink } = setup();
    peer('\x00\xffline noise' + ENQ);
    expect(take()).toBe(ACK);
    peer(frame(1, RESULT_1[0] + '\r').replace(/..\r\n$/, '00\r\n')); // wrong checksum
    expect(take()).toBe(NAK);
    peer('junk' + RESULT_1.map((r, i) => frame(i + 1, r + '\r')).join('') + EOT);
    await flush();
    expect(sink.bodies()).toStrictEqual([body(RESULT_1)]);
  });

  it('a repeated frame (our ACK was lost) is ACKed and not appended twice', async () => {
    const { peer, take, sink } = setup();
    peer(ENQ + frame(1, RESULT_1[0] + '\r') + frame(2, RESULT_1[1] + '\r') + frame(2, RESULT_1[1] + '\r'));
    expect(take()).toBe(ACK.repeat(4));
    peer(
      RESULT_1.slice(2)
        .map((r, i) => frame(i + 3, r + '\r'))
        .join('') + EOT,
    );
    await flush();
    expect(sink.bodies()).toStrictEqual([body(RESULT_1)]);
  });

  it('stop() refuses ENQs and reports the transfers that were never stored', async () => {
    const { peer, take, inbound, events } = setup('refuse');
    peer(transfer(RESULT_1));
    take();
    await flush();
    expect(inbound.stop()).toBe(1);
    expect(events).toContainEqual({ type: 'dropped', transfers: 1 });
    peer(ENQ);
    expect(take()).toBe(NAK);
  });

  it('a link attached while a refusal is pending starts busy (the analyser reconnected)', async () => {
    const { peer, take, inbound, timers } = setup('refuse');
    peer(transfer(RESULT_1));
    take();
    await flush();
    const written: string[] = [];
    const second = new AstmLink({ role: 'computer', timers, write: (b) => written.push(b.toString('latin1')), onMessage: () => undefined });
    inbound.attach(second);
    second.receive(Buffer.from(ENQ, 'latin1'));
    expect(written).toStrictEqual([NAK]);
  });
});
