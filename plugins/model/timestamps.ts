/**
 * The one timestamp parser: every place that reads a date or time from outside (connectors, ingestion, the CSV model
 * commands) reads it here, so that a timestamp means the same instant everywhere and on every machine. A leaf module:
 * it imports nothing, so `core/` and connectors may both use it.
 *
 * Accepted: ISO-8601 with an offset or `Z` (`2011-12-09T12:50:00Z`, `…+01:00`, `…+0100`, `…+01`, a space for the
 * `T`, fractions of a second); naive `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS[.fff]]` (and with a `T`), read in the zone
 * named (UTC unless `timeZone` names an IANA zone); and, only where the source documents them, `YYYYMMDD`
 * (`compactDates`) and epoch milliseconds (`epochMilliseconds`). Refused, each with a sentence saying why: impossible
 * dates (`1997-02-30`, `25:00`), a bare number where a date is expected (`2`), years outside 1900–2200, and anything
 * else (RFC 1123 dates, extended years). A naive local time that a daylight-saving change skips is read with the
 * offset before the change (02:30 on a spring-forward night is 03:30); one that occurs twice is the earlier.
 *
 * @example
 * parseTimestamp('2011-12-09 12:50:00'); // 1323435000000 (UTC)
 * parseTimestamp('2011-12-09 12:50:00', { timeZone: 'Europe/London' });
 * parseTimestamp('19970101', { compactDates: true });
 */

export interface TimestampOptions {
  /** IANA zone naive timestamps are in (default UTC). */
  timeZone?: string;
  /** Accept `YYYYMMDD` (a source that documents it, such as CDNOW). */
  compactDates?: boolean;
  /** Accept a whole number of milliseconds since 1970-01-01T00:00:00Z (a source that documents it). */
  epochMilliseconds?: boolean;
}

/**
 * Years a timestamp may fall in: outside them a value is a mistake (a bare number, a sentinel, a typo).
 *
 * @example
 * `expected a year from ${TIMESTAMP_YEARS.from} to ${TIMESTAMP_YEARS.to}`;
 */
export const TIMESTAMP_YEARS = { from: 1900, to: 2200 } as const;

/**
 * Why a text is not a timestamp; `reason` is a sentence without the location, which the caller adds.
 *
 * @example
 * try { parseTimestamp('1997-02-30'); } catch (error) {
 *   if (error instanceof TimestampError) throw new Error(`orders.csv:12, column date: ${error.reason}`);
 * }
 */
export class TimestampError extends Error {
  readonly code = 'invalid_timestamp';
  constructor(
    readonly text: string,
    readonly reason: string,
  ) {
    super(`"${text}" is not a timestamp: ${reason}`);
    this.name = 'TimestampError';
  }
}

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;
const COMPACT = /^(\d{4})(\d{2})(\d{2})$/;
const DAY_MS = 86_400_000;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * Milliseconds since the epoch of a timestamp, or a {@link TimestampError}.
 *
 * @example
 * parseTimestamp('1997-02-30'); // throws: February 1997 has 28 days
 */
export function parseTimestamp(text: string, options: TimestampOptions = {}): number {
  const t = text.trim();
  if (t === '') throw new TimestampError(text, 'it is empty');
  if (/^[+-]?\d+(\.\d+)?$/.test(t)) {
    const compact = COMPACT.exec(t);
    if (compact && options.compactDates)
      return fromFields(text, +compact[1]!, +compact[2]!, +compact[3]!, 0, 0, 0, 0, null, options.timeZone);
    if (options.epochMilliseconds && /^-?\d+$/.test(t)) {
      const ms = Number(t);
      const year = new Date(ms).getUTCFullYear();
      if (!Number.isSafeInteger(ms) || year < TIMESTAMP_YEARS.from || year > TIMESTAMP_YEARS.to)
        throw new TimestampError(
          text,
          `as epoch milliseconds it falls in ${Number.isFinite(year) ? year : 'no year'}, outside ${TIMESTAMP_YEARS.from}–${TIMESTAMP_YEARS.to}`,
        );
      return ms;
    }
    throw new TimestampError(
      text,
      `a bare number where a date is expected (write YYYY-MM-DD${options.compactDates ? ' or YYYYMMDD' : ''})`,
    );
  }
  const m = ISO.exec(t);
  if (!m)
    throw new TimestampError(
      text,
      'write ISO-8601 (2024-03-01T09:30:00Z, with an offset or Z) or YYYY-MM-DD[ HH:MM:SS]',
    );
  const fraction = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
  return fromFields(
    text,
    +m[1]!,
    +m[2]!,
    +m[3]!,
    m[4] ? +m[4] : 0,
    m[5] ? +m[5] : 0,
    m[6] ? +m[6] : 0,
    fraction,
    m[8] ?? null,
    options.timeZone,
  );
}

function fromFields(
  text: string,
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  ms: number,
  offset: string | null,
  timeZone: string | undefined,
): number {
  if (year < TIMESTAMP_YEARS.from || year > TIMESTAMP_YEARS.to)
    throw new TimestampError(text, `the year ${year} is outside ${TIMESTAMP_YEARS.from}–${TIMESTAMP_YEARS.to}`);
  if (month < 1 || month > 12) throw new TimestampError(text, `there is no month ${month}`);
  if (day < 1 || day > daysInMonth(year, month))
    throw new TimestampError(
      text,
      `${new Date(Date.UTC(2000, month - 1, 1)).toLocaleString('en', { month: 'long', timeZone: 'UTC' })} ${year} has ${daysInMonth(year, month)} days`,
    );
  if (hour > 23 || minute > 59 || second > 59)
    throw new TimestampError(
      text,
      `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}:${String(second).padStart(2, '0')} is not a time of day`,
    );
  const wall = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  if (offset !== null) {
    if (offset === 'Z' || offset === 'z') return wall;
    const o = /^([+-])(\d{2}):?(\d{2})?$/.exec(offset)!;
    const hours = +o[2]!;
    const minutes = o[3] ? +o[3] : 0;
    if (hours > 23 || minutes > 59) throw new TimestampError(text, `${offset} is not a UTC offset`);
    return wall - (o[1] === '-' ? -1 : 1) * (hours * 60 + minutes) * 60_000;
  }
  return timeZone === undefined || timeZone === 'UTC' ? wall : fromWallTime(wall, timeZone);
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/**
 * The checked IANA zone name, or an error sentence: `Europe/London` passes, `Mars/Olympus` does not.
 *
 * @example
 * checkTimeZone(flags.timezone ?? 'UTC');
 */
export function checkTimeZone(timeZone: string): string {
  try {
    formatter(timeZone);
    return timeZone;
  } catch {
    throw new Error(`"${timeZone}" is not a time zone this system knows (name an IANA zone, e.g. Europe/London)`);
  }
}

/**
 * The zone's offset from UTC, in milliseconds, at an instant.
 *
 * @example
 * zoneOffset(Date.UTC(2026, 6, 1), 'Europe/London'); // 3_600_000 (summer time)
 */
export function zoneOffset(instant: number, timeZone: string): number {
  if (timeZone === 'UTC') return 0;
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(instant)))
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const asUtc = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return asUtc - (instant - (((instant % 1000) + 1000) % 1000));
}

/** The instant of a wall-clock time (given as if it were UTC) in a zone. */
function fromWallTime(wall: number, timeZone: string): number {
  const before = wall - zoneOffset(wall - DAY_MS, timeZone);
  const after = wall - zoneOffset(wall + DAY_MS, timeZone);
  const fits = (t: number): boolean => t + zoneOffset(t, timeZone) === wall;
  if (fits(before) && fits(after)) return Math.min(before, after);
  if (fits(before)) return before;
  if (fits(after)) return after;
  return before;
}

/**
 * The calendar day (whole days since 1970-01-01) an instant falls on in a zone (UTC by default): the day a purchase
 * counts on.
 *
 * @example
 * calendarDay(parseTimestamp('2011-12-09 23:30:00', { timeZone: 'Asia/Tokyo' }), 'Asia/Tokyo'); // the 9th
 */
export function calendarDay(instant: number, timeZone = 'UTC'): number {
  return Math.floor((instant + zoneOffset(instant, timeZone)) / DAY_MS);
}
