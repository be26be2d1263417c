/**
 * `edgepush hl7 listen|send`: drop-in equivalents of `medplum hl7 listen/send`.
 * stdout carries what a user or script reads (the listening address, the ACK); logs go to stderr.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import pino from 'pino';
import { generateExampleAdt } from '../../hl7/example';
import { isApplicationAck, isPositiveAck } from '../../protocol/ack-codes';
import { DeviceError, MllpDeviceClient } from '../../edge-agent/mllp/device-client';
import { decodeText, resolveEncoding } from '../../edge-agent/mllp/encoding';
import { startHl7Listener } from '../../edge-agent/mllp/listener';
import { parseDuration } from '../duration';
import { logDestination, logFormatOption, resolveLogFormat } from '../log-format';
import { UsageError } from './target';

interface ListenFlags {
  ack: string;
  delay: string;
  host: string;
  encoding: string;
  logLevel: string;
  logFormat?: string;
  quiet?: boolean;
}

interface SendFlags {
  file?: string;
  generateExample?: boolean;
  encoding: string;
  timeout: string;
  returnAck: string;
}

export function registerHl7Commands(program: Command): void {
  const hl7 = program.command('hl7').description('HL7 v2 over MLLP tools: a device simulator and a client.');

  hl7
    .command('listen')
    .description('Simulate a device: accept MLLP connections and ACK each message (MSA-2 = its MSH-10).')
    .argument('<port>', 'TCP port to listen on (0 picks a free one)')
    .option('--ack <code>', 'ACK code to answer with: AA, AE or AR', 'AA')
    .option('--delay <duration>', 'wait this long before each ACK, e.g. 500ms or 2s', '0')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--encoding <name>', 'character encoding of the messages', 'utf-8')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|silent', 'info')
    .addOption(logFormatOption())
    .option('--quiet', 'do not print each received message on stdout')
    .action(async (portArg: string, flags: ListenFlags) => {
      const port = parseInteger('port', portArg, 0, 65535);
      const ack = flags.ack.toUpperCase();
      if (!isApplicationAck(ack)) throw new UsageError(`--ack must be AA, AE or AR, got ${flags.ack}`);
      const delayMs = durationWithin('--delay', flags.delay, 0, 600_000);
      const encoding = usage(() => resolveEncoding(flags.encoding));
      const logger = pino({ name: 'edgepush-hl7-listen', level: flags.logLevel }, logDestination(resolveLogFormat(flags.logFormat)));
      // A simulator shows what arrived (as `medplum hl7 listen` does): segments on lines, a
      // blank line between messages. stdout only; the logs on stderr still carry no bodies.
      const onMessage = flags.quiet
        ? undefined
        : (msg: string) =>
            void process.stdout.write(
              `${msg
                .split(/\r\n?|\n/)
                .filter(Boolean)
                .join('\n')}\n\n`,
            );
      const listener = await startHl7Listener({ port, host: flags.host, ack, delayMs, encoding, logger, onMessage });
      const stop = (signal: string) => {
        logger.info({ signal, received: listener.received }, 'shutting down');
        void listener.close().then(() => process.exit(0));
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
      // Printed last: a script that waits for this line may signal us at once.
      process.stdout.write(`Listening for HL7 over MLLP on ${flags.host}:${listener.port} (ACK ${ack}, encoding ${encoding})\n`);
    });

  hl7
    .command('send')
    .description('Send one HL7 message over MLLP, print the ACK; exit 0 on AA/CA, 1 otherwise.')
    .argument('<host>', 'device host')
    .argument('<port>', 'device port')
    .argument('[message]', 'the message inline, segments separated by \\r, \\n or real newlines (instead of --file)')
    .option('--file <file>', 'the message to send (segments on lines; \\n, \\r\\n or \\r)')
    .option('--generate-example', 'send a generated ADT^A01 instead of a file')
    .option('--encoding <name>', 'character encoding of the file and on the wire', 'utf-8')
    .option('--timeout <duration>', 'how long to wait for the connection and for the ACK, e.g. 10s', '10s')
    .option('--return-ack <mode>', 'first (any ACK) or application (skip commit ACKs CA)', 'first')
    .action(async (host: string, portArg: string, inline: string | undefined, flags: SendFlags) => {
      const port = parseInteger('port', portArg, 1, 65535);
      const timeoutMs = durationWithin('--timeout', flags.timeout, 1, 3_600_000);
      const encoding = usage(() => resolveEncoding(flags.encoding));
      if (flags.returnAck !== 'first' && flags.returnAck !== 'application') {
        throw new UsageError(`--return-ack must be first or application, got ${flags.returnAck}`);
      }
      if ([inline !== undefined, Boolean(flags.file), Boolean(flags.generateExample)].filter(Boolean).length !== 1)
        throw new UsageError('give exactly one of --file <file>, --generate-example or the message inline');
      // A byte-order mark (Windows editors save UTF-8 with one) is not part of the message.
      const message =
        inline !== undefined
          ? inlineMessage(inline)
          : flags.file
            ? decodeText(readMessageFile(flags.file), encoding).replace(/^\uFEFF/, '')
            : generateExampleAdt();

      const client = new MllpDeviceClient({
        host,
        port,
        encoding,
        connectTimeoutMs: timeoutMs,
        ackTimeoutMs: timeoutMs,
        reconnect: { initialDelayMs: 0, maxDelayMs: 0, maxAttempts: 1 }, // one try, like medplum hl7 send
      });
      try {
        const result = await client.send(message, { returnAck: flags.returnAck });
        process.stdout.write(result.ack.split('\r').filter(Boolean).join('\n') + '\n');
        if (!isPositiveAck(result.ackCode)) {
          process.stderr.write(`edgepush: the device answered ${result.ackCode}\n`);
          process.exitCode = 1;
        }
      } catch (err) {
        if (!(err instanceof DeviceError)) throw err;
        process.stderr.write(`edgepush: ${err.code}: ${err.message}\n`);
        process.exitCode = 1;
      } finally {
        await client.close();
      }
    });
}

function readMessageFile(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new UsageError(`cannot read --file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function parseInteger(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

function durationWithin(flag: string, value: string, minMs: number, maxMs: number): number {
  const ms = parseDuration(flag, value);
  if (ms < minMs || ms > maxMs) throw new UsageError(`${flag} must be from ${minMs} ms to ${maxMs / 1000} s, got ${JSON.stringify(value)}`);
  return ms;
}

/** A shell argument cannot hold a carriage return easily: accept a typed `\r` or `\n` as the segment separator. */
function inlineMessage(text: string): string {
  return text.replace(/\\r\\n|\\r|\\n/g, '\r').replace(/\r?\n/g, '\r');
}

/** A flag's value the driver refused (e.g. an unknown --encoding) is a usage error. */
function usage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
