/** The ACK code sets: what each MSA-1 code makes of a push, on the relay and in the HL7 parser. */
import { fromAck } from '../../../edge-agent/relay/outcome';
import { parseMsa } from '../../../hl7/msa';
import { ACK_CODES, ackStatus, isApplicationAck, isCommitAck, NEGATIVE_ACK_CODES, POSITIVE_ACK_CODES } from '../../../protocol/ack-codes';

describe('ACK codes', () => {
  it('splits the six codes into positive and negative, with nothing left over', () => {
    expect([...POSITIVE_ACK_CODES, ...NEGATIVE_ACK_CODES].sort()).toEqual([...ACK_CODES].sort());
    expect(ACK_CODES.map(ackStatus)).toEqual(['acked', 'nacked', 'nacked', 'acked', 'nacked', 'nacked']);
    expect(ackStatus('AX')).toBeUndefined();
    expect(ACK_CODES.filter(isCommitAck)).toEqual(['CA', 'CE', 'CR']);
    expect(ACK_CODES.filter(isApplicationAck)).toEqual(['AA', 'AE', 'AR']);
  });

  it.each(ACK_CODES.map((c) => [c]))("%s: the relay's result status is the protocol's", (code) => {
    const result = fromAck('p1', { ackCode: code, ack: `MSH|^~\\&|\rMSA|${code}|C1`, controlId: 'C1' });
    expect(result.status).toBe(ackStatus(code));
    expect(parseMsa(`MSH|^~\\&|\rMSA|${code}|C1`)?.code).toBe(code);
  });

  it('an unknown code is a failed result, and no MSA for the parser', () => {
    expect(fromAck('p1', { ackCode: 'AX', ack: 'MSA|AX|C1', controlId: 'C1' })).toMatchObject({ status: 'failed', retryable: false });
    expect(parseMsa('MSH|^~\\&|\rMSA|AX|C1')).toBeUndefined();
  });
});
