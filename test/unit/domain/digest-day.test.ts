import fc from 'fast-check';
import {
  addDays,
  dayLabel,
  formatElapsed,
  inDay,
  isIsoDate,
  localDateOf,
  localDay,
  previousLocalDay,
  utcDatesCovering,
} from '../../../src/domain/digest-day';

const HOUR = 3_600_000;
const hours = (day: { start: string; end: string }) => (Date.parse(day.end) - Date.parse(day.start)) / HOUR;

describe('localDay: the day boundary is the local day', () => {
  it('UTC: midnight to midnight', () => {
    expect(localDay('2026-11-23', 'UTC')).toEqual({
      date: '2026-11-23',
      timeZone: 'UTC',
      start: '2026-11-23T00:00:00.000Z',
      end: '2026-11-24T00:00:00.000Z',
    });
  });

  it('Asia/Tokyo (UTC+9, no daylight saving): the day starts at 15:00 UTC the evening before', () => {
    const tokyo = localDay('2026-11-23', 'Asia/Tokyo');
    expect(tokyo.start).toBe('2026-11-22T15:00:00.000Z');
    expect(tokyo.end).toBe('2026-11-23T15:00:00.000Z');
    // The same instant belongs to different days in the two zones.
    const instant = '2026-11-23T16:30:00Z';
    expect(inDay(tokyo, instant)).toBe(false);
    expect(inDay(localDay('2026-11-24', 'Asia/Tokyo'), instant)).toBe(true);
    expect(inDay(localDay('2026-11-23', 'UTC'), instant)).toBe(true);
    // The boundary itself belongs to the day it starts.
    expect(inDay(tokyo, tokyo.start)).toBe(true);
    expect(inDay(tokyo, tokyo.end)).toBe(false);
  });

  it('America/New_York, spring forward (2026-03-08): 23 hours, from 05:00 to 04:00 UTC', () => {
    const day = localDay('2026-03-08', 'America/New_York');
    expect(day.start).toBe('2026-03-08T05:00:00.000Z');
    expect(day.end).toBe('2026-03-09T04:00:00.000Z');
    expect(hours(day)).toBe(23);
  });

  it('America/New_York, fall back (2026-11-01): 25 hours, from 04:00 to 05:00 UTC', () => {
    const day = localDay('2026-11-01', 'America/New_York');
    expect(day.start).toBe('2026-11-01T04:00:00.000Z');
    expect(day.end).toBe('2026-11-02T05:00:00.000Z');
    expect(hours(day)).toBe(25);
    // 01:30 happens twice that night; both belong to the same local day.
    expect(inDay(day, '2026-11-01T05:30:00Z')).toBe(true);
    expect(inDay(day, '2026-11-01T06:30:00Z')).toBe(true);
  });

  it('a zone whose clocks skip midnight (America/Santiago, 2026-09-06): the day starts at 01:00 local', () => {
    const day = localDay('2026-09-06', 'America/Santiago');
    expect(day.start).toBe('2026-09-06T04:00:00.000Z');
    expect(localDateOf(new Date(Date.parse(day.start) - 1000), 'America/Santiago')).toBe('2026-09-05');
    expect(hours(day)).toBe(23);
  });

  it('consecutive days tile time, and every instant of a day has that local date (any zone, any date)', () => {
    const zones = [
      'UTC',
      'Asia/Tokyo',
      'America/New_York',
      'America/Santiago',
      'Europe/Berlin',
      'Australia/Lord_Howe',
      'Asia/Kathmandu',
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.integer({ min: 0, max: 3 * 365 }),
        fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
        (zone, offset, fraction) => {
          const date = addDays('2025-01-01', offset);
          const day = localDay(date, zone);
          expect(localDay(addDays(date, 1), zone).start).toBe(day.end);
          const span = Date.parse(day.end) - Date.parse(day.start);
          expect([23, 23.5, 24, 24.5, 25]).toContain(span / HOUR);
          const instant = new Date(Date.parse(day.start) + Math.floor(fraction * span));
          expect(localDateOf(instant, zone)).toBe(date);
          expect(localDateOf(new Date(Date.parse(day.start) - 1), zone)).toBe(addDays(date, -1));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses what is not a calendar date', () => {
    expect(() => localDay('2026-02-30', 'UTC')).toThrow(RangeError);
    expect(isIsoDate('2026-02-28')).toBe(true);
    expect(isIsoDate('2026-2-28')).toBe(false);
  });
});

describe('previousLocalDay: what a morning digest reports on', () => {
  it('09:00 in Tokyo on the 24th (00:00 UTC) reports the 23rd, Tokyo time', () => {
    expect(previousLocalDay(new Date('2026-11-24T00:00:00Z'), 'Asia/Tokyo')).toMatchObject({
      date: '2026-11-23',
      start: '2026-11-22T15:00:00.000Z',
    });
    // In UTC that instant is midnight starting the 24th: yesterday is the 23rd there too, but a different span.
    expect(previousLocalDay(new Date('2026-11-24T00:00:00Z'), 'UTC').date).toBe('2026-11-23');
    // 23:30 UTC on the 23rd is already the 24th in Tokyo.
    expect(previousLocalDay(new Date('2026-11-23T23:30:00Z'), 'Asia/Tokyo').date).toBe('2026-11-23');
    expect(previousLocalDay(new Date('2026-11-23T23:30:00Z'), 'UTC').date).toBe('2026-11-22');
  });

  it('the morning after a New York DST change reports the 23- or 25-hour day', () => {
    expect(hours(previousLocalDay(new Date('2026-03-09T13:00:00Z'), 'America/New_York'))).toBe(23);
    expect(hours(previousLocalDay(new Date('2026-11-02T14:00:00Z'), 'America/New_York'))).toBe(25);
  });
});

describe('utcDatesCovering: the byDay partitions a local day touches', () => {
  it('a Tokyo day spans two UTC dates; a UTC day one', () => {
    const tokyo = localDay('2026-11-23', 'Asia/Tokyo');
    expect(utcDatesCovering(tokyo.start, tokyo.end)).toEqual(['2026-11-22', '2026-11-23']);
    const utc = localDay('2026-11-23', 'UTC');
    expect(utcDatesCovering(utc.start, utc.end)).toEqual(['2026-11-23']);
    const ny = localDay('2026-11-01', 'America/New_York');
    expect(utcDatesCovering(ny.start, ny.end)).toEqual(['2026-11-01', '2026-11-02']);
  });
});

describe('labels', () => {
  it('names the date and formats elapsed time', () => {
    expect(dayLabel('2026-11-23')).toBe('Monday 23 November 2026');
    expect(formatElapsed(45)).toBe('45s');
    expect(formatElapsed(90)).toBe('2m');
    expect(formatElapsed(3600)).toBe('1h');
    expect(formatElapsed(3600 + 5 * 60 + 20)).toBe('1h 5m');
  });
});
