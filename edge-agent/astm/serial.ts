/**
 * Opens an RS-232 line for an ASTM link. `serialport` is required here, on first use, so a relay
 * with no serial device never loads its native binding.
 */
import type { Duplex } from 'node:stream';
import type { AstmEndpoint } from './astm-url';

type SerialEndpoint = Extract<AstmEndpoint, { kind: 'serial' }>;

export async function openSerial(endpoint: SerialEndpoint): Promise<Duplex> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { SerialPort } = require('serialport') as typeof import('serialport');
  const port = new SerialPort({
    path: endpoint.path,
    baudRate: endpoint.baudRate,
    dataBits: endpoint.dataBits,
    parity: endpoint.parity,
    stopBits: endpoint.stopBits,
    autoOpen: false,
  });
  await new Promise<void>((resolve, reject) =>
    port.open((err) => (err ? reject(new Error(`cannot open ${endpoint.path}: ${err.message}`)) : resolve())),
  );
  return port;
}
