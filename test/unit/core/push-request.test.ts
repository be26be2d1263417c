/** What the API accepts as a push body, before anything is stored. */
import { DomainError } from '../../../lambdas/core/domain-errors';
import { parsePushRequest } from '../../../lambdas/core/push-request';
import { errorStatus } from '../../../lambdas/http/error-catalogue';

const MSG = 'MSH|^~\\&|EHR|HOSP|LAB|DEV|20260101000000||ADT^A01|CTRL1|P|2.5.1\rPID|1||123\r';
const parse = (over: Record<string, unknown>) => parsePushRequest({ destination: 'lab', body: MSG, ...over }, 100 * 1024);

function refusal(over: Record<string, unknown>): { status: number; code: string } | undefined {
  try {
    parse(over);
    return undefined;
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    // The status is the HTTP layer's mapping of the domain's code.
    return { status: errorStatus(err.code), code: err.code };
  }
}

describe('parsePushRequest', () => {
  it('normalises \\n and \\r\\n to \\r, drops a byte-order mark, and reads MSH-10', () => {
    const req = parse({ body: `\uFEFF${MSG.replace(/\r/g, '\r\n')}` });
    expect(req.body).toBe(MSG);
    expect(req.controlId).toBe('CTRL1');
    expect(parse({ body: MSG.replace(/\r/g, '\n') }).bodyHash).toBe(req.bodyHash);
  });

  it('refuses raw MLLP framing bytes inside the message (they would cut its frame short)', () => {
    expect(refusal({ body: MSG.replace('PID|1', 'PID|\x1c1') })).toEqual({ status: 400, code: 'NOT_HL7' });
    expect(refusal({ body: MSG.replace('PID|1', 'PID|\x0b1') })).toEqual({ status: 400, code: 'NOT_HL7' });
  });

  it.each([
    ['no destination', { destination: undefined }, 400, 'MISSING_DESTINATION'],
    ['a destination that looks like an address', { destination: 'mllp://10.0.0.1:2575' }, 400, 'INVALID_DESTINATION'],
    ['a non-HL7 body', { body: 'hello' }, 400, 'NOT_HL7'],
    ['an empty body', { body: '  ' }, 400, 'MISSING_BODY'],
    ['waitTimeout over 25000', { waitTimeout: 25001 }, 400, 'INVALID_WAIT_TIMEOUT'],
    ['a negative waitTimeout', { waitTimeout: -1 }, 400, 'INVALID_WAIT_TIMEOUT'],
    ['a bad returnAck', { returnAck: 'last' }, 400, 'INVALID_RETURN_ACK'],
    ['another content type', { contentType: 'application/fhir+json' }, 400, 'UNSUPPORTED_CONTENT_TYPE'],
    ['a body over the limit', { body: MSG + 'OBX|1|TX|||' + 'x'.repeat(100 * 1024) }, 413, 'PAYLOAD_TOO_LARGE'],
  ])('refuses %s', (_name, over, status, code) => {
    expect(refusal(over)).toEqual({ status, code });
  });

  it('accepts Device/<name> and applies the defaults', () => {
    expect(parse({ destination: 'Device/lab' })).toMatchObject({
      destination: 'lab',
      waitForResponse: true,
      waitTimeoutMs: 10000,
      returnAck: 'first',
      expiresInS: 3600,
    });
  });
});
