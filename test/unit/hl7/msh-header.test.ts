import { buildMessage } from '../../../hl7/builder';
import { controlIdForPush } from '../../../hl7/control-id';
import { parseMsh } from '../../../hl7/msh';
import { mshSegment, type MshOptions } from '../../../hl7/msh-header';
import { readMessage } from '../../../hl7/reader';
import { expectHl7Error } from '../../support/hl7-error';

const PUSH = '3b241101-e2bb-4255-8caf-4136c566a962';
const base: MshOptions = {
  sendingApplication: 'EDGEPUSH',
  sendingFacility: ['CLOUD', '1.2.3', 'ISO'],
  receivingApplication: 'LIS',
  receivingFacility: 'LAB|1',
  time: new Date('2024-07-01T10:00:00.005Z'),
  timeZone: 'Europe/Berlin',
  messageType: { code: 'ORM', trigger: 'O01', structure: 'ORM_O01' },
  pushId: PUSH,
};

describe('controlIdForPush', () => {
  it('is the same for every retry of a push, and 20 upper-case letters and digits', () => {
    const id = controlIdForPush(PUSH);
    expect(controlIdForPush(PUSH)).toBe(id);
    expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{20}$/);
    // Pinned: the id must not change between releases, or a retry after an upgrade would look new.
    expect(id).toBe('WJ2981FPZN131KVA7KV4');
  });

  it('differs between pushes (no collision over 100 000 push ids)', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) seen.add(controlIdForPush(`push-${i}`));
    expect(seen.size).toBe(100_000);
  });

  it('keeps a prefix and stays 20 characters', () => {
    const id = controlIdForPush(PUSH, 'EP');
    expect(id).toMatch(/^EP[0-9A-Z]{18}$/);
    expect(id.slice(2)).toBe(controlIdForPush(PUSH).slice(0, 18));
    expectHl7Error(() => controlIdForPush(PUSH, 'ep'), 'INVALID_VALUE');
    expectHl7Error(() => controlIdForPush(PUSH, 'TOOLONG'), 'INVALID_VALUE');
    expectHl7Error(() => controlIdForPush(''), 'INVALID_VALUE');
  });
});

describe('mshSegment', () => {
  it('sets MSH-7, 9, 10, 11 and 12, escapes routing values, and drops the unset optional fields', () => {
    const text = buildMessage([mshSegment(base)]);
    expect(text).toBe(
      'MSH|^~\\&|EDGEPUSH|CLOUD^1.2.3^ISO|LIS|LAB\\F\\1|20240701120000+0200||ORM^O01^ORM_O01|WJ2981FPZN131KVA7KV4|P|2.5.1\r',
    );
    const header = parseMsh(text);
    expect(header).toMatchObject({ messageType: 'ORM^O01', controlId: controlIdForPush(PUSH), processingId: 'P', version: '2.5.1' });
  });

  it('sets MSH-15, MSH-16 and MSH-18 when asked, with the standard numbering', () => {
    const msh = readMessage(
      buildMessage([
        mshSegment({
          ...base,
          processingId: 'T',
          version: '2.3',
          acceptAckType: 'AL',
          applicationAckType: 'NE',
          characterSet: 'UNICODE UTF-8',
          timePrecision: 'millisecond',
          timeZone: 'Asia/Kolkata',
        }),
      ]),
    ).segments[0];
    expect(msh[7]).toBe('20240701153000.005+0530');
    expect(msh[9]).toEqual(['ORM', 'O01', 'ORM_O01']);
    expect(msh[11]).toBe('T');
    expect(msh[12]).toBe('2.3');
    expect(msh[13]).toBe('');
    expect(msh[15]).toBe('AL');
    expect(msh[16]).toBe('NE');
    expect(msh[18]).toBe('UNICODE UTF-8');
  });

  it('takes an explicit control id instead of a push id, and other delimiters', () => {
    const delimiters = { field: '#', component: '$', repetition: '*', escape: '!', subcomponent: '%' };
    const text = buildMessage([
      mshSegment({ ...base, pushId: undefined, controlId: 'LAB-0001', messageType: { code: 'ADT', trigger: 'A04' }, delimiters }),
    ]);
    expect(text).toBe('MSH#$*!%#EDGEPUSH#CLOUD$1.2.3$ISO#LIS#LAB|1#20240701120000+0200##ADT$A04#LAB-0001#P#2.5.1\r');
  });

  it('rejects a bad MSH-9, a missing or doubled MSH-10, and an MSH-10 over 20 characters', () => {
    expectHl7Error(() => mshSegment({ ...base, messageType: { code: 'orm', trigger: 'O01' } }), 'INVALID_VALUE');
    expectHl7Error(() => mshSegment({ ...base, messageType: { code: 'ORM', trigger: 'O01', structure: 'ORM' } }), 'INVALID_VALUE');
    expectHl7Error(() => mshSegment({ ...base, pushId: undefined }), 'INVALID_VALUE');
    expectHl7Error(() => mshSegment({ ...base, controlId: 'X' }), 'INVALID_VALUE');
    expectHl7Error(() => mshSegment({ ...base, pushId: undefined, controlId: 'X'.repeat(21) }), 'INVALID_VALUE');
    expectHl7Error(() => mshSegment({ ...base, timeZone: 'Nowhere/Land' }), 'INVALID_TIME_ZONE');
  });
});
