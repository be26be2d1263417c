import {
  CHUNK_DATA_BYTES,
  ChunkAssembler,
  ChunkBudget,
  type ChunkPart,
  cloudWireMessages,
  MAX_CHUNKED_MESSAGE_BYTES,
  MAX_MESSAGE_BYTES,
  parseCloudMessage,
  parseRelayMessage,
  ProtocolError,
  relayWireMessages,
  splitMessage,
} from '../../../protocol';
import { ManualTimers } from '../astm/manual-timers';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof ProtocolError ? err.code : `NOT_A_PROTOCOL_ERROR: ${String(err)}`;
  }
  return undefined;
}

/** A push whose body has multi-byte characters everywhere, so chunk boundaries cut some of them. */
function bigPush(bodyChars: number, id = 'p-1'): string {
  const unit = 'OBX|1|ED|PDF^Befund||Ärztlicher Befund — résumé 検査 🧪 \\r';
  const body = unit.repeat(Math.ceil(bodyChars / unit.length)).slice(0, bodyChars);
  return JSON.stringify({
    type: 'push',
    v: 1,
    pushId: id,
    destination: 'lab',
    contentType: 'x-application/hl7-v2+er7',
    body,
    returnAck: 'first',
    expiresAt: 1,
  });
}

function assemble(assembler: ChunkAssembler, parts: ChunkPart[]): string | undefined {
  let text: string | undefined;
  for (const part of parts) {
    const r = assembler.add(part);
    if (r.complete) text = r.text;
  }
  return text;
}

describe('splitMessage / wire messages', () => {
  it('leaves a message that fits one WebSocket message alone', () => {
    const small = bigPush(1000);
    expect(relayWireMessages(small)).toStrictEqual([small]);
    expect(cloudWireMessages(small)).toStrictEqual([small]);
    const atLimit = 'x'.repeat(MAX_MESSAGE_BYTES);
    expect(cloudWireMessages(atLimit)).toStrictEqual([atLimit]);
  });

  it('splits a larger one into valid chunk messages, each under the limit', () => {
    const json = bigPush(300_000);
    const bytes = Buffer.byteLength(json);
    const wire = cloudWireMessages(json, 'c-big');
    expect(wire.length).toBe(Math.ceil(bytes / CHUNK_DATA_BYTES));
    for (const [i, text] of wire.entries()) {
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
      const msg = parseCloudMessage(text);
      expect(msg).toMatchObject({ type: 'chunk', v: 2, chunkId: 'c-big', index: i, count: wire.length, bytes });
    }
    const relay = relayWireMessages(json).map((t) => parseRelayMessage(t));
    expect(relay.map((m) => m.action)).toStrictEqual(relay.map(() => 'chunk'));
  });

  it('round-trips multi-byte UTF-8 cut at part boundaries, in order and shuffled', () => {
    const json = bigPush(200_000);
    // Small parts so many boundaries fall inside 2-, 3- and 4-byte characters.
    const parts = splitMessage(json, { chunkId: 'u', chunkBytes: 1001 });
    const cuts = parts.slice(1).filter((p) => (Buffer.from(p.data, 'base64')[0] & 0xc0) === 0x80);
    expect(cuts.length).toBeGreaterThan(10);
    expect(
      assemble(
        new ChunkAssembler({ timers: new ManualTimers() }),
        parts.map((p) => p),
      ),
    ).toBe(json);
    // Reversed order, with a fresh id, gives the same text.
    const again = splitMessage(json, { chunkId: 'u2' }).reverse();
    expect(assemble(new ChunkAssembler({ timers: new ManualTimers() }), again)).toBe(json);
  });

  it('refuses a message over the chunked limit', () => {
    expect(codeOf(() => splitMessage('x'.repeat(MAX_CHUNKED_MESSAGE_BYTES + 1)))).toBe('MESSAGE_TOO_LARGE');
  });
});

describe('ChunkAssembler', () => {
  let timers: ManualTimers;
  let expired: [string, string][];
  let assembler: ChunkAssembler;
  beforeEach(() => {
    timers = new ManualTimers();
    expired = [];
    assembler = new ChunkAssembler({
      timers,
      timeoutMs: 1_000,
      maxPartials: 2,
      maxBytesInFlight: 1_000_000,
      onTimeout: (err, id) => expired.push([err.code, id]),
    });
  });

  it('answers complete only on the last part, then holds nothing', () => {
    const parts = splitMessage(bigPush(200_000), { chunkId: 'a' });
    for (const part of parts.slice(0, -1)) expect(assembler.add(part)).toStrictEqual({ complete: false });
    expect(assembler.bytesInFlight).toBe(parts[0].bytes);
    expect(assembler.add(parts[parts.length - 1])).toMatchObject({ complete: true });
    expect([assembler.bytesInFlight, assembler.partialCount, timers.pending]).toStrictEqual([0, 0, 0]);
  });

  it('interleaves two messages', () => {
    const a = splitMessage(bigPush(150_000, 'a'), { chunkId: 'a' });
    const b = splitMessage(bigPush(150_000, 'b'), { chunkId: 'b' });
    const done: string[] = [];
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      for (const part of [a[i], b[i]]) {
        if (!part) continue;
        const r = assembler.add(part);
        if (r.complete) done.push((JSON.parse(r.text) as { pushId: string }).pushId);
      }
    }
    expect(done.sort()).toStrictEqual(['a', 'b']);
  });

  it('refuses a duplicate part and still completes the message', () => {
    const parts = splitMessage(bigPush(200_000), { chunkId: 'd' });
    assembler.add(parts[0]);
    expect(codeOf(() => assembler.add(parts[0]))).toBe('CHUNK_INVALID');
    expect(assemble(assembler, parts.slice(1))).toBe(bigPush(200_000));
    // A part of a message already complete is refused, not started as a new message.
    expect(codeOf(() => assembler.add(parts[1]))).toBe('CHUNK_INVALID');
    expect(assembler.partialCount).toBe(0);
  });

  it('refuses a part that disagrees with the first on count, bytes or sha256', () => {
    const parts = splitMessage(bigPush(200_000), { chunkId: 'i' });
    assembler.add(parts[0]);
    expect(codeOf(() => assembler.add({ ...parts[1], sha256: '0'.repeat(64) }))).toBe('CHUNK_INVALID');
    expect(codeOf(() => assembler.add({ ...parts[1], bytes: parts[1].bytes + 1 }))).toBe('CHUNK_INVALID');
  });

  it('discards a message whose digest does not match, with CHUNK_INVALID', () => {
    const parts = splitMessage(bigPush(200_000), { chunkId: 'w' });
    const tampered = Buffer.from(parts[1].data, 'base64');
    tampered[5] ^= 1;
    parts[1] = { ...parts[1], data: tampered.toString('base64') };
    let err: unknown;
    try {
      assemble(assembler, parts);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).code).toBe('CHUNK_INVALID');
    expect((err as ProtocolError).message).toMatch(/sha256/);
    expect([assembler.bytesInFlight, assembler.partialCount]).toStrictEqual([0, 0]);
  });

  it('refuses data that is not base64, and parts of an impossible shape', () => {
    const [first] = splitMessage(bigPush(200_000), { chunkId: 'b64' });
    expect(codeOf(() => assembler.add({ ...first, data: 'not base64!' }))).toBe('CHUNK_INVALID');
    expect(codeOf(() => assembler.add({ ...first, count: 2 }))).toBe('CHUNK_INVALID'); // 2 × 64 KiB < bytes
    expect(codeOf(() => assembler.add({ ...first, bytes: 1, count: 2 }))).toBe('CHUNK_INVALID');
    expect(assembler.partialCount).toBe(0);
  });

  it('refuses a message over its size limit, and one that would exceed the bytes in flight', () => {
    const small = new ChunkAssembler({ timers, maxMessageBytes: 200_000, maxBytesInFlight: 400_000 });
    const [big] = splitMessage(bigPush(200_000), { chunkId: 'o' });
    expect(codeOf(() => small.add(big))).toBe('MESSAGE_TOO_LARGE');
    small.add(splitMessage(bigPush(140_000, 'x'), { chunkId: 'x' })[0]);
    small.add(splitMessage(bigPush(140_000, 'y'), { chunkId: 'y' })[0]);
    expect(codeOf(() => small.add(splitMessage(bigPush(140_000, 'z'), { chunkId: 'z' })[0]))).toBe('CHUNK_LIMIT');
    expect(small.partialCount).toBe(2);
  });

  it('refuses a partial message beyond maxPartials, and takes one again after another completes', () => {
    const a = splitMessage(bigPush(140_000, 'a'), { chunkId: 'a' });
    const b = splitMessage(bigPush(140_000, 'b'), { chunkId: 'b' });
    const c = splitMessage(bigPush(140_000, 'c'), { chunkId: 'c' });
    assembler.add(a[0]);
    assembler.add(b[0]);
    expect(codeOf(() => assembler.add(c[0]))).toBe('CHUNK_LIMIT');
    assemble(assembler, a.slice(1));
    expect(assemble(assembler, c)).toBe(bigPush(140_000, 'c'));
  });

  it('discards a partial message at its timeout, reports it, and frees its room', () => {
    const parts = splitMessage(bigPush(200_000), { chunkId: 't' });
    assembler.add(parts[0]);
    timers.advance(999);
    expect(expired).toStrictEqual([]);
    timers.advance(1);
    expect(expired).toStrictEqual([['CHUNK_TIMEOUT', 't']]);
    expect([assembler.bytesInFlight, assembler.partialCount]).toStrictEqual([0, 0]);
    // The rest arriving late starts over and never completes: it times out again.
    assemble(assembler, parts.slice(1));
    timers.advance(1_000);
    expect(expired.map(([code]) => code)).toStrictEqual(['CHUNK_TIMEOUT', 'CHUNK_TIMEOUT']);
  });

  it('a budget shared by two assemblers (a hub) bounds them together, and is given back', () => {
    const budget = new ChunkBudget(500_000);
    const one = new ChunkAssembler({ timers, budget });
    const two = new ChunkAssembler({ timers, budget });
    const a = splitMessage(bigPush(140_000, 'a'), { chunkId: 'a' });
    one.add(a[0]);
    two.add(splitMessage(bigPush(140_000, 'b'), { chunkId: 'b' })[0]);
    expect(codeOf(() => two.add(splitMessage(bigPush(140_000, 'c'), { chunkId: 'c' })[0]))).toBe('CHUNK_LIMIT');
    assemble(one, a.slice(1));
    two.clear();
    expect(budget.inUse).toBe(0);
  });

  it('clear() drops everything and its timers', () => {
    assembler.add(splitMessage(bigPush(200_000), { chunkId: 'z' })[0]);
    assembler.clear();
    expect([assembler.bytesInFlight, assembler.partialCount, timers.pending]).toStrictEqual([0, 0, 0]);
  });
});
