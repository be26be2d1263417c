/**
 * ASTM device and channel URLs (DESIGN.md, "ASTM"):
 *   astm://host:port                      the relay dials the analyser over TCP
 *   astm://0.0.0.0:port?listen            the analyser dials the relay
 *   astm+serial:///dev/ttyUSB0?baud=9600&databits=8&parity=none&stopbits=1   RS-232
 * Every form takes `encoding` (default latin1, the usual analyser character set) and `ack`
 * (fast, cloud or app): the ACK mode of what the analyser sends, read by the relay's config.
 */
import { ACK_MODES, type AckMode } from '../../protocol/messages';

export type SerialParity = 'none' | 'even' | 'odd' | 'mark' | 'space';

export type AstmEndpoint =
  | { kind: 'dial'; host: string; port: number; encoding: string; ack?: AckMode }
  | { kind: 'listen'; host: string; port: number; encoding: string; ack?: AckMode }
  | {
      kind: 'serial';
      path: string;
      baudRate: number;
      dataBits: 5 | 6 | 7 | 8;
      parity: SerialParity;
      stopBits: 1 | 1.5 | 2;
      encoding: string;
      ack?: AckMode;
    };

const BAUD_RATES = new Set([300, 600, 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200]);
const PARITIES = new Set<SerialParity>(['none', 'even', 'odd', 'mark', 'space']);

export class AstmUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AstmUrlError';
  }
}

export function parseAstmUrl(text: string): AstmEndpoint {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new AstmUrlError(
      `${JSON.stringify(text)} is not a URL; expected astm://host:port, astm://0.0.0.0:port?listen or astm+serial:///dev/ttyX?baud=9600`,
    );
  }
  const params = url.searchParams;
  const encoding = params.get('encoding') ?? 'latin1';
  const known = new Set(['encoding', 'listen', 'baud', 'databits', 'parity', 'stopbits', 'ack']);
  for (const key of params.keys()) if (!known.has(key)) throw new AstmUrlError(`unknown parameter ${key} in ${text}`);
  const ackParam = params.get('ack');
  if (ackParam !== null && !(ACK_MODES as readonly string[]).includes(ackParam))
    throw new AstmUrlError(`ack must be one of ${ACK_MODES.join(', ')}, got ${ackParam}`);
  const ack = ackParam === null ? {} : { ack: ackParam as AckMode };

  if (url.protocol === 'astm:') {
    if (!url.hostname || !url.port) throw new AstmUrlError(`${text} needs a host and a port (astm://host:port)`);
    const port = Number(url.port);
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    for (const key of ['baud', 'databits', 'parity', 'stopbits']) {
      if (params.has(key)) throw new AstmUrlError(`${key} applies to astm+serial:// URLs only`);
    }
    return { kind: params.has('listen') ? 'listen' : 'dial', host, port, encoding, ...ack };
  }
  if (url.protocol === 'astm+serial:') {
    if (url.host) throw new AstmUrlError(`${text}: a serial URL has no host; write astm+serial:///dev/ttyUSB0 (three slashes)`);
    if (!url.pathname || url.pathname === '/') throw new AstmUrlError(`${text} needs a device path, e.g. astm+serial:///dev/ttyUSB0`);
    if (params.has('listen')) throw new AstmUrlError('listen applies to astm:// URLs only; a serial line carries both directions');
    const baudRate = Number(params.get('baud') ?? 9600);
    if (!BAUD_RATES.has(baudRate)) throw new AstmUrlError(`baud must be one of ${[...BAUD_RATES].join(', ')}, got ${params.get('baud')}`);
    const dataBits = Number(params.get('databits') ?? 8);
    if (![5, 6, 7, 8].includes(dataBits)) throw new AstmUrlError(`databits must be 5, 6, 7 or 8, got ${params.get('databits')}`);
    const parity = (params.get('parity') ?? 'none') as SerialParity;
    if (!PARITIES.has(parity)) throw new AstmUrlError(`parity must be one of ${[...PARITIES].join(', ')}, got ${parity}`);
    const stopBits = Number(params.get('stopbits') ?? 1);
    if (![1, 1.5, 2].includes(stopBits)) throw new AstmUrlError(`stopbits must be 1, 1.5 or 2, got ${params.get('stopbits')}`);
    return {
      kind: 'serial',
      path: decodeURIComponent(url.pathname),
      baudRate,
      dataBits: dataBits as 5 | 6 | 7 | 8,
      parity,
      stopBits: stopBits as 1 | 1.5 | 2,
      encoding,
      ...ack,
    };
  }
  throw new AstmUrlError(`${text}: the scheme must be astm:// or astm+serial://`);
}
