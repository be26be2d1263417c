import {
  checkTimeZone,
  formatDt,
  formatDtm,
  formatOffset,
  parseDtm,
  timeZoneOffsetMinutes,
  type DtmPrecision,
} from '../../../hl7/datetime';
import { expectHl7Error } from '../../support/hl7-error';

const utc = (iso: string) => new Date(iso);

describe('formatDtm', () => {
  it.each([
    // zone, instant (UTC), expected
    ['UTC', '2024-07-01T10:00:00.005Z', '20240701100000.005+0000'],
    ['Europe/Berlin', '2024-07-01T10:00:00.005Z', '20240701120000.005+0200'], // summer, CEST
    ['Europe/Berlin', '2024-01-15T10:00:00.005Z', '20240115110000.005+0100'], // winter, CET
    ['America/New_York', '2024-07-01T10:00:00.005Z', '20240701060000.005-0400'], // EDT
    ['America/New_York', '2024-01-15T10:00:00.005Z', '20240115050000.005-0500'], // EST
    ['Asia/Kolkata', '2024-01-15T10:00:00.005Z', '20240115153000.005+0530'],
    ['America/St_Johns', '2024-01-15T10:00:00.005Z', '20240115063000.005-0330'],
    ['Asia/Kathmandu', '2024-01-15T10:00:00.005Z', '20240115154500.005+0545'],
    ['Asia/Kolkata', '2023-12-31T20:00:00.000Z', '20240101013000.000+0530'], // crosses the year locally
  ])('%s %s → %s', (timeZone, iso, expected) => {
    expect(formatDtm(utc(iso), { timeZone, precision: 'millisecond' })).toBe(expected);
  });

  it('zero-pads fractions and truncates them: 5 ms is .005, never .5', () => {
    const at = (ms: number) => new Date(Date.UTC(2024, 0, 2, 3, 4, 5, ms));
    const cases: [number, DtmPrecision, string][] = [
      [5, 'millisecond', '20240102030405.005'],
      [50, 'millisecond', '20240102030405.050'],
      [500, 'millisecond', '20240102030405.500'],
      [0, 'millisecond', '20240102030405.000'],
      [999, 'hundredth', '20240102030405.99'],
      [999, 'tenth', '20240102030405.9'],
      [5, 'tenth', '20240102030405.0'],
      [999, 'second', '20240102030405'],
      [999, 'minute', '202401020304'],
      [0, 'hour', '2024010203'],
      [0, 'day', '20240102'],
      [0, 'month', '202401'],
      [0, 'year', '2024'],
    ];
    for (const [ms, precision, text] of cases) {
      expect(formatDtm(at(ms), { precision, offset: false })).toBe(text);
      expect(formatDtm(at(ms), { precision })).toBe(text + '+0000');
    }
  });

  it('defaults to seconds in UTC with the offset', () => {
    expect(formatDtm(utc('2024-02-29T23:59:59.999Z'))).toBe('20240229235959+0000');
  });

  it('follows the DST transitions of Europe/Berlin and America/New_York to the minute', () => {
    // Berlin springs forward at 01:00 UTC on 2024-03-31 (02:00 → 03:00 local) and falls back at 01:00 UTC on 2024-10-27.
    expect(formatDtm(utc('2024-03-31T00:59:59Z'), { timeZone: 'Europe/Berlin' })).toBe('20240331015959+0100');
    expect(formatDtm(utc('2024-03-31T01:00:00Z'), { timeZone: 'Europe/Berlin' })).toBe('20240331030000+0200');
    expect(formatDtm(utc('2024-10-27T00:59:59Z'), { timeZone: 'Europe/Berlin' })).toBe('20241027025959+0200');
    expect(formatDtm(utc('2024-10-27T01:00:00Z'), { timeZone: 'Europe/Berlin' })).toBe('20241027020000+0100');
    // New York: 2024-03-10 07:00 UTC (02:00 EST → 03:00 EDT); 2024-11-03 06:00 UTC (02:00 EDT → 01:00 EST).
    expect(formatDtm(utc('2024-03-10T06:59:59Z'), { timeZone: 'America/New_York' })).toBe('20240310015959-0500');
    expect(formatDtm(utc('2024-03-10T07:00:00Z'), { timeZone: 'America/New_York' })).toBe('20240310030000-0400');
    expect(formatDtm(utc('2024-11-03T05:59:59Z'), { timeZone: 'America/New_York' })).toBe('20241103015959-0400');
    expect(formatDtm(utc('2024-11-03T06:00:00Z'), { timeZone: 'America/New_York' })).toBe('20241103010000-0500');
  });

  it('rejects unknown zones, invalid dates and years DTM cannot write', () => {
    expectHl7Error(() => formatDtm(new Date(0), { timeZone: 'Mars/Olympus' }), 'INVALID_TIME_ZONE');
    expectHl7Error(() => checkTimeZone('+02:00 nonsense'), 'INVALID_TIME_ZONE');
    expectHl7Error(() => formatDtm(new Date(NaN)), 'INVALID_DATE');
    expectHl7Error(() => formatDtm(new Date(Date.UTC(10000, 0, 1))), 'INVALID_DATE');
    expectHl7Error(() => formatDtm('2024-01-01' as never), 'INVALID_DATE');
    expectHl7Error(() => formatDtm(new Date(0), { precision: 'week' as never }), 'INVALID_VALUE');
  });

  it('writes years below 1000 with four digits', () => {
    const d = new Date(0);
    d.setUTCFullYear(999, 11, 31);
    expect(formatDtm(d, { precision: 'day', offset: false })).toBe('09991231');
  });

  it('keeps the instant exact for a historical zone with a second-level offset (rounded to the minute)', () => {
    // Kolkata used Madras time, +05:21:10, until 1906; Monrovia -00:44:30 until 1972.
    const instant = utc('1900-06-01T12:00:00.250Z');
    const text = formatDtm(instant, { timeZone: 'Asia/Kolkata', precision: 'millisecond' });
    expect(text).toBe('19000601172100.250+0521');
    expect(parseDtm(text).date.getTime()).toBe(instant.getTime());
    const monrovia = formatDtm(utc('1960-06-01T12:00:00Z'), { timeZone: 'Africa/Monrovia' });
    expect(monrovia).toBe('19600601111600-0044');
    expect(parseDtm(monrovia).date).toEqual(utc('1960-06-01T12:00:00Z'));
  });
});

describe('formatDt', () => {
  it('writes the local date of the site, without an offset', () => {
    const instant = utc('2024-01-15T23:30:00Z');
    expect(formatDt(instant)).toBe('20240115');
    expect(formatDt(instant, { timeZone: 'Europe/Berlin' })).toBe('20240116');
    expect(formatDt(instant, { timeZone: 'America/New_York' })).toBe('20240115');
    expect(formatDt(instant, { timeZone: 'Asia/Kolkata', precision: 'month' })).toBe('202401');
    expect(formatDt(instant, { precision: 'year' })).toBe('2024');
    expectHl7Error(() => formatDt(instant, { precision: 'hour' as never }), 'INVALID_VALUE');
  });
});

describe('timeZoneOffsetMinutes / formatOffset', () => {
  it.each([
    ['UTC', '2024-07-01T00:00:00Z', 0, '+0000'],
    ['Europe/Berlin', '2024-07-01T00:00:00Z', 120, '+0200'],
    ['Europe/Berlin', '2024-01-01T00:00:00Z', 60, '+0100'],
    ['America/New_York', '2024-01-01T00:00:00Z', -300, '-0500'],
    ['Asia/Kolkata', '2024-01-01T00:00:00Z', 330, '+0530'],
    ['America/St_Johns', '2024-01-01T00:00:00Z', -210, '-0330'],
    ['Pacific/Kiritimati', '2024-01-01T00:00:00Z', 840, '+1400'],
  ])('%s at %s', (zone, iso, minutes, text) => {
    expect(timeZoneOffsetMinutes(utc(iso), zone)).toBe(minutes);
    expect(formatOffset(minutes)).toBe(text);
  });
});

describe('parseDtm', () => {
  it('reads the offset and the precision as written', () => {
    expect(parseDtm('20240115153000.005+0530')).toEqual({
      date: utc('2024-01-15T10:00:00.005Z'),
      offsetMinutes: 330,
      precision: 'millisecond',
    });
    expect(parseDtm('20240115063000-0330')).toEqual({ date: utc('2024-01-15T10:00:00Z'), offsetMinutes: -210, precision: 'second' });
    expect(parseDtm('20240115153000.12+0000').precision).toBe('hundredth');
    expect(parseDtm('20240115153000.1234+0000').date.getUTCMilliseconds()).toBe(123);
    expect(parseDtm('2024').date).toEqual(utc('2024-01-01T00:00:00Z'));
    expect(parseDtm('202402').precision).toBe('month');
    expect(parseDtm('20240115153000.57+0000').date.getUTCMilliseconds()).toBe(570);
    expect(parseDtm('20240115153000.005+0000').date.getUTCMilliseconds()).toBe(5);
  });

  it('reads a value without offset as local time in the site zone, DST gaps and overlaps included', () => {
    expect(parseDtm('20240701120000', { timeZone: 'Europe/Berlin' }).date).toEqual(utc('2024-07-01T10:00:00Z'));
    expect(parseDtm('20240115120000', { timeZone: 'Europe/Berlin' }).date).toEqual(utc('2024-01-15T11:00:00Z'));
    // 02:30 does not exist on 2024-03-31 in Berlin: read with the winter offset (= 03:30 summer time).
    expect(parseDtm('20240331023000', { timeZone: 'Europe/Berlin' })).toMatchObject({
      date: utc('2024-03-31T01:30:00Z'),
      offsetMinutes: 60,
    });
    // 02:30 happens twice on 2024-10-27: the first (summer time) is taken.
    expect(parseDtm('20241027023000', { timeZone: 'Europe/Berlin' })).toMatchObject({
      date: utc('2024-10-27T00:30:00Z'),
      offsetMinutes: 120,
    });
    expect(parseDtm('20240331120000', { timeZone: 'Europe/Berlin' }).offsetMinutes).toBe(120);
    expect(parseDtm('20241103013000', { timeZone: 'America/New_York' }).offsetMinutes).toBe(-240);
  });

  it('is the inverse of formatDtm across zones, precisions and DST', () => {
    const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe'];
    const wrong: unknown[] = [];
    for (let t = Date.UTC(2024, 0, 1); t < Date.UTC(2025, 0, 1); t += 3_600_000 * 7 + 60_000 * 13 + 1_007) {
      for (const timeZone of zones) {
        const text = formatDtm(new Date(t), { timeZone, precision: 'millisecond' });
        const back = parseDtm(text);
        if (back.date.getTime() !== t || formatDtm(back.date, { timeZone, precision: 'millisecond' }) !== text)
          wrong.push({ t, timeZone, text });
      }
    }
    expect(wrong).toEqual([]);
  });

  it.each([
    '',
    '24',
    '2024-01-01',
    '20241301',
    '20240230',
    '2024010124',
    '202401011260',
    '20240101120060',
    '20240101+2400',
    '20240101.5',
    'x2024',
  ])('throws INVALID_DATE for %j', (bad) => {
    expectHl7Error(() => parseDtm(bad), 'INVALID_DATE');
  });
});
