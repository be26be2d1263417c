/** What a channel answers: original mode AA/AE/app ACK, enhanced mode CA/CE and the app ACK as MSH-15/16 ask. */
import { readMsh } from '../../../hl7/msh';
import { commitAck, finalAcks, NO_MSH, rejectAck } from '../../../edge-agent/mllp/inbound-ack';

const msg = (accept = '', app = ''): string =>
  `MSH|^~\\&|LABSYS|LAB|EP|HOSP|20250101||ORU^R01|C-9|P|2.5.1${accept || app ? `|||${accept}|${app}` : ''}\rPID|1`;
const code = (ack: string): string => ack.split('\r')[1].split('|').slice(0, 3).join('|');
const appAck = (c: string): string => `MSH|^~\\&|APP|X|LABSYS|LAB|20250101||ACK|A1|P|2.5.1\rMSA|${c}|C-9\r`;

describe('original mode', () => {
  const msh = readMsh(msg());
  it('AA, AE with the reason, or the application ACK verbatim; no commit ACK', () => {
    expect(commitAck(msh)).toBeUndefined();
    expect(finalAcks(msh, { outcome: 'accepted' }, false).map(code)).toStrictEqual(['MSA|AA|C-9']);
    const [ae] = finalAcks(msh, { outcome: 'refused', reason: 'spool | full' }, false);
    expect(ae.split('\r')[1]).toBe('MSA|AE|C-9|spool \\F\\ full');
    expect(finalAcks(msh, { outcome: 'application', response: appAck('AE') }, false)).toStrictEqual([appAck('AE')]);
  });

  it('swaps sender and receiver in the ACK', () => {
    const [aa] = finalAcks(msh, { outcome: 'accepted' }, false);
    expect(aa.split('|').slice(2, 6)).toStrictEqual(['EP', 'HOSP', 'LABSYS', 'LAB']);
  });
});

describe('enhanced mode', () => {
  it.each([
    ['AL', 'NE', 'accepted', ['MSA|CA|C-9']],
    ['', 'AL', 'accepted', ['MSA|CA|C-9']], // empty MSH-15 counts as AL
    ['NE', 'NE', 'accepted', []],
    ['ER', 'NE', 'accepted', []],
    ['SU', 'NE', 'accepted', ['MSA|CA|C-9']],
    ['AL', 'NE', 'refused', ['MSA|CE|C-9']],
    ['ER', 'NE', 'refused', ['MSA|CE|C-9']],
    ['SU', 'NE', 'refused', []],
  ])('MSH-15 %p MSH-16 %p, %s: %p', (accept, app, outcome, expected) => {
    const verdict = outcome === 'accepted' ? ({ outcome: 'accepted' } as const) : ({ outcome: 'refused', reason: 'r' } as const);
    expect(finalAcks(readMsh(msg(accept, app)), verdict, false).map(code)).toStrictEqual(expected);
  });

  it.each([
    ['AL', 'AA', true],
    ['AL', 'AE', true],
    ['SU', 'AA', true],
    ['SU', 'AE', false],
    ['ER', 'AE', true],
    ['ER', 'AA', false],
    ['NE', 'AA', false],
    ['', 'AA', false],
  ])('app ACK with MSH-16 %p and MSA-1 %p forwarded: %p', (app, c, forwarded) => {
    const msh = readMsh(msg('AL', app));
    const out = finalAcks(msh, { outcome: 'application', response: appAck(c) }, true);
    expect(out).toStrictEqual(forwarded ? [appAck(c)] : []);
  });

  it('sends the commit ACK with the final answer when it was not sent earlier', () => {
    const msh = readMsh(msg('AL', 'AL'));
    expect(code(commitAck(msh)!)).toBe('MSA|CA|C-9');
    expect(finalAcks(msh, { outcome: 'application', response: appAck('AA') }, false).map(code)).toStrictEqual(['MSA|CA|C-9', 'MSA|AA|C-9']);
  });
});

it('rejects without an MSH with default separators and an empty MSA-2', () => {
  expect(rejectAck(NO_MSH, 'not HL7').split('\r')[1]).toBe('MSA|AR||not HL7');
  expect(rejectAck(readMsh(msg('AL')), 'x').split('\r')[1]).toBe('MSA|CR|C-9|x');
});
