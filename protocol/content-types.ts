/** Content types both sides must agree on. */

/** HL7 v2 in ER7 (pipe-delimited) text: the one type a push carries to the relay, and Medplum's. */
export const HL7_V2_CONTENT_TYPE = 'x-application/hl7-v2+er7';

/** ASTM E1394 records (H…L), CR-separated: a push to an ASTM device, and what an analyser sends. */
export const ASTM_CONTENT_TYPE = 'application/astm';

/** Other spellings the API accepts for HL7 v2; the push always carries HL7_V2_CONTENT_TYPE. */
export const HL7_V2_CONTENT_TYPE_ALIASES: readonly string[] = ['application/hl7-v2', 'application/hl7-v2+er7'];
