/**
 * The LIS01-A2 link state machine, one rule per test, on a manual clock. The peer is raw bytes
 * written by the test (its own frames built by hand below, not by our encoder), so the link is
 * checked against the standard rather than against itself.
 */
import { AstmLink, type AstmLinkOptions, type LinkEvent } from '../../../edge-agent/astm/link';
import { ManualTimers } from './manual-timers';

const ENQ = '\x05';
const ACK = '\x06';
const NAK = '\x15';
const EOT = '\x04';

/** A frame written independently of the product's encoder. */
function frame(fn: number, text: string, final = true): string {
  const body = `${fn % 8}${text}${final ? '\x03' : '\x17'}`;
  let sum = 0;
  for (const b of Buffer.from(body, 'latin1')) sum += b;
  return `\x02${body}${(sum % 256).toString(16).toUpperCase().padStart(2, '0')}\r\n`;
}

function setup(role: AstmLinkOptions['role'] = 'computer', extra: Partial<AstmLinkOptions> = {}) {
  const timers = new ManualTimers();
  const written: string[] = [];
  const messages: string[] = [];
  const events: LinkEvent[] = [];
  const link = new AstmLink({
    role,
    timers,
    write: (b) => written.push(b.toString('latin1')),
    onMessage: (t) => messages.push(t.toString('latin1')),
    onEvent: (e) => events.push(e),
    ...extra,
  });
  const peer = (s: string) => link.receive(Buffer.from(s, 'latin1'));
  const take = () => written.splice(0);
  return { link, timers, written, messages, events, peer, take };
}

const ORDER = 'H|\\^&\rP|1\rO|1|S1||^^^GLU\rL|1|N\r';

describe('ASTM link: sending', () => {
  it('bids with ENQ, sends one frame per record after ACK, ends with EOT and resolves', async () => {
    const { link, peer, take } = setup();
    let done = false;
    const sent = link.send(Buffer.from(ORDER)).then(() => (done = true));
    expect(take()).toEqual([ENQ]);
    peer(ACK);
    expect(take()).toEqual([frame(1, 'H|\\^&\r')]);
    peer(ACK);
    expect(take()).toEqual([frame(2, 'P|1\r')]);
    peer(ACK);
    expect(take()).toEqual([frame(3, 'O|1|S1||^^^GLU\r')]);
    await Promise.resolve();
    expect(done).toBe(false);
    peer(ACK);
    expect(take()).toEqual([frame(4, 'L|1|N\r')]);
    peer(ACK);
    expect(take()).toEqual([EOT]);
    await sent;
    expect(link.state).toBe('NEUTRAL');
  });

  it('numbers frames 1..7, 0, 1 across a long transfer', async () => {
    const { link, peer, take } = setup();
    const records = Array.from({ length: 10 }, (_, i) => `R|${i + 1}|v\r`).join('');
    const sent = link.send(Buffer.from('H|\\^&\r' + records + 'L|1|N\r'));
    take();
    const fns: string[] = [];
    for (let i = 0; i < 12; i++) {
      peer(ACK);
      const [f] = take();
      if (f === EOT) break;
      fns.push(f[1]);
    }
    peer(ACK);
    expect(fns.join('')).toBe('123456701234');
    await sent;
  });

  it('continues a record over 240 characters with ETB frames', async () => {
    const { link, peer, take } = setup();
    const long = 'C|1|I|' + 'z'.repeat(300) + '|G';
    const sent = link.send(Buffer.from(`H|\\^&\r${long}\rL|1|N\r`));
    take();
    peer(ACK);
    take(); // H
    peer(ACK);
    const [first] = take();
    expect(first).toBe(frame(2, long.slice(0, 240), false));
    peer(ACK);
    expect(take()).toEqual([frame(3, long.slice(240) + '\r', true)]);
    peer(ACK);
    peer(ACK);
    expect(take()).toEqual([frame(4, 'L|1|N\r'), EOT]);
    await sent;
  });

  it('a NAK to ENQ means busy: no new bid for 10 s', () => {
    const { link, peer, take, timers } = setup();
    void link.send(Buffer.from(ORDER)).catch(() => undefined);
    take();
    peer(NAK);
    timers.advance(9_999);
    expect(take()).toEqual([]);
    timers.advance(1);
    expect(take()).toEqual([ENQ]);
  });

  it('sends a NAKed frame again, and aborts with EOT after six refusals (NAK_LIMIT)', async () => {
    const { link, peer, take } = setup();
    const sent = link.send(Buffer.from('H|\\^&\rL|1|N\r'));
    take();
    peer(ACK);
    const first = take();
    for (let i = 0; i < 5; i++) {
      peer(NAK);
      expect(take()).toEqual(first); // the same frame, the same number
    }
    peer(NAK);
    expect(take()).toEqual([EOT]);
    await expect(sent).rejects.toMatchObject({ code: 'NAK_LIMIT' });
  });

  it('treats any other reply to a frame as a NAK', async () => {
    const { link, peer, take } = setup();
    const sent = link.send(Buffer.from('H|\\^&\r'));
    take();
    peer(ACK);
    const first = take();
    peer('x');
    expect(take()).toEqual(first);
    peer(ACK);
    expect(take()).toEqual([EOT]);
    await sent;
  });

  it('gives up after 15 s without a reply to ENQ (TIMEOUT), with EOT', async () => {
    const { link, take, timers } = setup();
    const sent = link.send(Buffer.from(ORDER));
    take();
    timers.advance(14_999);
    expect(take()).toEqual([]);
    timers.advance(1);
    expect(take()).toEqual([EOT]);
    await expect(sent).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(link.state).toBe('NEUTRAL');
  });

  it('gives up after 15 s without a reply to a frame (TIMEOUT)', async () => {
    const { link, peer, take, timers } = setup();
    const sent = link.send(Buffer.from(ORDER));
    take();
    peer(ACK);
    take();
    timers.advance(15_000);
    expect(take()).toEqual([EOT]);
    await expect(sent).rejects.toMatchObject({ code: 'TIMEOUT', message: expect.stringContaining('frame 1') });
  });

  it('stops at a receiver interrupt (EOT answering a frame): INTERRUPTED before the last frame', async () => {
    const { link, peer, take } = setup();
    const sent = link.send(Buffer.from(ORDER));
    take();
    peer(ACK);
    take();
    peer(EOT);
    expect(take()).toEqual([EOT]);
    await expect(sent).rejects.toMatchObject({ code: 'INTERRUPTED' });
  });

  it('an EOT answering the last frame counts as its acceptance', async () => {
    const { link, peer, take } = setup();
    const sent = link.send(Buffer.from('H|\\^&\r'));
    take();
    peer(ACK);
    take();
    peer(EOT);
    expect(take()).toEqual([EOT]);
    await sent;
  });

  it('sends queued messages one transfer at a time, in order', async () => {
    const { link, peer, take } = setup();
    const a = link.send(Buffer.from('H|\\^&\rL|1|N\r'));
    const b = link.send(Buffer.from('H|\\^&\rL|1|F\r'));
    expect(take()).toEqual([ENQ]);
    peer(ACK + ACK);
    peer(ACK);
    expect(take()).toEqual([frame(1, 'H|\\^&\r'), frame(2, 'L|1|N\r'), EOT, ENQ]);
    await a;
    peer(ACK + ACK + ACK);
    expect(take()).toEqual([frame(1, 'H|\\^&\r'), frame(2, 'L|1|F\r'), EOT]);
    await b;
  });

  it('refuses a message holding a restricted character before bidding', async () => {
    const { link, take } = setup();
    await expect(link.send(Buffer.from('H|\\^&\rR|1|\x04\r'))).rejects.toMatchObject({ code: 'INVALID_MESSAGE' });
    expect(take()).toEqual([]);
  });

  it('fails every waiting send with LINK_DOWN when the link closes', async () => {
    const { link, take } = setup();
    const a = link.send(Buffer.from(ORDER));
    const b = link.send(Buffer.from(ORDER));
    take();
    link.close();
    await expect(a).rejects.toMatchObject({ code: 'LINK_DOWN' });
    await expect(b).rejects.toMatchObject({ code: 'LINK_DOWN' });
    await expect(link.send(Buffer.from(ORDER))).rejects.toMatchObject({ code: 'LINK_DOWN' });
  });
});

describe('ASTM link: contention', () => {
  it('the computer yields to the instrument: answers its next ENQ, bids again only after 20 s', async () => {
    const { link, peer, take, timers, messages } = setup('computer');
    const sent = link.send(Buffer.from(ORDER));
    expect(take()).toEqual([ENQ]);
    peer(ENQ); // the instrument bid at the same time
    expect(take()).toEqual([]); // no ACK to the contending ENQ
    timers.advance(1_000);
    peer(ENQ); // the instrument bids again after 1 s
    expect(take()).toEqual([ACK]);
    peer(frame(1, 'H|\\^&\r'));
    peer(frame(2, 'L|1|N\r'));
    peer(EOT);
    expect(take()).toEqual([ACK, ACK]);
    expect(messages).toEqual(['H|\\^&\rL|1|N\r']);
    timers.advance(18_999); // 19,999 ms after the contention
    expect(take()).toEqual([]);
    timers.advance(1);
    expect(take()).toEqual([ENQ]);
    peer(ACK.repeat(5));
    await sent;
  });

  it('the instrument re-bids 1 s after contention', () => {
    const { link, peer, take, timers } = setup('instrument');
    void link.send(Buffer.from(ORDER));
    take();
    peer(ENQ);
    timers.advance(999);
    expect(take()).toEqual([]);
    timers.advance(1);
    expect(take()).toEqual([ENQ]);
  });

  it('two links bidding at once: the instrument sends first, then the computer', async () => {
    const timers = new ManualTimers();
    const got: Record<string, string[]> = { computer: [], instrument: [] };
    const wires: { to: AstmLink | undefined; bytes: Buffer }[] = [];
    let instrument: AstmLink | undefined = undefined;
    const computer: AstmLink = new AstmLink({
      role: 'computer',
      timers,
      write: (b) => wires.push({ to: instrument, bytes: b }),
      onMessage: (t) => got.computer.push(t.toString()),
    });
    instrument = new AstmLink({
      role: 'instrument',
      timers,
      write: (b) => wires.push({ to: computer, bytes: b }),
      onMessage: (t) => got.instrument.push(t.toString()),
    });
    const order = computer.send(Buffer.from('H|\\^&\rO|1|S1\rL|1|N\r'));
    const result = instrument.send(Buffer.from('H|\\^&\rR|1|^^^GLU|5.1\rL|1|N\r'));
    const pump = () => {
      while (wires.length) {
        const { to, bytes } = wires.shift()!;
        to!.receive(bytes);
      }
    };
    pump();
    timers.advance(1_000);
    pump();
    expect(got.computer).toEqual(['H|\\^&\rR|1|^^^GLU|5.1\rL|1|N\r']);
    expect(got.instrument).toEqual([]);
    await result;
    timers.advance(20_000);
    pump();
    await order;
    expect(got.instrument).toEqual(['H|\\^&\rO|1|S1\rL|1|N\r']);
  });

  it('gives up after the configured number of refused bids (CONTENTION_TIMEOUT)', async () => {
    const { link, peer, take, timers } = setup('computer', { maxBids: 3 });
    const sent = link.send(Buffer.from(ORDER));
    for (let i = 0; i < 2; i++) {
      expect(take()).toEqual([ENQ]);
      peer(NAK);
      timers.advance(10_000);
    }
    expect(take()).toEqual([ENQ]);
    peer(NAK);
    await expect(sent).rejects.toMatchObject({ code: 'CONTENTION_TIMEOUT' });
  });
});

describe('ASTM link: receiving', () => {
  it('ACKs ENQ and each good frame, delivers the message at EOT, and never ACKs EOT', () => {
    const { peer, take, messages } = setup();
    peer(ENQ);
    expect(take()).toEqual([ACK]);
    peer(frame(1, 'H|\\^&\r'));
    peer(frame(2, 'R|1|^^^GLU|5.1|mmol/L\r'));
    peer(frame(3, 'L|1|N\r'));
    expect(take()).toEqual([ACK, ACK, ACK]);
    peer(EOT);
    expect(take()).toEqual([]);
    expect(messages).toEqual(['H|\\^&\rR|1|^^^GLU|5.1|mmol/L\rL|1|N\r']);
  });

  it('joins ETB continuation frames into one record', () => {
    const { peer, messages } = setup();
    peer(ENQ + frame(1, 'H|\\^&\r') + frame(2, 'C|1|I|abc', false) + frame(3, 'def|G\r') + EOT);
    expect(messages).toEqual(['H|\\^&\rC|1|I|abcdef|G\r']);
  });

  it('ACKs a repeated frame (our ACK was lost) without keeping it twice', () => {
    const { peer, take, messages, events } = setup();
    peer(ENQ);
    peer(frame(1, 'H|\\^&\r'));
    peer(frame(1, 'H|\\^&\r'));
    peer(frame(2, 'L|1|N\r'));
    peer(EOT);
    expect(take()).toEqual([ACK, ACK, ACK, ACK]);
    expect(messages).toEqual(['H|\\^&\rL|1|N\r']);
    expect(events).toContainEqual({ type: 'frameRepeated' });
  });

  it('NAKs a bad checksum and a wrong frame number, then accepts the good frame', () => {
    const { peer, take, messages } = setup();
    peer(ENQ);
    take();
    const good = frame(1, 'H|\\^&\r');
    peer(good.slice(0, -4) + (good.slice(-4, -2) === '00' ? '01' : '00') + '\r\n');
    peer(frame(3, 'H|\\^&\r'));
    peer(good);
    peer(EOT);
    expect(take()).toEqual([NAK, NAK, ACK]);
    expect(messages).toEqual(['H|\\^&\r']);
  });

  it('numbers received frames modulo 8 (frame 0 after 7)', () => {
    const { peer, take, messages } = setup();
    peer(ENQ);
    let text = '';
    for (let n = 1; n <= 10; n++) {
      peer(frame(n, `R|${n}\r`));
      text += `R|${n}\r`;
    }
    peer(EOT);
    expect(take()).toEqual([ACK, ...Array(10).fill(ACK)]);
    expect(messages).toEqual([text]);
  });

  it('takes bytes split anywhere (one at a time) and frames merged into one chunk', () => {
    const { link, messages, take } = setup();
    const all = ENQ + frame(1, 'H|\\^&\r') + frame(2, 'L|1|N\r') + EOT;
    for (const ch of all) link.receive(Buffer.from(ch, 'latin1'));
    expect(messages).toEqual(['H|\\^&\rL|1|N\r']);
    expect(take()).toEqual([ACK, ACK, ACK]);
    link.receive(Buffer.from(all, 'latin1'));
    expect(messages).toHaveLength(2);
  });

  it('discards a partial message after 30 s without a frame, then takes the next transfer', () => {
    const { peer, messages, timers, events } = setup();
    peer(ENQ + frame(1, 'H|\\^&\r'));
    timers.advance(29_999);
    peer(frame(2, 'P|1\r')); // re-arms the 30 s receiver timer
    timers.advance(30_000);
    expect(events).toContainEqual({ type: 'receiveTimeout' });
    peer(EOT); // late: nothing to deliver
    expect(messages).toEqual([]);
    peer(ENQ + frame(1, 'H|\\^&\r') + EOT);
    expect(messages).toEqual(['H|\\^&\r']);
  });

  it('drops a transfer that ends on an ETB frame (incomplete record)', () => {
    const { peer, messages } = setup();
    peer(ENQ + frame(1, 'H|\\^&\r') + frame(2, 'C|1|I|abc', false) + EOT);
    expect(messages).toEqual([]);
  });

  it('ignores garbage in neutral and between frames, and keeps working', () => {
    const { peer, messages, take } = setup();
    peer('\x00\xffnoise' + ACK + NAK + EOT);
    expect(take()).toEqual([]);
    peer(ENQ + 'junk' + frame(1, 'H|\\^&\r') + '\r\n' + EOT);
    expect(messages).toEqual(['H|\\^&\r']);
  });

  it('answers ENQ with NAK while the receive gate is busy, and ACK once it is open', () => {
    const { link, peer, take, events } = setup();
    link.setReceiveGate('busy');
    peer(ENQ);
    expect(take()).toEqual([NAK]);
    expect(events).toContainEqual({ type: 'refusedEnq' });
    link.setReceiveGate('open');
    peer(ENQ);
    expect(take()).toEqual([ACK]);
  });

  it('holds the reply to an ENQ while the gate is hold: ACK when it opens', () => {
    const { link, peer, take, timers, messages } = setup();
    link.setReceiveGate('hold');
    peer(ENQ);
    expect(take()).toEqual([]);
    timers.advance(9_000);
    expect(take()).toEqual([]);
    link.setReceiveGate('open');
    expect(take()).toEqual([ACK]);
    expect(link.state).toBe('RECEIVING');
    peer(frame(1, 'H|\\^&\r') + frame(2, 'L|1|N\r') + EOT);
    expect(messages).toEqual(['H|\\^&\rL|1|N\r']);
  });

  it('holds the reply to an ENQ: NAK when the gate turns busy, or after enqHoldMs', () => {
    const { link, peer, take, timers } = setup('computer', { enqHoldMs: 10_000 });
    link.setReceiveGate('hold');
    peer(ENQ);
    link.setReceiveGate('busy');
    expect(take()).toEqual([NAK]);
    link.setReceiveGate('hold');
    peer(ENQ);
    timers.advance(9_999);
    expect(take()).toEqual([]);
    timers.advance(1);
    expect(take()).toEqual([NAK]); // before the analyser's own 15 s sender timeout
    expect(link.state).toBe('NEUTRAL');
  });

  it('does not bid while it owes the analyser a reply to its ENQ; bids right after the NAK', async () => {
    const { link, peer, take } = setup();
    link.setReceiveGate('hold');
    peer(ENQ);
    const sent = link.send(Buffer.from('H|\\^&\r'));
    expect(take()).toEqual([]);
    link.setReceiveGate('busy');
    expect(take()).toEqual([NAK, ENQ]);
    peer(ACK);
    peer(ACK);
    expect(take()).toEqual([frame(1, 'H|\\^&\r'), EOT]);
    await sent;
  });

  it('interrupts (EOT) a message over maxMessageBytes and delivers nothing of it', () => {
    const { peer, take, messages, events } = setup('computer', { maxMessageBytes: 20 });
    peer(ENQ + frame(1, 'H|\\^&\r') + frame(2, 'R|1|' + 'x'.repeat(30) + '\r'));
    expect(take()).toEqual([ACK, ACK, EOT]);
    peer(frame(3, 'L|1|N\r') + EOT);
    expect(take()).toEqual([NAK]);
    expect(messages).toEqual([]);
    expect(events).toContainEqual({ type: 'messageTooLarge' });
  });

  it('NAKs a frame larger than maxFrameBytes without buffering it all', () => {
    const { peer, take } = setup('computer', { maxFrameBytes: 64 });
    peer(ENQ);
    take();
    peer(frame(1, 'R|1|' + 'y'.repeat(200) + '\r'));
    expect(take()[0]).toBe(NAK);
  });

  it('sends what was queued while it was receiving once the transfer ends', async () => {
    const { link, peer, take } = setup();
    peer(ENQ);
    const sent = link.send(Buffer.from('H|\\^&\r'));
    expect(take()).toEqual([ACK]); // receiving: no bid yet
    peer(frame(1, 'H|\\^&\r') + EOT);
    expect(take()).toEqual([ACK, ENQ]);
    peer(ACK + ACK);
    expect(take()).toEqual([frame(1, 'H|\\^&\r'), EOT]);
    await sent;
  });
});
