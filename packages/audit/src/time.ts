import { InvalidTimeSpecError } from './errors.js';

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * Parses `--since`/`--until` values: a duration back from `now` (`90s`, `15m`, `1h`, `2d`, `1w`,
 * also combined: `1h30m`) or an ISO 8601 date/time. Throws InvalidTimeSpecError (AUDIT_INVALID_TIME).
 */
export function parseTimeSpec(spec: string, now: number = Date.now()): Date {
  const text = spec.trim();
  if (/^(\d+[smhdw])+$/.test(text)) {
    let ms = 0;
    for (const m of text.matchAll(/(\d+)([smhdw])/g)) ms += Number(m[1]) * UNITS[m[2]!]!;
    return new Date(now - ms);
  }
  if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) {
    const date = new Date(text);
    if (!Number.isNaN(date.getTime())) return date;
  }
  throw new InvalidTimeSpecError(spec);
}
