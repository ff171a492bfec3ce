/**
 * ASA `time-range` objects and the `clock` lines that give them a local time: the syntax (parsed
 * from a cursor, printed back canonically) and the compiled window an access-list entry consults.
 *
 * Sources (Cisco): ASA 5500 Series Configuration Guide using the CLI, "Scheduling Extended Access
 * List Activation" (periodic/absolute syntax; "the end time is inclusive"; with both absolute and
 * periodic, periodic lines are evaluated only inside the absolute window); Cisco IOS command
 * reference `periodic` / `absolute` (days-of-the-week words; end days may be omitted when equal to
 * the start days; at most one absolute line); ASA command reference `clock timezone` /
 * `clock summer-time` (start in standard time, end in summer time, default offset 60, default
 * recurring rule the United States one). native-notes/policy-language.md "time-range".
 */
import type { Cursor } from './cursor.js';
import type { Token } from './lexer.js';
import type { Pos } from './model.js';
import {
  LAST_WEEK,
  US_SUMMER_RULE,
  dateMinute,
  daysInMonth,
  weekdayOfDays,
  type ClockConfig,
  type DatePoint,
  type RecurringPoint,
  type SummerTime,
} from './clock.js';

export const DAY_NAMES = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;
export const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'] as const;
/** Day masks: bit 0 = Monday ... bit 6 = Sunday. */
const ALL_DAYS = 0x7f;
const WEEKDAYS = 0x1f;
const WEEKEND = 0x60;
/** Years accepted in dates. Cisco IOS documents 1993-2035 for `absolute`; the ASA guides give no range, so we accept a wider one. */
const YEAR_MIN = 1970;
const YEAR_MAX = 2099;
const WEEK_MINUTES = 7 * 1440;
/**
 * `24:00`, accepted as an end time only: the end of the day. Cisco IOS's `periodic` reference uses
 * it (`periodic weekend 12:00 to 24:00`); the ASA guides neither show nor forbid it. Kept as 1440
 * so that it prints back as written; it covers up to 23:59:59 (the end minute is inclusive).
 */
export const END_OF_DAY = 1440;

export interface AbsoluteDef {
  start: DatePoint | null;
  end: DatePoint | null;
  line: number;
}

export interface PeriodicDef {
  /** Day mask of the start days. */
  startDays: number;
  startMinute: number;
  /** Day mask of the end days; null when omitted or equal to the start days (each start day is its own window). */
  endDays: number | null;
  endMinute: number;
  line: number;
}

export interface TimeRangeDef {
  name: string;
  pos: Pos;
  absolute: AbsoluteDef | null;
  periodic: PeriodicDef[];
}

// ---- syntax -------------------------------------------------------------------------------

/** A keyword from a list, written in full or as a unique prefix of at least 3 letters (the ASA CLI accepts unique abbreviations). */
function pick(list: readonly string[], t: Token | undefined): number {
  if (!t || t.lower.length < 3) return -1;
  const hits = list.flatMap((w, k) => (w.toLowerCase().startsWith(t.lower) ? [k] : []));
  return hits.length === 1 ? (hits[0] as number) : -1;
}

/** `hh:mm`, 24-hour clock, 0:00-23:59; an end time may also be 24:00 (END_OF_DAY). */
function hhmm(c: Cursor, what: string, endTime = false): number {
  const t = c.peek();
  const m = t ? /^(\d{1,2}):(\d{2})$/.exec(t.text) : null;
  if (!t || !m) c.fail(`${what} (hh:mm, 24-hour clock)`, t);
  const h = Number(m[1]);
  const mi = Number(m[2]);
  const minute = h * 60 + mi;
  if (endTime && minute === END_OF_DAY) {
    c.next();
    return END_OF_DAY;
  }
  if (h > 23 || mi > 59) {
    const range = endTime ? '0:00-23:59 or 24:00' : '0:00-23:59';
    const hint = !endTime && minute === END_OF_DAY ? ' (24:00 only as an end time)' : '';
    throw c.error('E_POLICY_VALUE', `${what} must be ${range}, got ${t.text}${hint}`, t);
  }
  c.next();
  return minute;
}

/** The last minute an end time covers (24:00 covers the day's 23:59). */
function lastMinute(endMinute: number): number {
  return endMinute === END_OF_DAY ? END_OF_DAY - 1 : endMinute;
}

function isTime(t: Token | undefined): boolean {
  return t !== undefined && /^\d{1,2}:\d{2}$/.test(t.text);
}

/** Days of the week up to the next hh:mm: day names, `daily`, `weekdays`, `weekend`, combined. */
function days(c: Cursor, what: string): number {
  let mask = 0;
  const expected = `${what} (monday ... sunday, daily, weekdays or weekend)`;
  while (!isTime(c.peek())) {
    const t = c.peek();
    if (!t) c.fail(`${expected} then hh:mm`, t);
    if (t.lower === 'daily') mask |= ALL_DAYS;
    else if (t.lower === 'weekdays') mask |= WEEKDAYS;
    else if (t.lower === 'weekend') mask |= WEEKEND;
    else {
      const d = pick(DAY_NAMES, t);
      if (d < 0) c.fail(mask === 0 ? expected : `a day or hh:mm`, t);
      mask |= 1 << d;
    }
    c.next();
  }
  if (mask === 0) c.fail(expected);
  return mask;
}

function month(c: Cursor): number {
  const t = c.peek();
  const m = pick(MONTH_NAMES, t);
  if (m < 0) c.fail('a month (january ... december)', t);
  c.next();
  return m + 1;
}

function year(c: Cursor): number {
  return c.integer('a year', YEAR_MIN, YEAR_MAX);
}

function dayOfMonth(c: Cursor, dayT: Token, y: number, m: number, d: number): void {
  if (d > daysInMonth(y, m)) throw c.error('E_POLICY_VALUE', `${MONTH_NAMES[m - 1]} ${y} has ${daysInMonth(y, m)} days, got ${d}`, dayT);
}

/** `hh:mm day month year` (the `absolute` form). */
function timeDate(c: Cursor, what: string): DatePoint {
  const minute = hhmm(c, `the ${what} time`, what === 'end');
  const dayT = c.peek();
  const day = c.integer(`the ${what} day of the month`, 1, 31);
  const m = month(c);
  const y = year(c);
  dayOfMonth(c, dayT as Token, y, m, day);
  return { year: y, month: m, day, minute };
}

/** `absolute [start hh:mm D MONTH YYYY] [end hh:mm D MONTH YYYY]` (after `absolute`). */
export function parseAbsolute(c: Cursor): AbsoluteDef {
  const def: AbsoluteDef = { start: null, end: null, line: c.sl.line };
  if (c.accept('start')) def.start = timeDate(c, 'start');
  const endT = c.peek();
  if (endT && endT.lower === 'end') {
    c.next();
    def.end = timeDate(c, 'end');
    if (def.start && dateMinute(def.end) <= dateMinute(def.start)) throw c.error('E_POLICY_VALUE', 'the absolute end must be after its start', endT);
  }
  c.end(def.start || def.end ? 'end of line' : '"start", "end" or end of line');
  return def;
}

/** `periodic DAYS hh:mm to [DAYS] hh:mm` (after `periodic`). */
export function parsePeriodic(c: Cursor): PeriodicDef {
  const startDays = days(c, 'the start days');
  const startMinute = hhmm(c, 'the start time');
  c.keyword('to');
  const endT = c.peek();
  let endDays: number | null = isTime(endT) ? null : days(c, 'the end days');
  const endMinute = hhmm(c, 'the end time', true);
  c.end();
  if (endDays === startDays) endDays = null;
  // "monday 8:00 to friday 17:00" is one span; a span needs one start day and one end day
  if (endDays !== null && (popcount(startDays) !== 1 || popcount(endDays) !== 1))
    throw c.error('E_POLICY_VALUE', 'a periodic line whose end days differ from its start days runs from one day to one day (e.g. "friday 18:00 to monday 8:00")', endT);
  return { startDays, startMinute, endDays, endMinute, line: c.sl.line };
}

function popcount(mask: number): number {
  let n = 0;
  for (let m = mask; m !== 0; m &= m - 1) n++;
  return n;
}

/** Same window (for `no periodic`). */
export function samePeriodic(a: PeriodicDef, b: PeriodicDef): boolean {
  return a.startDays === b.startDays && a.endDays === b.endDays && a.startMinute === b.startMinute && a.endMinute === b.endMinute;
}

/** `clock timezone NAME [-]HOURS [MINUTES]` (after `timezone`). */
export function parseTimezone(c: Cursor): NonNullable<ClockConfig['timezone']> {
  const name = c.word('a time zone name');
  const t = c.peek();
  const m = t ? /^([-+]?)(\d{1,2})$/.exec(t.text) : null;
  if (!t || !m) c.fail('the hours offset from UTC (-23 to 23)', t);
  const hours = Number(m[2]);
  if (hours > 23) throw c.error('E_POLICY_VALUE', `the hours offset from UTC must be -23 to 23, got ${t.text}`, t);
  c.next();
  const minutes = c.atEnd() ? 0 : c.integer('the minutes offset', 0, 59);
  c.end();
  return { name: name.text, negative: m[1] === '-', hours, minutes, line: c.sl.line };
}

const WEEK_WORDS = ['first', 'last'] as const;

function recurringPoint(c: Cursor, what: string): RecurringPoint {
  const wT = c.peek();
  let week: number;
  if (wT && wT.lower === 'first') week = 1;
  else if (wT && wT.lower === 'last') week = LAST_WEEK;
  else if (wT && /^[1-4]$/.test(wT.text)) week = Number(wT.text);
  else c.fail(`the ${what} week (1-4, ${WEEK_WORDS.join(' or ')})`, wT);
  c.next();
  const dT = c.peek();
  const weekday = pick(DAY_NAMES, dT);
  if (weekday < 0) c.fail(`the ${what} day of the week (monday ... sunday)`, dT);
  c.next();
  const mo = month(c);
  const minute = hhmm(c, `the ${what} time`);
  return { week, weekday, month: mo, minute };
}

/** `day month` or `month day`, then `year hh:mm` (the summer-time `date` form). */
function summerDate(c: Cursor, what: string): DatePoint {
  let day: number;
  let mo: number;
  const first = c.peek();
  if (first && /^\d+$/.test(first.text)) {
    day = c.integer(`the ${what} day of the month`, 1, 31);
    mo = month(c);
  } else {
    mo = month(c);
    day = c.integer(`the ${what} day of the month`, 1, 31);
  }
  const y = year(c);
  dayOfMonth(c, first as Token, y, mo, day);
  const minute = hhmm(c, `the ${what} time`);
  return { year: y, month: mo, day, minute };
}

/**
 * `clock summer-time ZONE {recurring [...] | date ...} [offset]` (after `summer-time`).
 *
 * `recurring OFFSET` (an offset without dates: the United States rule with that offset) is the
 * form of Cisco IOS's synopsis, `recurring [sweek sday smonth shh:mm eweek eday emonth ehh:mm]
 * [offset]` (J. Boney, "Cisco IOS in a Nutshell", O'Reilly, clock summer-time). Cisco-derived
 * switch guides write the offset inside the brackets (`recurring [week day month hh:mm week day
 * month hh:mm [offset]]`, e.g. Oracle's Exadata guide for its Cisco switches), and the ASA command
 * reference could not be consulted here; we accept the IOS form, which no other reading of the
 * line contradicts: a lone number after `recurring` can only be the offset.
 */
export function parseSummerTime(c: Cursor): SummerTime {
  const zone = c.word('a summer time zone name').text;
  const form = c.keyword('recurring', 'date');
  const line = c.sl.line;
  const offset = (): number => (c.atEnd() ? 60 : c.integer('the summer time offset in minutes', 1, 1440));
  if (form === 'recurring') {
    const t = c.peek();
    if (c.atEnd() || (t && /^\d+$/.test(t.text) && c.peek(1) === undefined))
      return { kind: 'recurring', zone, start: { ...US_SUMMER_RULE.start }, end: { ...US_SUMMER_RULE.end }, offset: offset(), line, defaulted: true };
    const start = recurringPoint(c, 'start');
    const end = recurringPoint(c, 'end');
    const off = offset();
    c.end();
    return { kind: 'recurring', zone, start, end, offset: off, line, defaulted: false };
  }
  const start = summerDate(c, 'start');
  const endT = c.peek();
  const end = summerDate(c, 'end');
  const off = offset();
  c.end();
  if (dateMinute(end) - off <= dateMinute(start)) throw c.error('E_POLICY_VALUE', 'the summer time end must be after its start', endT);
  return { kind: 'date', zone, start, end, offset: off, line };
}

// ---- printing -----------------------------------------------------------------------------

function hm(minute: number): string {
  return `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
}

export function formatDays(mask: number): string {
  if (mask === ALL_DAYS) return 'daily';
  if (mask === WEEKDAYS) return 'weekdays';
  if (mask === WEEKEND) return 'weekend';
  return DAY_NAMES.filter((_, k) => (mask & (1 << k)) !== 0).join(' ');
}

function formatDate(p: DatePoint): string {
  return `${hm(p.minute)} ${String(p.day).padStart(2, '0')} ${MONTH_NAMES[p.month - 1]} ${p.year}`;
}

export function formatPeriodic(p: PeriodicDef): string {
  return `periodic ${formatDays(p.startDays)} ${hm(p.startMinute)} to ${p.endDays !== null ? `${formatDays(p.endDays)} ` : ''}${hm(p.endMinute)}`;
}

export function formatAbsolute(a: AbsoluteDef): string {
  return ['absolute', ...(a.start ? ['start', formatDate(a.start)] : []), ...(a.end ? ['end', formatDate(a.end)] : [])].join(' ');
}

/** The definition as `show running-config time-range` would list it. */
export function timeRangeLines(def: TimeRangeDef): string[] {
  const out = [`time-range ${def.name}`];
  if (def.absolute) out.push(` ${formatAbsolute(def.absolute)}`);
  for (const p of def.periodic) out.push(` ${formatPeriodic(p)}`);
  return out;
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function formatRecurring(p: RecurringPoint): string {
  return `${p.week === LAST_WEEK ? 'last' : p.week} ${cap(DAY_NAMES[p.weekday] as string).slice(0, 3)} ${(MONTH_NAMES[p.month - 1] as string).slice(0, 3)} ${hm(p.minute)}`;
}

/** `clock timezone` / `clock summer-time` lines (none for the UTC default). */
export function clockLines(clock: ClockConfig): string[] {
  const out: string[] = [];
  const tz = clock.timezone;
  if (tz) out.push(`clock timezone ${tz.name} ${tz.negative ? '-' : ''}${tz.hours}${tz.minutes !== 0 ? ` ${tz.minutes}` : ''}`);
  const s = clock.summer;
  if (s?.kind === 'recurring') out.push(`clock summer-time ${s.zone} recurring${s.defaulted ? (s.offset !== 60 ? ` ${s.offset}` : '') : ` ${formatRecurring(s.start)} ${formatRecurring(s.end)} ${s.offset}`}`);
  else if (s?.kind === 'date') out.push(`clock summer-time ${s.zone} date ${dateText(s.start)} ${dateText(s.end)} ${s.offset}`);
  return out;
}

function dateText(p: DatePoint): string {
  return `${p.day} ${(MONTH_NAMES[p.month - 1] as string).slice(0, 3)} ${p.year} ${hm(p.minute)}`;
}

// ---- evaluation ---------------------------------------------------------------------------

/**
 * One time-range compiled for the per-connection check: the absolute window as local minutes
 * (both ends inclusive: Cisco, "the end time is inclusive") and the periodic windows as one
 * minute-of-week table. `activeAt` does no allocation.
 */
export class TimeWindow {
  private readonly from: number;
  private readonly to: number;
  /** 1 for each minute of the week (Monday 00:00 = 0) inside some periodic window; null: no periodic line. */
  private readonly week: Uint8Array | null;

  constructor(def: TimeRangeDef) {
    const a = def.absolute;
    this.from = a?.start ? dateMinute(a.start) : -Infinity;
    this.to = a?.end ? dateMinute(a.end) - (a.end.minute === END_OF_DAY ? 1 : 0) : Infinity;
    this.week = def.periodic.length > 0 ? weekTable(def.periodic) : null;
  }

  /** Whether the range is in effect at a local minute count (minutes since 1970-01-01 00:00 local). */
  activeAt(localMinute: number): boolean {
    if (localMinute < this.from || localMinute > this.to) return false;
    const w = this.week;
    if (w === null) return true;
    const days = Math.floor(localMinute / 1440);
    return w[weekdayOfDays(days) * 1440 + (localMinute - days * 1440)] === 1;
  }
}

function fill(week: Uint8Array, from: number, to: number): void {
  // inclusive of the end minute; a window may wrap past Sunday 23:59 (native fills: a hostile
  // policy with many periodic lines costs one memset per line)
  if (to < WEEK_MINUTES) week.fill(1, from, to + 1);
  else {
    week.fill(1, from, WEEK_MINUTES);
    week.fill(1, 0, Math.min(to - WEEK_MINUTES + 1, WEEK_MINUTES));
  }
}

/**
 * The minutes of the week the periodic lines cover. Start days without end days: each start day
 * from the start time to the end time (an end time before the start time runs into the next day,
 * our reading). Different end days: one span from the start day to the end day, wrapping the week.
 */
export function weekTable(lines: readonly PeriodicDef[]): Uint8Array {
  const week = new Uint8Array(WEEK_MINUTES);
  for (const p of lines) {
    if (p.endDays === null) {
      for (let d = 0; d < 7; d++) {
        if ((p.startDays & (1 << d)) === 0) continue;
        const from = d * 1440 + p.startMinute;
        const last = lastMinute(p.endMinute);
        fill(week, from, last >= p.startMinute ? d * 1440 + last : (d + 1) * 1440 + last);
      }
    } else {
      const from = Math.log2(p.startDays) * 1440 + p.startMinute;
      let to = Math.log2(p.endDays) * 1440 + lastMinute(p.endMinute);
      if (to < from) to += WEEK_MINUTES;
      fill(week, from, to);
    }
  }
  return week;
}
