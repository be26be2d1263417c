/**
 * Where and how the CLI's commands log: pino JSON lines on stderr (stdout is for what a user or
 * script reads), or readable lines with `--log-format pretty`, the default when stderr is a TTY.
 * The pretty form is a few lines here rather than pino-pretty and its dozen dependencies.
 */
import { Option } from 'commander';
import pino from 'pino';
import { UsageError } from './commands/target';

export type LogFormat = 'json' | 'pretty';

export function logFormatOption(): Option {
  return new Option('--log-format <format>', 'json (default) or pretty (the default when stderr is a terminal)');
}

export function resolveLogFormat(flag: string | undefined, stderrIsTty = process.stderr.isTTY === true): LogFormat {
  if (flag === undefined) return stderrIsTty ? 'pretty' : 'json';
  if (flag === 'json' || flag === 'pretty') return flag;
  throw new UsageError(`--log-format must be json or pretty, got ${JSON.stringify(flag)}`);
}

/** A pino destination on stderr in the given format. */
export function logDestination(format: LogFormat): pino.DestinationStream {
  if (format === 'json') return pino.destination(2);
  return { write: (line: string) => void process.stderr.write(formatLogLine(line)) };
}

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const OMIT = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name', 'v']);

/** One pino JSON line -> `2026-01-02T03:04:05.678Z INFO  message key=value ...` (ISO time, UTC). */
export function formatLogLine(line: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const time = typeof rec.time === 'number' ? new Date(rec.time).toISOString() : new Date().toISOString();
  const level = (LEVELS[rec.level as number] ?? String(rec.level)).padEnd(5);
  const fields = Object.entries(rec)
    .filter(([k]) => !OMIT.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' && !/[\s"=]/.test(v) ? v : JSON.stringify(v)}`);
  return `${[time, level, typeof rec.msg === 'string' ? rec.msg : '', ...fields].join(' ')}\n`;
}
