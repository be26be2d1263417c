import { Hl7Message } from '@medplum/core';
import { buildAck } from '../../../hl7/ack';
import { Hl7Error } from '../../../hl7/hl7-errors';
import { generateExampleAdt } from '../../../hl7/example';
import { isCommitAck, isPositiveAck, parseMsa } from '../../../hl7/msa';
import { isHl7, parseControlId, parseMsh, readMsh } from '../../../hl7/msh';
import { normaliseSegments, splitSegments } from '../../../hl7/segments';
import { expectHl7Error } from '../../support/hl7-error';

const ADT = 'MSH|^~\\&|SENDAPP|SENDFAC|RECVAPP|RECVFAC|20240102030405||ADT^A01^ADT_A01|CTRL123|T|2.5.1\rEVN|A01\rPID|1||42\r';

describe('normaliseSegments', () => {
  it.each([
    ['MSH|a\nPID|1\n', 'MSH|a\rPID|1\r'],
    ['MSH|a\r\nPID|1\r\n', 'MSH|a\rPID|1\r'],
    ['MSH|a\rPID|1', 'MSH|a\rPID|1\r'],
    ['MSH|a\rPID|1\r', 'MSH|a\rPID|1\r'],
    ['MSH|a\n\nPID|1\n\n\n', 'MSH|a\rPID|1\r'],
    ['MSH|a\r\rPID|1\r', 'MSH|a\rPID|1\r'],
    ['MSH|a\r\n\nPID|1\r', 'MSH|a\rPID|1\r'],
    ['\r\n\r\nMSH|a\r\n', 'MSH|a\r'],
    ['MSH|a\r\n\r\n', 'MSH|a\r'],
    ['', ''],
    ['\n\n', ''],
  ])('%j -> %j', (input, output) => {
    expect(normaliseSegments(input)).toBe(output);
  });

  it('splitSegments drops empty segments', () => {
    expect(splitSegments('MSH|a\n\nPID|1\n')).toEqual(['MSH|a', 'PID|1']);
  });
});

describe('parseMsh', () => {
  it('reads separators, routing fields, type, control id and version', () => {
    expect(parseMsh(ADT)).toEqual({
      fieldSeparator: '|',
      encodingCharacters: '^~\\&',
      messageType: 'ADT^A01',
      controlId: 'CTRL123',
      sendingApplication: 'SENDAPP',
      sendingFacility: 'SENDFAC',
      receivingApplication: 'RECVAPP',
      receivingFacility: 'RECVFAC',
      version: '2.5.1',
      processingId: 'T',
      acceptAckType: '',
      applicationAckType: '',
    });
  });

  it('reads MSH-15 and MSH-16 (enhanced acknowledgement), upper-cased', () => {
    const msh = parseMsh('MSH|^~\\&|A|F|R|RF|2024||ORU^R01|C1|P|2.5.1|||al|er\rOBR|1');
    expect([msh.acceptAckType, msh.applicationAckType]).toStrictEqual(['AL', 'ER']);
  });

  it('honours non-default separators', () => {
    const msh = parseMsh('MSH#$~\\&#APP#FAC#R#RF#2024##ORU$R01#ID9#P#2.3\nOBR#1');
    expect(msh.fieldSeparator).toBe('#');
    expect(msh.encodingCharacters).toBe('$~\\&');
    expect(msh.messageType).toBe('ORU^R01');
    expect(msh.controlId).toBe('ID9');
    expect(msh.version).toBe('2.3');
  });

  it('reads a message with \\n endings, leading blank lines and a short MSH', () => {
    const msh = parseMsh('\n\nMSH|^~\\&|A||||||ACK|77\nMSA|AA|1\n');
    expect(msh.messageType).toBe('ACK');
    expect(msh.controlId).toBe('77');
    expect(msh.version).toBe('');
  });

  it.each(['', 'hello world', 'PID|1||42', 'MSH', 'MSHA^~\\&A', '{"resourceType":"Patient"}'])('throws NOT_HL7 for %j', (text) => {
    expectHl7Error(() => parseMsh(text), 'NOT_HL7');
    expect(isHl7(text)).toBe(false);
  });

  it('throws MISSING_CONTROL_ID when MSH-10 is empty or absent; readMsh still reads it', () => {
    expectHl7Error(() => parseMsh('MSH|^~\\&|A|B|C|D|2024||ADT^A01||P|2.5\r'), 'MISSING_CONTROL_ID');
    expectHl7Error(() => parseMsh('MSH|^~\\&|A|B|C|D'), 'MISSING_CONTROL_ID');
    expect(readMsh('MSH|^~\\&|A|B|C|D|2024||ADT^A01||P|2.5\r').controlId).toBe('');
    expect(isHl7('MSH|^~\\&|A')).toBe(true);
  });
});

describe('parseControlId', () => {
  it.each([
    ADT,
    '\r\nMSH|^~\\&|A|B|C|D|1||ADT^A01|  C2 |P|2.5\r',
    'MSH|^~\\&|A|B|C|D|1||ADT^A01|C3\nPID|1\n',
    'MSH|^~\\&|A|B|C|D|1||ADT^A01|C4',
    'MSH#^~\\&#A#B#C#D#1##ADT^A01#C5#P#2.5\r',
    'MSH|^~\\&|A|B|C|D|1||ADT^A01\rPID|1|2|3|4|5|6|7|8|9|10\r',
    'MSH|^~\\&|A|B|C|D|1||ADT^A01\nX|1|2|3|4|5|6|7|8|9|10\r',
    'MSH|^~\\&|A|B|C|D|1||ADT^A01||P|2.5\r',
    'MSH|^~\\&|A|B|C|D|1||ADT^A01| |P|2.5\r',
    'MSH|^~\\&|A|B|C|D',
    'PID|1||42',
    'MSH',
    '',
  ])('agrees with parseMsh, errors included: %j', (text) => {
    let expected: string | { code: string };
    try {
      expected = parseMsh(text).controlId;
    } catch (err) {
      expected = { code: (err as Hl7Error).code };
    }
    if (typeof expected === 'string') expect(parseControlId(text)).toBe(expected);
    else expectHl7Error(() => parseControlId(text), expected.code);
  });
});

describe('parseMsa', () => {
  it('reads code, MSA-2 and MSA-3', () => {
    expect(parseMsa('MSH|^~\\&|A|B|C|D|1||ACK|9|P|2.5\rMSA|AE|CTRL123|bad PID\rERR|x\r')).toEqual({
      code: 'AE',
      controlId: 'CTRL123',
      text: 'bad PID',
    });
  });

  it('uses the field separator from MSH', () => {
    expect(parseMsa('MSH#^~\\&#A#B#C#D#1##ACK#9#P#2.5\rMSA#CA#X1\r')).toEqual({ code: 'CA', controlId: 'X1' });
  });

  it('reads the separator from an MSH that follows leading blank lines', () => {
    expect(parseMsa('\r\nMSH#^~\\&#A#B#C#D#1##ACK#9#P#2.5\rMSA#AA#X1\r')).toEqual({ code: 'AA', controlId: 'X1' });
    expect(parseMsa('\n\nMSH|^~\\&|A\rMSA|AE|X2|no\r')).toEqual({ code: 'AE', controlId: 'X2', text: 'no' });
  });

  it('finds MSA after \\n line breaks', () => {
    expect(parseMsa('MSH|^~\\&|A\nMSA|AA|Z\n')?.controlId).toBe('Z');
  });

  it.each([
    ['MSH|^~\\&|A\rMSA|aa| Q1 \r', { code: 'AA', controlId: 'Q1' }],
    ['MSH|^~\\&|A\rMSA|AA\r', { code: 'AA', controlId: '' }],
    ['MSH|^~\\&|A\rMSA|AA|Q2|\r', { code: 'AA', controlId: 'Q2' }],
    ['MSH|^~\\&|A\rMSA|AE|Q3|why|more\r', { code: 'AE', controlId: 'Q3', text: 'why' }],
    ['MSA|CR|Q4', { code: 'CR', controlId: 'Q4' }],
  ])('reads %j', (text, expected) => {
    expect(parseMsa(text)).toEqual(expected);
  });

  it.each(['', 'MSH|^~\\&|A\rPID|1', 'MSH|^~\\&|A\rMSA|ZZ|1', 'MSH|^~\\&|A\rXMSA|AA|1'])('returns undefined for %j', (text) => {
    expect(parseMsa(text)).toBeUndefined();
  });

  it('classifies codes', () => {
    expect(['AA', 'AE', 'AR', 'CA', 'CE', 'CR'].filter(isCommitAck)).toEqual(['CA', 'CE', 'CR']);
    expect(['AA', 'AE', 'AR', 'CA', 'CE', 'CR'].filter(isPositiveAck)).toEqual(['AA', 'CA']);
  });
});

describe('buildAck', () => {
  it('swaps sender and receiver, types it ACK^<trigger>^ACK, answers MSH-10, keeps version and processing id', () => {
    const ack = buildAck(ADT, 'AA');
    const [msh, msa, rest] = ack.split('\r');
    const f = msh.split('|');
    expect(f.slice(2, 6)).toEqual(['RECVAPP', 'RECVFAC', 'SENDAPP', 'SENDFAC']);
    expect(f[6]).toMatch(/^\d{14}\+0000$/);
    expect(f[8]).toBe('ACK^A01^ACK');
    expect(f[9]).not.toBe('CTRL123');
    expect(f[9].length).toBeLessThanOrEqual(20);
    expect(f[10]).toBe('T');
    expect(f[11]).toBe('2.5.1');
    expect(msa).toBe('MSA|AA|CTRL123');
    expect(rest).toBe('');
    expect(parseMsa(ack)).toEqual({ code: 'AA', controlId: 'CTRL123' });
  });

  it('gives every ACK a new control id', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => parseMsh(buildAck(ADT, 'AA')).controlId));
    expect(ids.size).toBe(1000);
  });

  it('keeps custom separators and escapes MSA-3 text', () => {
    const ack = buildAck('MSH#$~\\&#A#B#C#D#1##ORU$R01#Q1#P#2.3\r', 'AE', 'bad # field $ and \\ here');
    expect(ack.startsWith('MSH#$~\\&#C#D#A#B#')).toBe(true);
    expect(parseMsh(ack).messageType).toBe('ACK^R01');
    expect(ack).toContain('MSA#AE#Q1#bad \\F\\ field \\S\\ and \\E\\ here\r');
  });

  it('is read correctly by @medplum/core', () => {
    const parsed = Hl7Message.parse(buildAck(ADT, 'AR', 'rejected'));
    expect(parsed.getSegment('MSA')?.getField(1)?.toString()).toBe('AR');
    expect(parsed.getSegment('MSA')?.getField(2)?.toString()).toBe('CTRL123');
    expect(parsed.getSegment('MSA')?.getField(3)?.toString()).toBe('rejected');
    expect(parsed.getSegment('MSH')?.getField(12)?.toString()).toBe('2.5.1');
  });

  it('throws NOT_HL7 for a non-HL7 message', () => {
    expectHl7Error(() => buildAck('hello', 'AA'), 'NOT_HL7');
  });
});

describe('generateExampleAdt', () => {
  it('builds a valid ADT^A01 with a unique MSH-10 every call', () => {
    const a = generateExampleAdt();
    const b = generateExampleAdt();
    expect(parseMsh(a).messageType).toBe('ADT^A01');
    expect(parseMsh(a).controlId).not.toBe(parseMsh(b).controlId);
    expect(splitSegments(a).map((s) => s.slice(0, 3))).toEqual(['MSH', 'EVN', 'PID', 'NK1', 'PV1']);
    const parsed = Hl7Message.parse(a);
    expect(parsed.getSegment('PID')?.getField(5)?.getComponent(1)).toBe('Doe');
    expect(parsed.getSegment('MSH')?.getField(10)?.toString()).toBe(parseMsh(a).controlId);
  });
});
