/**
 * The ASA's local clock: `clock timezone` and `clock summer-time` turn a capture timestamp (UTC
 * seconds) into the local wall-clock minute that `time-range` windows are written in. Pure integer
 * calendar arithmetic (proleptic Gregorian, no Date objects): cheap enough to run once per new
 * connection that reaches an access-list entry with a time-range.
 */
import { civilTime } from '../output/time.js';

const SECONDS_PER_DAY = 86400;

/** Days since 1970-01-01 of a civil date (month 1-12). Howard Hinnant's days_from_civil. */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const mp = (m + 9) % 12; // March = 0
  const doy = Math.floor((153 * mp + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** The civil year a day count (since 1970-01-01) falls in (the capture-time calendar's, output/time.ts). */
export function yearOfDays(days: number): number {
  return Number(civilTime(days * SECONDS_PER_DAY).year);
}

/** Day of the week of a day count, Monday = 0 ... Sunday = 6 (1970-01-01 was a Thursday). */
export function weekdayOfDays(days: number): number {
  return (((days + 3) % 7) + 7) % 7;
}

export function daysInMonth(y: number, m: number): number {
  return daysFromCivil(m === 12 ? y + 1 : y, m === 12 ? 1 : m + 1, 1) - daysFromCivil(y, m, 1);
}

/** `week weekday month hh:mm` of `clock summer-time ... recurring`: week 1-4, or 5 = `last`. */
export interface RecurringPoint {
  week: number;
  /** Monday = 0 ... Sunday = 6. */
  weekday: number;
  month: number;
  minute: number;
}

/** `day month year hh:mm` of `clock summer-time ... date`. */
export interface DatePoint {
  year: number;
  month: number;
  day: number;
  minute: number;
}

export type SummerTime =
  | { kind: 'recurring'; zone: string; start: RecurringPoint; end: RecurringPoint; offset: number; line: number; defaulted: boolean }
  | { kind: 'date'; zone: string; start: DatePoint; end: DatePoint; offset: number; line: number };

export interface ClockConfig {
  /** `clock timezone NAME HOURS [MINUTES]` (hours as written without sign: `-0 30` keeps its sign); null = UTC, the ASA default. */
  timezone: { name: string; negative: boolean; hours: number; minutes: number; line: number } | null;
  summer: SummerTime | null;
}

/** The default of `clock summer-time ZONE recurring` without dates: the United States rule. */
export const US_SUMMER_RULE = {
  start: { week: 2, weekday: 6, month: 3, minute: 120 },
  end: { week: 1, weekday: 6, month: 11, minute: 120 },
} as const;

export const LAST_WEEK = 5;

/** Local-minute (days*1440 + minute) of a recurring point in year y. */
export function recurringMinute(y: number, p: RecurringPoint): number {
  const first = daysFromCivil(y, p.month, 1);
  let day: number;
  if (p.week === LAST_WEEK) {
    const last = first + daysInMonth(y, p.month) - 1;
    day = last - ((weekdayOfDays(last) - p.weekday + 7) % 7);
  } else day = first + ((p.weekday - weekdayOfDays(first) + 7) % 7) + 7 * (p.week - 1);
  return day * 1440 + p.minute;
}

export function dateMinute(p: DatePoint): number {
  return daysFromCivil(p.year, p.month, p.day) * 1440 + p.minute;
}

/** Offset east of UTC in minutes: `clock timezone X -3 30` is -210 (the minutes take the hours' sign). */
export function zoneOffsetMinutes(tz: ClockConfig['timezone']): number {
  if (!tz) return 0;
  return (tz.negative ? -1 : 1) * (tz.hours * 60 + tz.minutes);
}

/**
 * UTC seconds → the ASA's local minute count (minutes since 1970-01-01 00:00 local). Summer time:
 * the start instant is given in standard time, the end instant in summer time (Cisco: "the start
 * time is relative to standard time, the end time relative to summer time"); a start month after
 * the end month is the southern hemisphere.
 */
export class LocalClock {
  private readonly zone: number;
  private readonly summer: SummerTime | null;
  /** The last year's transitions (standard-time minutes), so that most connections do no calendar work. */
  private cachedYear = Number.NaN;
  private cachedStart = 0;
  private cachedEnd = 0;

  constructor(cfg: ClockConfig) {
    this.zone = zoneOffsetMinutes(cfg.timezone);
    this.summer = cfg.summer;
  }

  localMinute(utcSec: number): number {
    const std = Math.floor(utcSec / 60) + this.zone;
    const s = this.summer;
    if (s === null) return std;
    return this.inSummer(std, s) ? std + s.offset : std;
  }

  private inSummer(std: number, s: SummerTime): boolean {
    if (s.kind === 'date') return std >= dateMinute(s.start) && std < dateMinute(s.end) - s.offset;
    const y = yearOfDays(Math.floor(std / 1440));
    if (y !== this.cachedYear) {
      this.cachedYear = y;
      this.cachedStart = recurringMinute(y, s.start);
      this.cachedEnd = recurringMinute(y, s.end) - s.offset;
    }
    const a = this.cachedStart;
    const b = this.cachedEnd;
    return a < b ? std >= a && std < b : std >= a || std < b;
  }
}
