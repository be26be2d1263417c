import { UsageError } from './commands/target';

/** Durations on the command line: `250ms`, `30s`, `5m`, `2h`, `30d`, or a bare number (of `bareUnit`, ms unless said). */
const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(flag: string, value: string, bareUnit: 'ms' | 's' = 'ms'): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(value);
  if (!match) throw new UsageError(`${flag} must be a duration such as 500ms, 30s, 5m or 2h, got ${JSON.stringify(value)}`);
  return Math.round(Number(match[1]) * UNITS[match[2] ?? bareUnit]);
}
