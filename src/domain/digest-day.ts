/**
 * The digest's calendar: local days in an IANA zone (DST-correct), the UTC dates they cover, and
 * how days and elapsed times are named. Pure: the zone database is the one Intl ships.
 */

/** One calendar day in an IANA zone, as the UTC instants it runs between: [start, end). */
export interface LocalDay {
  /** YYYY-MM-DD, in `timeZone`. */
  date: string;
  timeZone: string;
  /** ISO instants (with milliseconds). 23, 24 or 25 hours apart around daylight-saving changes. */
  start: string;
  end: string;
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A real calendar date written YYYY-MM-DD (2026-02-30 is not one). */
export function isIsoDate(text: string): boolean {
  const m = ISO_DATE.exec(text);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === text;
}

export function addDays(date: string, days: number): string {
  const m = ISO_DATE.exec(date);
  if (!m) throw new RangeError(`not a date: ${date}`);
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + days)).toISOString().slice(0, 10);
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Intl is the IANA database the runtime ships; formatters are costly to build, so one per zone. */
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall-clock reading in `timeZone` at an instant, as numbers. */
function wallClock(ms: number, timeZone: string) {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(ms))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return {
    year: parts.year ?? 0,
    month: parts.month ?? 0,
    day: parts.day ?? 0,
    hour: parts.hour ?? 0,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
  };
}

/** How far the zone's wall clock is ahead of UTC at an instant, in ms. */
function offsetAt(ms: number, timeZone: string): number {
  const w = wallClock(ms, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** The local calendar date of an instant in `timeZone`. */
export function localDateOf(instant: Date | string, timeZone: string): string {
  const ms = typeof instant === 'string' ? Date.parse(instant) : instant.getTime();
  const w = wallClock(ms, timeZone);
  return `${String(w.year).padStart(4, '0')}-${String(w.month).padStart(2, '0')}-${String(w.day).padStart(2, '0')}`;
}

/** Local HH:MM of an instant in `timeZone`. */
export function localTimeOf(instant: string, timeZone: string): string {
  const w = wallClock(Date.parse(instant), timeZone);
  return `${String(w.hour).padStart(2, '0')}:${String(w.minute).padStart(2, '0')}`;
}

/**
 * The first instant of a local date. Usually local midnight: the UTC reading of midnight minus the
 * zone's offset, with the offset taken on either side of a change. Where a change skips midnight
 * (America/Santiago springs from 00:00 to 01:00) the day starts at the first instant that exists.
 */
function startOfLocalDate(date: string, timeZone: string): number {
  const m = ISO_DATE.exec(date);
  if (!m) throw new RangeError(`not a date: ${date}`);
  const midnightAsUtc = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  const hour = 3_600_000;
  // Offsets run from UTC-12 to UTC+14: the real start lies within 15 hours of midnight-as-UTC.
  const candidates = [-15 * hour, 0, 15 * hour]
    .map((probe) => midnightAsUtc - offsetAt(midnightAsUtc + probe, timeZone))
    .filter((ms) => {
      const w = wallClock(ms, timeZone);
      return localDateOf(new Date(ms), timeZone) === date && w.hour === 0 && w.minute === 0 && w.second === 0;
    });
  if (candidates.length > 0) return Math.min(...candidates);
  // No local midnight that day: search for the first second whose local date is `date`.
  let lo = midnightAsUtc - 15 * hour;
  let hi = midnightAsUtc + 15 * hour;
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (localDateOf(new Date(mid), timeZone) >= date) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** The local day `date` in `timeZone`, DST-correct: a spring-forward day lasts 23 hours, a fall-back day 25. */
export function localDay(date: string, timeZone: string): LocalDay {
  if (!isIsoDate(date)) throw new RangeError(`not a date: ${date}`);
  return {
    date,
    timeZone,
    start: new Date(startOfLocalDate(date, timeZone)).toISOString(),
    end: new Date(startOfLocalDate(addDays(date, 1), timeZone)).toISOString(),
  };
}

/** The local day before the one `now` falls in: what a morning digest reports on. */
export function previousLocalDay(now: Date, timeZone: string): LocalDay {
  return localDay(addDays(localDateOf(now, timeZone), -1), timeZone);
}

/** The UTC dates (YYYY-MM-DD) any instant in [start, end) falls on: the byDay index partitions to read. */
export function utcDatesCovering(start: string, end: string): string[] {
  const last = new Date(Date.parse(end) - 1).toISOString().slice(0, 10);
  const dates: string[] = [];
  for (let d = start.slice(0, 10); d <= last; d = addDays(d, 1)) dates.push(d);
  return dates;
}

export function inDay(day: Pick<LocalDay, 'start' | 'end'>, iso: string | undefined): boolean {
  if (iso === undefined) return false;
  const t = Date.parse(iso);
  return Date.parse(day.start) <= t && t < Date.parse(day.end);
}

/** "Monday 23 November 2026": the date is a calendar date, so it is named without any zone arithmetic. */
export function dayLabel(date: string): string {
  const m = ISO_DATE.exec(date);
  if (!m) return date;
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: 'UTC',
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    year: 'numeric',
  })
    .format(new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), 12)))
    .replace(',', '');
}

/** "45s", "12m", "2h 5m": rounded to the minute once past one. */
export function formatElapsed(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)}s`;
  const minutes = Math.round(seconds / 60);
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (h === 0) return `${m}m`;
  return m === 0 ? `${h}h` : `${h}h ${m}m`;
}
