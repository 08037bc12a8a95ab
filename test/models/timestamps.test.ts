import { describe, expect, it } from 'vitest';
import { calendarDay, checkTimeZone, parseTimestamp, TimestampError } from '../../plugins/index.js';

const utc = (iso: string): number => Date.parse(iso);

describe('the one timestamp parser (plugins/model/timestamps)', () => {
  it('reads ISO-8601 with an offset or Z as that instant', () => {
    expect(parseTimestamp('2011-12-09T12:50:00Z')).toBe(utc('2011-12-09T12:50:00Z'));
    expect(parseTimestamp('2011-12-09T12:50:00.250+01:00')).toBe(utc('2011-12-09T11:50:00.250Z'));
    expect(parseTimestamp('2011-12-09 12:50:00-0530')).toBe(utc('2011-12-09T18:20:00Z'));
    expect(parseTimestamp('2011-12-09T12:50+09')).toBe(utc('2011-12-09T03:50:00Z'));
  });

  it('reads naive timestamps as UTC, whatever the machine’s zone, unless a zone is named', () => {
    expect(parseTimestamp('2011-12-09 12:50:00')).toBe(utc('2011-12-09T12:50:00Z'));
    expect(parseTimestamp('2011-12-09')).toBe(utc('2011-12-09T00:00:00Z'));
    expect(parseTimestamp('2011-12-09 12:50:00', { timeZone: 'Asia/Tokyo' })).toBe(utc('2011-12-09T03:50:00Z'));
    expect(parseTimestamp('2011-07-01 12:00', { timeZone: 'Europe/London' })).toBe(utc('2011-07-01T11:00:00Z'));
    // A time a spring-forward change skips is read with the offset before it; one that occurs twice is the earlier.
    expect(parseTimestamp('2024-03-31 02:30:00', { timeZone: 'Europe/Berlin' })).toBe(utc('2024-03-31T01:30:00Z'));
    expect(parseTimestamp('2024-10-27 02:30:00', { timeZone: 'Europe/Berlin' })).toBe(utc('2024-10-27T00:30:00Z'));
  });

  it('counts a purchase on its calendar day in the zone named', () => {
    const late = parseTimestamp('2011-12-09 23:30:00', { timeZone: 'Asia/Tokyo' });
    expect(calendarDay(late, 'Asia/Tokyo')).toBe(utc('2011-12-09T00:00:00Z') / 86_400_000);
    expect(calendarDay(late)).toBe(utc('2011-12-09T00:00:00Z') / 86_400_000);
    expect(calendarDay(parseTimestamp('2011-12-09T23:30:00-05:00'), 'America/New_York')).toBe(
      utc('2011-12-09T00:00:00Z') / 86_400_000,
    );
  });

  it('reads YYYYMMDD and epoch milliseconds only where the source documents them', () => {
    expect(parseTimestamp('19970101', { compactDates: true })).toBe(utc('1997-01-01T00:00:00Z'));
    expect(parseTimestamp('1323435000000', { epochMilliseconds: true })).toBe(1323435000000);
    expect(() => parseTimestamp('19970101')).toThrow(/bare number/);
    expect(() => parseTimestamp('1323435000000')).toThrow(/bare number/);
  });

  it.each([
    ['1997-02-30', /February 1997 has 28 days/],
    ['2023-02-29', /February 2023 has 28 days/],
    ['19970230', /February 1997 has 28 days/],
    ['2011-13-01', /no month 13/],
    ['2011-12-09 24:00:00', /not a time of day/],
    ['2', /bare number where a date is expected/],
    ['0', /bare number/],
    ['1', /bare number/],
    ['1899-12-31', /year 1899 is outside 1900–2200/],
    ['2201-01-01', /year 2201/],
    ['+275760-09-13T00:00:00.000Z', /ISO-8601/],
    ['Tue, 01 Oct 1997 00:00:00 GMT', /ISO-8601/],
    ['', /empty/],
    ['5', /bare number/],
  ])('refuses %j: %s', (text, reason) => {
    const options = { compactDates: true };
    expect(() => parseTimestamp(text, options)).toThrow(TimestampError);
    expect(() => parseTimestamp(text, options)).toThrow(reason);
  });

  it('refuses an epoch outside 1900–2200 and a zone the system does not know', () => {
    expect(() => parseTimestamp('99999999999999999', { epochMilliseconds: true })).toThrow(/outside 1900–2200/);
    expect(checkTimeZone('Europe/London')).toBe('Europe/London');
    expect(() => checkTimeZone('Mars/Olympus')).toThrow(/not a time zone/);
  });
});
