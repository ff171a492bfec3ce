/**
 * Capture timestamps as text: ISO 8601 (verdicts, flows, info, annotations) and the ASA's syslog
 * prefix, at the capture's precision.
 *
 * No Date: a capture can hold any 64-bit count (pcapng if_tsresol=0 allows 2^64 seconds), far
 * beyond Date's ±8.64e15 ms. The calendar is computed from the integer seconds instead
 * (proleptic Gregorian, UTC, no leap seconds — as Date and capinfos), exactly, with BigInt only
 * for seconds beyond 2^53. Years outside 0000..9999 are ISO 8601 expanded years: a sign and at
 * least six digits (+010000, +35680317, -000001), which is also what Date.toISOString prints.
 */
import { resolutionFractionDigits } from '../capture/timestamp.js';

/** Fraction digits for an interface resolution of base^-exponent (10^-6 -> 6, 10^-9 -> 9, 2^-n -> 9, as tshark). */
export const fractionDigits = resolutionFractionDigits;

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** A UTC calendar date and time of day. `year` is a bigint only when it exceeds 2^53. */
export interface CivilTime {
  year: number | bigint;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const SECONDS_PER_DAY = 86400;
/** Days in a 400-year Gregorian era, and from 0000-03-01 to 1970-01-01 (Hinnant's civil_from_days). */
const DAYS_PER_ERA = 146097;
const EPOCH_SHIFT_DAYS = 719468;

/**
 * Whole seconds since 1970-01-01T00:00:00Z to the proleptic Gregorian calendar (H. Hinnant,
 * "chrono-Compatible Low-Level Date Algorithms"). `tsSec` must be finite (callers check); a
 * fractional one is floored. Above 2^53 the value is the double's exact integer, handled with BigInt.
 */
export function civilTime(tsSec: number): CivilTime {
  let era: number | bigint;
  let dayOfEra: number;
  let secOfDay: number;
  if (Math.abs(tsSec) < 2 ** 53) {
    const s = Math.floor(tsSec);
    const days = Math.floor(s / SECONDS_PER_DAY);
    secOfDay = s - days * SECONDS_PER_DAY;
    const z = days + EPOCH_SHIFT_DAYS;
    const e = Math.floor(z / DAYS_PER_ERA);
    era = e;
    dayOfEra = z - e * DAYS_PER_ERA;
  } else {
    // Beyond 2^53 every double is an integer: BigInt(tsSec) is exact.
    const s = BigInt(tsSec);
    const daySec = BigInt(SECONDS_PER_DAY);
    let days = s / daySec;
    if (s - days * daySec < 0n) days -= 1n; // floor division
    secOfDay = Number(s - days * daySec);
    const z = days + BigInt(EPOCH_SHIFT_DAYS);
    const eraSize = BigInt(DAYS_PER_ERA);
    let e = z / eraSize;
    if (z - e * eraSize < 0n) e -= 1n;
    era = e;
    dayOfEra = Number(z - e * eraSize);
  }
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) - Math.floor(dayOfEra / 146096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const yearShift = yearOfEra + (month <= 2 ? 1 : 0);
  let year: number | bigint;
  if (typeof era === 'number' && Number.isSafeInteger(era * 400 + yearShift)) year = era * 400 + yearShift;
  else year = BigInt(era) * 400n + BigInt(yearShift);
  return {
    year,
    month,
    day,
    hour: Math.floor(secOfDay / 3600),
    minute: Math.floor((secOfDay % 3600) / 60),
    second: secOfDay % 60,
  };
}

/** ISO 8601 year: four digits for 0..9999, else the expanded form with a sign and at least six digits. */
export function isoYear(year: number | bigint): string {
  if (year >= 0 && year <= 9999) return String(year).padStart(4, '0');
  const neg = year < 0;
  const digits = String(neg ? -year : year).padStart(6, '0');
  return (neg ? '-' : '+') + digits;
}

/** Shown instead of a time that is not a finite number of seconds (never produced by a valid reader). */
export const UNREPRESENTABLE_TIME = 'unrepresentable-time';

/**
 * `tsSec` plus `tsNsec` brought into [0, 1e9) (a damaged pcap's fraction may exceed one second),
 * or null when the seconds are not finite.
 */
function normalise(tsSec: number, tsNsec: number): [number, number] | null {
  if (!Number.isFinite(tsSec) || !Number.isFinite(tsNsec)) return null;
  let sec = Math.floor(tsSec);
  let nsec = Math.floor(tsNsec);
  if (nsec < 0 || nsec >= 1e9) {
    const carry = Math.floor(nsec / 1e9);
    sec += carry;
    nsec -= carry * 1e9;
  }
  return Number.isFinite(sec) ? [sec, nsec] : null;
}

/** `YYYY-MM-DDTHH:MM:SS` of whole seconds (no zone letter). */
function isoSeconds(sec: number): string {
  const c = civilTime(sec);
  return `${isoYear(c.year)}-${pad(c.month, 2)}-${pad(c.day, 2)}T${pad(c.hour, 2)}:${pad(c.minute, 2)}:${pad(c.second, 2)}`;
}

/** `2024-01-02T03:04:05.123456Z` with `digits` fraction digits (0 = none), truncated as capinfos does. */
export function isoTime(tsSec: number, tsNsec: number, digits: number): string {
  const t = normalise(tsSec, tsNsec);
  if (t === null) return UNREPRESENTABLE_TIME;
  const base = isoSeconds(t[0]);
  if (digits <= 0) return base + 'Z';
  return `${base}.${pad(t[1], 9).slice(0, digits)}Z`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The ASA's `logging timestamp` form, in UTC: `Jan 02 2024 03:04:05` (the year as a plain number). */
export function asaSyslogTime(tsSec: number): string {
  const t = normalise(tsSec, 0);
  if (t === null) return UNREPRESENTABLE_TIME;
  const c = civilTime(t[0]);
  return (
    `${MONTHS[c.month - 1] ?? 'Jan'} ${pad(c.day, 2)} ${String(c.year)} ` +
    `${pad(c.hour, 2)}:${pad(c.minute, 2)}:${pad(c.second, 2)}`
  );
}

/** `hh:mm:ss` duration as in 302014 (`duration 0:00:18`). */
export function asaDuration(seconds: number): string {
  const s = Number.isFinite(seconds) ? Math.max(0, Math.floor(seconds)) : 0;
  return `${Math.floor(s / 3600)}:${pad(Math.floor((s % 3600) / 60), 2)}:${pad(s % 60, 2)}`;
}

/**
 * The seconds between two capture times (b - a), to the nanosecond where a double can hold it:
 * the whole seconds and the nanoseconds are subtracted apart, then rounded to 9 decimals.
 */
export function secondsBetween(aSec: number, aNsec: number, bSec: number, bNsec: number): number {
  const d = bSec - aSec + (bNsec - aNsec) / 1e9;
  return Number.isFinite(d) ? Number(d.toFixed(9)) : d;
}

/**
 * isoTime with the `YYYY-MM-DDTHH:MM:SS` part cached for the last second seen: verdicts come in
 * bursts within one capture second, and the calendar arithmetic is the expensive part.
 */
export class IsoTimeFormatter {
  private sec = Number.NaN;
  private prefix = '';

  format(tsSec: number, tsNsec: number, digits: number): string {
    if (tsNsec < 0 || tsNsec >= 1e9 || !Number.isInteger(tsSec)) return isoTime(tsSec, tsNsec, digits);
    if (tsSec !== this.sec) {
      this.sec = tsSec;
      this.prefix = isoSeconds(tsSec);
    }
    if (digits <= 0) return this.prefix + 'Z';
    return `${this.prefix}.${pad(tsNsec, 9).slice(0, digits)}Z`;
  }
}
