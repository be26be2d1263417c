/**
 * The relay's structured logger. Message bodies are PHI: nothing in the relay passes a body to
 * the logger, and `redact` is a second line of defence should one slip into a log object.
 */
import pino, { type Logger } from 'pino';

export function createRelayLogger(level: string, destination?: pino.DestinationStream): Logger {
  const opts: pino.LoggerOptions = {
    name: 'edgepush-relay',
    level,
    redact: { paths: ['body', '*.body', 'secret', '*.secret', 'headers'], censor: '[redacted]' },
  };
  return destination ? pino(opts, destination) : pino(opts);
}
