import { createHash } from 'node:crypto';
import { parseCloudMessage, parseRelayMessage, ProtocolError, MAX_MESSAGE_BYTES } from '../../../protocol';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof ProtocolError ? err.code : 'NOT_A_PROTOCOL_ERROR';
  }
  return undefined;
}

const inbound = {
  action: 'inbound',
  v: 2,
  inboundId: 'i-1',
  channel: 'lab-results',
  contentType: 'x-application/hl7-v2+er7',
  body: 'MSH|^~\\&|LAB||||20260101||ORU^R01|C1|P|2.5\rPID|1',
  receivedAt: 1767225600000,
  ack: 'fast',
  controlId: 'C1',
  messageType: 'ORU^R01',
};

function chunk(extra: Record<string, unknown> = {}) {
  const whole = Buffer.from('{"action":"heartbeat","v":1}');
  return {
    v: 2,
    chunkId: 'c-1',
    index: 0,
    count: 2,
    bytes: whole.length,
    sha256: createHash('sha256').update(whole).digest('hex'),
    data: whole.subarray(0, 10).toString('base64'),
    ...extra,
  };
}

describe('protocol version 2: relay -> cloud', () => {
  it('accepts an inbound message and keeps only known fields', () => {
    expect(parseRelayMessage(JSON.stringify({ ...inbound, extra: 1 }))).toStrictEqual(inbound);
  });

  it('still accepts version 1 kinds, and hello with channels', () => {
    const hello = parseRelayMessage(
      JSON.stringify({
        action: 'hello',
        v: 1,
        version: '1.0.0',
        devices: ['lab'],
        channels: [{ name: 'adt', protocol: 'mllp', ack: 'cloud' }],
      }),
    );
    expect(hello).toStrictEqual({
      action: 'hello',
      v: 1,
      version: '1.0.0',
      devices: ['lab'],
      channels: [{ name: 'adt', protocol: 'mllp', ack: 'cloud' }],
    });
  });

  it.each([
    ['a channel that is no name', { ...inbound, channel: 'a:b' }, 'INVALID_MESSAGE'],
    ['an unknown ack mode', { ...inbound, ack: 'later' }, 'INVALID_MESSAGE'],
    ['no receivedAt', { ...inbound, receivedAt: undefined }, 'INVALID_MESSAGE'],
    ['an empty body', { ...inbound, body: '' }, 'INVALID_MESSAGE'],
    ['an over-long control id', { ...inbound, controlId: 'x'.repeat(200) }, 'INVALID_MESSAGE'],
    ['a chunk count of 1', { action: 'chunk', ...chunk({ count: 1 }) }, 'INVALID_MESSAGE'],
    ['a chunk index past count', { action: 'chunk', ...chunk({ index: 2 }) }, 'INVALID_MESSAGE'],
    ['a chunk with a bad digest', { action: 'chunk', ...chunk({ sha256: 'ABC' }) }, 'INVALID_MESSAGE'],
    ['a chunk of an oversized message', { action: 'chunk', ...chunk({ bytes: 64 * 1024 * 1024 }) }, 'MESSAGE_TOO_LARGE'],
  ])('refuses %s', (_name, obj, code) => {
    expect(codeOf(() => parseRelayMessage(JSON.stringify(obj)))).toBe(code);
  });

  it('refuses duplicate channel names in hello', () => {
    const c = { name: 'adt', protocol: 'mllp', ack: 'fast' };
    expect(codeOf(() => parseRelayMessage(JSON.stringify({ action: 'hello', v: 1, version: '1', devices: [], channels: [c, c] })))).toBe(
      'INVALID_MESSAGE',
    );
  });

  it('takes a reassembled message over 128 KB only when told it was reassembled', () => {
    const big = JSON.stringify({ ...inbound, body: 'MSH|' + 'x'.repeat(MAX_MESSAGE_BYTES) });
    expect(codeOf(() => parseRelayMessage(big))).toBe('MESSAGE_TOO_LARGE');
    expect(codeOf(() => parseRelayMessage(big, true))).toBeUndefined();
  });
});

describe('protocol version 2: cloud -> relay', () => {
  it('accepts inboundAck, appAck and chunk', () => {
    expect(parseCloudMessage(JSON.stringify({ type: 'inboundAck', v: 2, inboundId: 'i', messageId: 'm', duplicate: false }))).toStrictEqual(
      {
        type: 'inboundAck',
        v: 2,
        inboundId: 'i',
        messageId: 'm',
        duplicate: false,
      },
    );
    expect(
      parseCloudMessage(JSON.stringify({ type: 'appAck', v: 2, inboundId: 'i', messageId: 'm', response: 'MSH|^~\\&' })),
    ).toStrictEqual({
      type: 'appAck',
      v: 2,
      inboundId: 'i',
      messageId: 'm',
      response: 'MSH|^~\\&',
    });
    expect(parseCloudMessage(JSON.stringify({ type: 'chunk', ...chunk() }))).toStrictEqual({ type: 'chunk', ...chunk() });
  });

  it('refuses an appAck with neither response nor error, and an inboundAck without duplicate', () => {
    expect(codeOf(() => parseCloudMessage(JSON.stringify({ type: 'appAck', v: 2, inboundId: 'i', messageId: 'm' })))).toBe(
      'INVALID_MESSAGE',
    );
    expect(codeOf(() => parseCloudMessage(JSON.stringify({ type: 'inboundAck', v: 2, inboundId: 'i', messageId: 'm' })))).toBe(
      'INVALID_MESSAGE',
    );
  });

  it('carries the inbound id of an error', () => {
    expect(
      parseCloudMessage(JSON.stringify({ type: 'error', v: 1, code: 'UNKNOWN_CHANNEL', error: 'no such channel', inboundId: 'i' })),
    ).toStrictEqual({
      type: 'error',
      v: 1,
      code: 'UNKNOWN_CHANNEL',
      error: 'no such channel',
      inboundId: 'i',
    });
  });
});
