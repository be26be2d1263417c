/**
 * A 5 MB lab result through the real processes: HTTP -> `edgepush hub` -> chunks over the
 * WebSocket -> `edgepush relay` -> one MLLP frame to a device (a plain TCP server here), and
 * the device's ACK back to the caller. The device's copy is compared by SHA-256.
 */
import { createHash } from 'node:crypto';
import { startRawDevice, type RawDevice } from '../relay/raw-device';
import { waitFor } from '../support/wait';
import { http, runToEnd, startHub, startRelay, stopAll, tempDir, token, type HubProc } from './harness';

jest.setTimeout(60_000);

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** An ORU^R01 whose OBX-5 carries a base64 PDF of `pdfBytes` bytes (ED data type). */
function oruWithPdf(pdfBytes: number, controlId: string): string {
  const pdf = Buffer.alloc(pdfBytes);
  pdf.write('%PDF-1.4\n');
  for (let i = 9; i < pdfBytes; i++) pdf[i] = (i * 31 + 7) & 0xff;
  return [
    `MSH|^~\\&|LIS|LAB|EMR|HOSP|20260101120000||ORU^R01^ORU_R01|${controlId}|P|2.5.1`,
    'PID|1||PAT-1^^^HOSP^MR||DOE^JANE||19800101|F',
    'OBR|1||R-1|PDF^Report',
    `OBX|1|ED|PDF^Report||^AP^PDF^Base64^${pdf.toString('base64')}||||||F`,
    '',
  ].join('\r');
}

describe('e2e: a 5 MB ORU with an embedded PDF, hub + relay processes', () => {
  const dir = tempDir();
  let hub: HubProc;
  let tok: string;
  let device: RawDevice;
  const AGENT = 'site-large';

  beforeAll(async () => {
    hub = await startHub(dir.path);
    tok = await token(dir.path);
    device = await startRawDevice('bigAck');
    const created = await runToEnd(['agent', 'create', AGENT, '--api', hub.url, '--token', tok]);
    const { secret } = JSON.parse(created.stdout) as { secret: string };
    startRelay(hub.wsUrl, AGENT, secret, { lab: device.port });
    await waitFor(async () => (await http(`${hub.url}/agents/${AGENT}`, { token: tok })).body.status === 'connected', 15_000, 'relay');
  }, 30_000);

  afterAll(async () => {
    await stopAll();
    await device.close();
    dir.remove();
  });

  it('arrives at the device intact and the ACK comes back', async () => {
    const body = oruWithPdf(3_900_000, 'BIG-PDF-1');
    expect(Buffer.byteLength(body)).toBeGreaterThan(5_000_000);
    const res = await http(`${hub.url}/agents/${AGENT}/push`, { token: tok, body: { destination: 'lab', body, waitTimeout: 20_000 } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'acked', ackCode: 'AA', attempts: 1 });
    expect(res.body.response).toContain('MSA|AA|BIG-PDF-1');
    expect(device.messages).toHaveLength(1);
    // The device reads bytes; its copy (latin1 keeps them as they came) is the body, byte for byte.
    expect(sha256(Buffer.from(device.messages[0], 'latin1'))).toBe(sha256(Buffer.from(body)));
  });
});
