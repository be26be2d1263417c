/**
 * The MSH segment of a message we render, as an Hl7Segment for builder.ts. Sets what every
 * receiver needs: MSH-7 (time of the message, DTM with the site's UTC offset), MSH-9
 * (type^trigger^structure), MSH-10 (the push's control id: see controlIdForPush), MSH-11
 * (processing id) and MSH-12 (version); MSH-15/16 (acknowledgment types) and MSH-18 (character
 * set) only when asked for. Routing fields (MSH-3..6) are fields of the model, so an HD such as
 * ['LAB', '1.2.3', 'ISO'] is escaped like any other value.
 */
import { controlIdForPush } from './control-id';
import { encodingCharactersOf, DEFAULT_DELIMITERS, checkDelimiters, type Delimiters } from './delimiters';
import { formatDtm, type DtmPrecision } from './datetime';
import type { Hl7Field, Hl7Segment } from './er7-model';
import { Hl7Error } from './hl7-errors';

/** HL7 table 0155: when the receiver should send an accept (MSH-15) or application (MSH-16) ACK. */
export type AckCondition = 'AL' | 'NE' | 'ER' | 'SU';

export interface MshOptions {
  sendingApplication?: Hl7Field;
  sendingFacility?: Hl7Field;
  receivingApplication?: Hl7Field;
  receivingFacility?: Hl7Field;
  /** MSH-7: when the message was created. */
  time: Date;
  /** IANA zone MSH-7 is written in; default 'UTC'. */
  timeZone?: string;
  /** MSH-7 precision; default 'second'. */
  timePrecision?: DtmPrecision;
  /** MSH-9: e.g. { code: 'ORM', trigger: 'O01', structure: 'ORM_O01' }. */
  messageType: { code: string; trigger: string; structure?: string };
  /**
   * MSH-10 comes from the push id (stable across retries: controlIdForPush), or is given as is
   * with `controlId` (e.g. a receiver's own numbering). Exactly one of the two.
   */
  pushId?: string;
  controlIdPrefix?: string;
  controlId?: string;
  /** MSH-11: 'P' production (default), 'T' training, 'D' debugging. */
  processingId?: 'P' | 'T' | 'D';
  /** MSH-12; default '2.5.1'. */
  version?: string;
  acceptAckType?: AckCondition;
  applicationAckType?: AckCondition;
  /** MSH-18, e.g. 'UNICODE UTF-8' when values carry non-ASCII text. */
  characterSet?: string;
  delimiters?: Delimiters;
}

const CODE = /^[A-Z0-9]{3}$/;
const STRUCTURE = /^[A-Z0-9]{3}_[A-Z0-9]{3}$/;

export function mshSegment(o: MshOptions): Hl7Segment {
  const d = checkDelimiters(o.delimiters ?? DEFAULT_DELIMITERS);
  const { code, trigger, structure } = o.messageType;
  if (!CODE.test(code) || !CODE.test(trigger) || (structure !== undefined && !STRUCTURE.test(structure))) {
    throw new Hl7Error('INVALID_VALUE', `MSH-9 must be like ORM^O01^ORM_O01, got ${JSON.stringify(o.messageType)}`);
  }
  if ((o.pushId === undefined) === (o.controlId === undefined)) {
    throw new Hl7Error('INVALID_VALUE', 'MSH-10 needs exactly one of pushId and controlId');
  }
  const controlId = o.controlId ?? controlIdForPush(o.pushId!, o.controlIdPrefix);
  if (controlId.length === 0 || controlId.length > 20) {
    throw new Hl7Error('INVALID_VALUE', 'MSH-10 must be 1 to 20 characters (ST, 20, in HL7 2.1–2.6)');
  }
  // Index n is MSH-n; the builder drops the trailing empty ones.
  return [
    'MSH',
    d.field,
    encodingCharactersOf(d),
    o.sendingApplication ?? '',
    o.sendingFacility ?? '',
    o.receivingApplication ?? '',
    o.receivingFacility ?? '',
    formatDtm(o.time, { timeZone: o.timeZone, precision: o.timePrecision }),
    '', // MSH-8 security
    structure === undefined ? [code, trigger] : [code, trigger, structure],
    controlId,
    o.processingId ?? 'P',
    o.version ?? '2.5.1',
    '', // MSH-13 sequence number
    '', // MSH-14 continuation pointer
    o.acceptAckType ?? '',
    o.applicationAckType ?? '',
    '', // MSH-17 country
    o.characterSet ?? '',
  ];
}
