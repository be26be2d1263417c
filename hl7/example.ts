/** A realistic ADT^A01 (admit) with made-up demographics, for `--generate-example` and the demo. */
import { hl7Timestamp, newControlId } from './control-id';

export function generateExampleAdt(): string {
  const now = hl7Timestamp();
  const controlId = newControlId('EX');
  return (
    [
      `MSH|^~\\&|EDGEPUSH|EDGEPUSH_CLOUD|ADT_RECEIVER|GENERAL_HOSPITAL|${now}||ADT^A01^ADT_A01|${controlId}|P|2.5.1`,
      `EVN|A01|${now}`,
      'PID|1||PAT-000123^^^GENHOSP^MR||Doe^Jane^Q||19800101|F|||123 Main St^^Springfield^IL^62704^USA||^PRN^PH^^^217^5550123',
      'NK1|1|Doe^John|SPO^Spouse|123 Main St^^Springfield^IL^62704^USA|^PRN^PH^^^217^5550124',
      `PV1|1|I|WARD3^301^A^GENHOSP||||1234^Smith^Adam^^^Dr|||MED||||ADM|||||VIS-${controlId}|||||||||||||||||||||||||${now}`,
    ].join('\r') + '\r'
  );
}
