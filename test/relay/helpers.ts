import pino from 'pino';

/** A logger that keeps lines in memory, so tests can read what was (and was not) logged. */
export function memoryLogger(level = 'debug'): { logger: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = pino({ level }, { write: (line: string) => void lines.push(line) });
  return { logger, lines };
}

/** An ADT^A01 with a chosen control id; PID-5 carries a marker so tests can prove it is never logged. */
export function adt(controlId: string, patient = 'PHIMARKER^Jane'): string {
  return [
    `MSH|^~\\&|EDGEPUSH|CLOUD|LAB|HOSP|20250101120000||ADT^A01^ADT_A01|${controlId}|P|2.5.1`,
    'EVN|A01|20250101120000',
    `PID|1||PAT-1^^^HOSP^MR||${patient}||19800101|F`,
  ].join('\r');
}

/** The MSA-2 (control id answered) of an ACK. */
export function msa2(ack: string | undefined): string | undefined {
  const msa = ack?.split(/\r\n|\r|\n/).find((s) => s.startsWith('MSA|'));
  return msa?.split('|')[2];
}
