import { parseCloudMessage, parseRelayMessage, ProtocolError, MAX_MESSAGE_BYTES } from '../../../protocol';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof ProtocolError ? err.code : 'NOT_A_PROTOCOL_ERROR';
  }
  return undefined;
}

describe('relay -> cloud messages', () => {
  it('accepts a hello with or without deviceProtocols (optional: a v1 hello has none)', () => {
    const base = { action: 'hello', v: 1, version: '1', devices: ['lab', 'an'] };
    expect(parseRelayMessage(JSON.stringify(base))).toEqual(base);
    const kinds = { lab: 'mllp', an: 'astm' };
    expect(parseRelayMessage(JSON.stringify({ ...base, deviceProtocols: kinds }))).toEqual({ ...base, deviceProtocols: kinds });
  });

  it('accepts a valid result and keeps only known fields', () => {
    const msg = parseRelayMessage(
      JSON.stringify({
        action: 'result',
        v: 1,
        pushId: 'p1',
        status: 'acked',
        ackCode: 'AA',
        response: 'MSH|^~\\&|\rMSA|AA|1',
        extra: 'x',
      }),
    );
    expect(msg).toEqual({ action: 'result', v: 1, pushId: 'p1', status: 'acked', ackCode: 'AA', response: 'MSH|^~\\&|\rMSA|AA|1' });
  });

  it.each([
    ['not json', '{nope', 'MALFORMED_JSON'],
    ['an array', '[1]', 'INVALID_MESSAGE'],
    ['a wrong version', JSON.stringify({ action: 'heartbeat', v: 3 }), 'UNSUPPORTED_VERSION'],
    ['an unknown action', JSON.stringify({ action: 'rm -rf', v: 1 }), 'UNKNOWN_ACTION'],
    ['a result with a bad status', JSON.stringify({ action: 'result', v: 1, pushId: 'p', status: 'great' }), 'INVALID_MESSAGE'],
    ['a failed result without an error', JSON.stringify({ action: 'result', v: 1, pushId: 'p', status: 'failed' }), 'INVALID_MESSAGE'],
    ['a nacked result without an ackCode', JSON.stringify({ action: 'result', v: 1, pushId: 'p', status: 'nacked' }), 'INVALID_MESSAGE'],
    ['a hello with non-string devices', JSON.stringify({ action: 'hello', v: 1, version: '1', devices: [1] }), 'INVALID_MESSAGE'],
    ['an oversized message', 'x'.repeat(MAX_MESSAGE_BYTES + 1), 'MESSAGE_TOO_LARGE'],
    [
      'deviceProtocols as an array',
      JSON.stringify({ action: 'hello', v: 1, version: '1', devices: ['a'], deviceProtocols: ['mllp'] }),
      'INVALID_MESSAGE',
    ],
    [
      'deviceProtocols naming another device',
      JSON.stringify({ action: 'hello', v: 1, version: '1', devices: ['a'], deviceProtocols: { b: 'mllp' } }),
      'INVALID_MESSAGE',
    ],
    [
      'deviceProtocols with an unknown protocol',
      JSON.stringify({ action: 'hello', v: 1, version: '1', devices: ['a'], deviceProtocols: { a: 'dicom' } }),
      'INVALID_MESSAGE',
    ],
  ])('refuses %s', (_name, raw, code) => {
    expect(codeOf(() => parseRelayMessage(raw))).toBe(code);
  });
});

/** A push the AWS dispatcher sent ahead, behind p0. */
const sentAhead = {
  type: 'push',
  v: 1,
  pushId: 'p1',
  destination: 'lab',
  contentType: 'x-application/hl7-v2+er7',
  body: 'MSH|^~\\&|',
  returnAck: 'first',
  expiresAt: 1,
  after: 'p0',
  ttlMs: 0,
};

describe('cloud -> relay messages', () => {
  it('accepts a push sent ahead, with after and ttlMs', () => {
    expect(parseCloudMessage(JSON.stringify(sentAhead))).toEqual(sentAhead);
  });

  it('accepts a push', () => {
    const push = {
      type: 'push',
      v: 1,
      pushId: 'p1',
      destination: 'lab',
      contentType: 'x-application/hl7-v2+er7',
      body: 'MSH|^~\\&|',
      returnAck: 'first',
      expiresAt: 1,
    };
    expect(parseCloudMessage(JSON.stringify(push))).toEqual(push);
  });

  it.each([
    ['a push without a destination', { type: 'push', v: 1, pushId: 'p', contentType: 'c', body: 'b', returnAck: 'first', expiresAt: 1 }],
    [
      'a push with a bad returnAck',
      { type: 'push', v: 1, pushId: 'p', destination: 'd', contentType: 'c', body: 'b', returnAck: 'last', expiresAt: 1 },
    ],
    ['an unknown type', { type: 'exec', v: 1 }],
    ['a push with an empty after', { ...sentAhead, after: '' }],
    ['a push with a negative ttlMs', { ...sentAhead, ttlMs: -1 }],
    ['a push with a ttlMs that is not a number', { ...sentAhead, ttlMs: '100' }],
  ])('refuses %s', (_name, obj) => {
    expect(codeOf(() => parseCloudMessage(JSON.stringify(obj)))).toMatch(/INVALID_MESSAGE|UNKNOWN_TYPE/);
  });
});

describe('an object where the action or type name belongs (issue 9 #10)', () => {
  // {"toString": 1} cannot be turned into a string: describing it must not throw a TypeError.
  const hostile: unknown[] = [{ toString: 1 }, { a: 1 }, [1], null, 7];

  it.each(hostile.map((v) => [JSON.stringify(v), v]))('the cloud answers UNKNOWN_ACTION for action %s', (_name, action) => {
    expect(codeOf(() => parseRelayMessage(JSON.stringify({ action, v: 1 })))).toBe('UNKNOWN_ACTION');
  });

  it.each(hostile.map((v) => [JSON.stringify(v), v]))('the relay answers UNKNOWN_TYPE for type %s', (_name, type) => {
    expect(codeOf(() => parseCloudMessage(JSON.stringify({ type, v: 1 })))).toBe('UNKNOWN_TYPE');
  });
});

describe('results without an ACK message', () => {
  it('accepts an acked result with no ackCode (an ASTM transfer is acknowledged by its link)', () => {
    expect(parseRelayMessage(JSON.stringify({ action: 'result', v: 1, pushId: 'p', status: 'acked' }))).toMatchObject({ status: 'acked' });
  });
});
