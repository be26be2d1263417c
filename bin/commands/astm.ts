/**
 * `edgepush astm listen|send`: an analyser simulator and a client for ASTM E1381/E1394 over TCP
 * or a serial line. `send --as-analyser` plays the instrument, to send results to a relay channel. stdout carries what a user reads (the listening address, received messages,
 * the outcome); logs and errors go to stderr. Exit codes: 0 done, 1 the transfer failed, 2 usage.
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Command } from 'commander';
import { startAnalyserSimulator } from '../../edge-agent/astm/analyser-simulator';
import { parseAstmUrl, type AstmEndpoint } from '../../edge-agent/astm/astm-url';
import { AstmLinkError } from '../../edge-agent/astm/link';
import { attachLink } from '../../edge-agent/astm/link-stream';
import { openSerial } from '../../edge-agent/astm/serial';
import { parseDuration } from '../duration';
import { UsageError } from './target';

interface ListenFlags {
  host: string;
  serial?: string;
  encoding: string;
  replyResults?: boolean;
  quiet?: boolean;
}

interface SendFlags {
  file?: string;
  asAnalyser?: boolean;
  serial?: string;
  encoding: string;
  timeout: string;
}

export function registerAstmCommands(program: Command): void {
  const astm = program.command('astm').description('ASTM E1381/E1394 tools for lab analysers: a simulator and a client (TCP or RS-232).');

  astm
    .command('listen')
    .description('Simulate an analyser: take ASTM transfers, print each message, optionally answer orders with results.')
    .argument('[port]', 'TCP port to listen on (0 picks a free one); omit with --serial')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--serial <path>', 'use this serial line (e.g. /dev/ttyUSB0) instead of TCP; ?baud=… parameters as in astm+serial URLs')
    .option('--encoding <name>', 'character set on the line', 'latin1')
    .option('--reply-results', 'answer each order message with a result message for the same specimen and tests')
    .option('--quiet', 'do not print received messages')
    .action(async (portArg: string | undefined, flags: ListenFlags) => {
      const endpoint = listenEndpoint(portArg, flags);
      const sim = await startAnalyserSimulator({
        endpoint,
        replyResults: flags.replyResults,
        onMessage: (text) => {
          if (!flags.quiet) process.stdout.write(text.split('\r').filter(Boolean).join('\n') + '\n\n');
        },
        onError: (err) => process.stderr.write(`edgepush astm listen: ${err.message}\n`),
      });
      const stop = () => void sim.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const where = endpoint.kind === 'serial' ? endpoint.path : `${endpoint.host}:${sim.port}`;
      process.stdout.write(
        `Listening for ASTM on ${where} (encoding ${endpoint.encoding}${flags.replyResults ? ', replying with results' : ''})\n`,
      );
    });

  astm
    .command('send')
    .description('Send one ASTM message (H…L records) and exit 0 once every frame was accepted.')
    .argument('[host]', 'analyser host (omit with --serial)')
    .argument('[port]', 'analyser port')
    .requiredOption('--file <file>', 'the message: records on lines (CR, LF or CRLF)')
    .option('--serial <path>', 'send over this serial line instead of TCP (astm+serial parameters after ?)')
    .option('--encoding <name>', 'character set on the line', 'latin1')
    .option('--timeout <duration>', 'how long to wait to connect and for each reply (LIS01-A2: 15s)', '15s')
    .option(
      '--as-analyser',
      "play the analyser (instrument) side, e.g. to send results to a relay's listening channel (astm://…?listen); it wins contention",
    )
    .action(async (host: string | undefined, portArg: string | undefined, flags: SendFlags) => {
      const timeoutMs = parseDuration('--timeout', flags.timeout);
      const endpoint = sendEndpoint(host, portArg, flags);
      const text = readMessage(flags.file!);
      const stream = await open(endpoint, timeoutMs);
      const link = attachLink(stream, {
        role: flags.asAnalyser ? 'instrument' : 'computer',
        encoding: endpoint.encoding,
        senderTimeoutMs: timeoutMs,
        onMessage: () => undefined,
      });
      const records = text.split('\r').filter(Boolean).length;
      try {
        await link.send(text);
        process.stdout.write(`acked: ${records} records, every frame accepted, EOT sent\n`);
      } catch (err) {
        if (!(err instanceof AstmLinkError)) throw err;
        process.stderr.write(`edgepush astm send: ${err.code}: ${err.message}\n`);
        process.exitCode = 1;
      } finally {
        // Let the EOT leave before the socket closes.
        stream.end();
        link.close();
      }
    });
}

function listenEndpoint(portArg: string | undefined, flags: ListenFlags): Extract<AstmEndpoint, { kind: 'listen' | 'serial' }> {
  if (flags.serial) {
    if (portArg !== undefined) throw new UsageError('give a port or --serial, not both');
    return serialEndpoint(flags.serial, flags.encoding);
  }
  if (portArg === undefined) throw new UsageError('give a TCP port to listen on, or --serial <path>');
  const endpoint = parseAstmUrl(
    `astm://${hostForUrl(flags.host)}:${port(portArg, 0)}?listen&encoding=${encodeURIComponent(flags.encoding)}`,
  );
  return endpoint as Extract<AstmEndpoint, { kind: 'listen' }>;
}

function sendEndpoint(host: string | undefined, portArg: string | undefined, flags: SendFlags): AstmEndpoint {
  if (flags.serial) {
    if (host !== undefined) throw new UsageError('give <host> <port> or --serial, not both');
    return serialEndpoint(flags.serial, flags.encoding);
  }
  if (host === undefined || portArg === undefined) throw new UsageError('give the analyser as <host> <port>, or --serial <path>');
  return parseAstmUrl(`astm://${hostForUrl(host)}:${port(portArg, 1)}?encoding=${encodeURIComponent(flags.encoding)}`);
}

function serialEndpoint(pathAndParams: string, encoding: string): Extract<AstmEndpoint, { kind: 'serial' }> {
  const [path, query] = pathAndParams.split('?', 2) as [string, string | undefined];
  const params = new URLSearchParams(query ?? '');
  if (!params.has('encoding')) params.set('encoding', encoding);
  try {
    return parseAstmUrl(`astm+serial://${path.startsWith('/') ? '' : '/'}${path}?${params.toString()}`) as Extract<
      AstmEndpoint,
      { kind: 'serial' }
    >;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function port(value: string, min: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > 65535)
    throw new UsageError(`port must be an integer from ${min} to 65535, got ${JSON.stringify(value)}`);
  return n;
}

function hostForUrl(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

function readMessage(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'latin1');
  } catch (err) {
    throw new UsageError(`cannot read --file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const records = text.split(/\r\n|\r|\n/).filter(Boolean);
  if (records.length === 0 || !records[0].startsWith('H'))
    throw new UsageError(`--file ${file} must hold ASTM records starting with an H record`);
  return records.map((r) => r + '\r').join('');
}

async function open(endpoint: AstmEndpoint, timeoutMs: number): Promise<Duplex> {
  if (endpoint.kind === 'serial') return openSerial(endpoint);
  return new Promise<Duplex>((resolve, reject) => {
    const socket = connect({ host: endpoint.host, port: endpoint.port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no connection to ${endpoint.host}:${endpoint.port} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot connect to ${endpoint.host}:${endpoint.port}: ${err.message}`));
    });
  });
}
