/**
 * ASA `time-range` objects evaluated against the connection's first packet (capture time), in the
 * ASA's local time (`clock timezone`, `clock summer-time`).
 *
 * Edges, per Cisco's ASA 5500 Series Configuration Guide using the CLI, "Scheduling Extended Access
 * List Activation": "because the end time is inclusive" (an end of 3:50 is in effect until
 * 3:50:59), and periodic lines are evaluated only inside the absolute window. Times are whole
 * minutes, so the start minute is in effect from its first second.
 */
import { mkdtempSync, openSync, readSync, closeSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PolicyError } from '../../src/errors.js';
import { LocalClock, daysFromCivil, yearOfDays } from '../../src/policy/clock.js';
import { PolicyImpl } from '../../src/policy/compile.js';
import { compilePolicyText } from '../../src/policy/load.js';
import { TimeWindow, type PeriodicDef } from '../../src/policy/time-range.js';
import type { CompiledPolicy, FlowTuple } from '../../src/policy/types.js';
import { GENERATED_DIR, haveShared } from '../helpers/shared.js';
import { replayToTemp } from '../replay/helpers.js';
import { WRAP } from './exempting-policy.js';


const compile = (text: string): CompiledPolicy => compilePolicyText(text + WRAP, 'p.cfg');

function errorOf(text: string): { where: string; code: string; message: string } {
  try {
    compile(text);
  } catch (e) {
    expect(e).toBeInstanceOf(PolicyError);
    const pe = e as PolicyError;
    return { where: `${pe.line}:${pe.column}`, code: pe.code, message: pe.message };
  }
  throw new Error('expected a PolicyError');
}

const utc = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0): number => Date.UTC(y, mo - 1, d, h, mi, s) / 1000;
const flow = (startTimeSec?: number): FlowTuple => ({ ipVersion: 4, clientIp: '10.0.0.1', clientPort: 40000, serverIp: '10.0.0.2', serverPort: 25, ...(startTimeSec !== undefined ? { startTimeSec } : {}) });

/** A policy whose ACL T permits only while the time-range R is in effect. */
function gated(range: string, clock = ''): CompiledPolicy {
  return compile(`${clock}time-range R\n${range}access-list T extended permit tcp any any eq smtp time-range R\n`);
}
const inEffect = (p: CompiledPolicy, t?: number): boolean => p.classify(flow(t)).esmtp !== null;

/** The time-range block policy check prints. */
function printed(p: CompiledPolicy): string {
  const lines = p.normalized().split('\n');
  const at = lines.findIndex((l) => l.startsWith('clock ') || l.startsWith('time-range '));
  const end = lines.findIndex((l, k) => k > at && l.startsWith('access-list '));
  return lines.slice(at, end).join('\n');
}

describe('time-range syntax', () => {
  it('parses absolute and periodic lines (abbreviations, day lists, keywords) and prints them back canonically', () => {
    const p = gated(` absolute start 8:00 1 jan 2024 end 17:30 31 December 2024
 periodic weekdays 8:00 to 18:00
 periodic Monday Wednesday friday 7:05 to 9:00
 periodic saturday sunday 10:00 to 12:00
 periodic friday 18:00 to monday 8:00
 periodic daily 22:00 to 6:00
 periodic WEEKEND 1:00 to weekend 2:00
`);
    expect(printed(p)).toBe(`time-range R
 absolute start 08:00 01 January 2024 end 17:30 31 December 2024
 periodic weekdays 08:00 to 18:00
 periodic monday wednesday friday 07:05 to 09:00
 periodic weekend 10:00 to 12:00
 periodic friday 18:00 to monday 08:00
 periodic daily 22:00 to 06:00
 periodic weekend 01:00 to 02:00`);
    // only a "time-ranges are evaluated in UTC" note: nothing is "not evaluated" any more
    expect(p.warnings.map((w) => w.message)).toEqual([`time-ranges are evaluated in UTC at each connection's first packet: no "clock timezone" line gives the ASA's local time`]);
    expect(p.ignored).toEqual([]);
  });

  it('round trip: the printout compiles to the same printout, with its clock lines', () => {
    const p = gated(' absolute end 23:59 31 December 2030\n periodic tuesday thursday 9:00 to 10:00\n', 'clock timezone NST -3 30\nclock summer-time NDT recurring 2 Sun Mar 2:00 1 Sun Nov 2:00 60\n');
    expect(printed(p)).toBe(`clock timezone NST -3 30
clock summer-time NDT recurring 2 Sun Mar 02:00 1 Sun Nov 02:00 60
time-range R
 absolute end 23:59 31 December 2030
 periodic tuesday thursday 09:00 to 10:00`);
    const again = compilePolicyText(p.normalized(), 'n.cfg');
    expect(printed(again)).toBe(printed(p));
    expect(again.warnings).toEqual([]);
    for (const clock of ['clock timezone UTC 0\nclock summer-time X recurring\n', 'clock timezone CET 1\nclock summer-time CEST date 31 Mar 2024 2:00 October 27 2024 3:00\n']) {
      const q = gated(' periodic daily 0:00 to 1:00\n', clock);
      expect(printed(compilePolicyText(q.normalized(), 'n.cfg'))).toBe(printed(q));
    }
  });

  it('no periodic / no absolute remove; a second absolute replaces the first (with a note); no time-range removes the range', () => {
    const p = gated(` absolute start 0:00 1 January 2020
 absolute start 0:00 1 January 2021
 periodic weekdays 8:00 to 18:00
 periodic weekend 8:00 to 12:00
 no periodic monday tuesday wednesday thursday friday 08:00 to 18:00
 no periodic daily 1:00 to 2:00
`);
    expect(printed(p)).toBe('time-range R\n absolute start 00:00 01 January 2021\n periodic weekend 08:00 to 12:00');
    expect(p.warnings.map((w) => [w.line, w.level, w.message])).toEqual([
      [3, 'note', 'time-range R: this absolute line replaces the one on line 2 (a time-range has at most one)'],
      [7, 'warning', '"no periodic daily 01:00 to 02:00" removed nothing: time-range R has no such periodic line'],
      [8, 'note', `time-ranges are evaluated in UTC at each connection's first packet: no "clock timezone" line gives the ASA's local time`],
    ]);
    const q = gated(' absolute start 0:00 1 January 2020\n no absolute\n');
    expect(printed(q)).toBe('time-range R');
    // re-entering a range adds to it; `no time-range` then leaves the entry's reference dangling
    expect(printed(gated(' periodic weekend 8:00 to 12:00\ntime-range R\n periodic weekdays 8:00 to 9:00\n'))).toBe('time-range R\n periodic weekend 08:00 to 12:00\n periodic weekdays 08:00 to 09:00');
    expect(errorOf('time-range R\nno time-range R\naccess-list T extended permit tcp any any eq smtp time-range R\n')).toMatchObject({ code: 'E_POLICY_REFERENCE', where: '3:62' });
  });

  it.each([
    [' periodic weekdays 25:00 to 18:00', '2:20', 'E_POLICY_VALUE', /the start time must be 0:00-23:59, got 25:00/],
    [' periodic weekdays 8:60 to 18:00', '2:20', 'E_POLICY_VALUE', /0:00-23:59, got 8:60/],
    [' periodic funday 8:00 to 9:00', '2:11', 'E_POLICY_SYNTAX', /expected the start days \(monday ... sunday, daily, weekdays or weekend\), got "funday"/],
    [' periodic 8:00 to 9:00', '2:11', 'E_POLICY_SYNTAX', /expected the start days/],
    [' periodic weekdays 8:00 18:00', '2:25', 'E_POLICY_SYNTAX', /expected "to", got "18:00"/],
    [' periodic weekdays 8:00 to', '2:27', 'E_POLICY_SYNTAX', /got end of line/],
    [' periodic weekdays 8 to 9', '2:20', 'E_POLICY_SYNTAX', /expected a day or hh:mm, got "8"/],
    [' periodic weekdays 8:00 to friday 18:00', '2:28', 'E_POLICY_VALUE', /runs from one day to one day/],
    [' periodic monday 8:00 to 9:00 daily', '2:31', 'E_POLICY_SYNTAX', /expected end of line, got "daily"/],
    [' absolute start 8:00 31 February 2024', '2:22', 'E_POLICY_VALUE', /February 2024 has 29 days, got 31/],
    [' absolute start 8:00 1 January 2024 end 7:00 1 January 2024', '2:37', 'E_POLICY_VALUE', /the absolute end must be after its start/],
    [' absolute begin 8:00 1 January 2024', '2:11', 'E_POLICY_SYNTAX', /expected "start", "end" or end of line, got "begin"/],
    [' absolute start 8:00 1 Smarch 2024', '2:24', 'E_POLICY_SYNTAX', /expected a month \(january ... december\), got "Smarch"/],
    [' absolute start 8:00 1 ma 2024', '2:24', 'E_POLICY_SYNTAX', /expected a month/], // "ma": too short to tell March from May
    [' absolute start 8:00 1 January 1969', '2:32', 'E_POLICY_VALUE', /a year must be 1970-2099, got 1969/],
    [' description office hours', '2:2', 'E_POLICY_SYNTAX', /expected one of "absolute", "periodic", "no absolute", "no periodic" in this mode, got "description"/],
  ])('%s: %s %s', (line, where, code, message) => {
    const e = errorOf(`time-range R\n${line}\n`);
    expect(e).toMatchObject({ where, code });
    expect(e.message).toMatch(message);
  });

  it.each([
    ['clock timezone CET 24', '1:20', 'E_POLICY_VALUE', /must be -23 to 23, got 24/],
    ['clock timezone CET one', '1:20', 'E_POLICY_SYNTAX', /expected the hours offset from UTC/],
    ['clock timezone CET 1 60', '1:22', 'E_POLICY_VALUE', /the minutes offset must be 0-59/],
    ['clock summer-time X recurring 6 Sun Mar 2:00 1 Sun Nov 2:00', '1:31', 'E_POLICY_SYNTAX', /expected the start week \(1-4, first or last\), got "6"/],
    ['clock summer-time X recurring 2 Sun Mar 2:00 1 Sun Nov', '1:55', 'E_POLICY_SYNTAX', /expected the end time \(hh:mm/],
    ['clock summer-time X recurring last Sun Mar 2:00 last Sun Oct 3:00 0', '1:67', 'E_POLICY_VALUE', /offset in minutes must be 1-1440/],
    ['clock summer-time X sometimes', '1:21', 'E_POLICY_SYNTAX', /expected one of "recurring", "date"/],
    ['clock summer-time X date 27 Oct 2024 3:00 31 Mar 2024 2:00', '1:43', 'E_POLICY_VALUE', /the summer time end must be after its start/],
  ])('%s: %s %s', (line, where, code, message) => {
    const e = errorOf(`${line}\n`);
    expect(e).toMatchObject({ where, code });
    expect(e.message).toMatch(message);
  });
});

describe('activation at the connection start', () => {
  it('absolute: the start minute is in effect from its first second, the end minute to its last (inclusive)', () => {
    const p = gated(' absolute start 8:00 1 March 2024 end 17:30 2 March 2024\n');
    expect(inEffect(p, utc(2024, 3, 1, 7, 59, 59))).toBe(false);
    expect(inEffect(p, utc(2024, 3, 1, 8, 0, 0))).toBe(true);
    expect(inEffect(p, utc(2024, 3, 2, 17, 30, 59.999))).toBe(true);
    expect(inEffect(p, utc(2024, 3, 2, 17, 31, 0))).toBe(false);
    // only a start / only an end
    expect(inEffect(gated(' absolute start 8:00 1 March 2024\n'), utc(2099, 1, 1))).toBe(true);
    expect(inEffect(gated(' absolute end 8:00 1 March 2024\n'), utc(1999, 1, 1))).toBe(true);
    expect(inEffect(gated(' absolute end 8:00 1 March 2024\n'), utc(2024, 3, 1, 8, 1))).toBe(false);
    // a range with no line is always in effect
    expect(inEffect(gated(''), utc(2024, 3, 1))).toBe(true);
  });

  it('periodic per day: weekdays 8:00 to 18:00 (2024-01-08 is a Monday)', () => {
    const p = gated(' periodic weekdays 8:00 to 18:00\n');
    expect(inEffect(p, utc(2024, 1, 8, 7, 59, 59))).toBe(false);
    expect(inEffect(p, utc(2024, 1, 8, 8, 0))).toBe(true);
    expect(inEffect(p, utc(2024, 1, 12, 18, 0, 59))).toBe(true); // Friday, end minute
    expect(inEffect(p, utc(2024, 1, 12, 18, 1))).toBe(false);
    expect(inEffect(p, utc(2024, 1, 13, 12, 0))).toBe(false); // Saturday
  });

  it('periodic span: friday 18:00 to monday 8:00 covers the weekend across the week boundary', () => {
    const p = gated(' periodic friday 18:00 to monday 8:00\n');
    expect(inEffect(p, utc(2024, 1, 12, 17, 59))).toBe(false);
    expect(inEffect(p, utc(2024, 1, 12, 18, 0))).toBe(true);
    expect(inEffect(p, utc(2024, 1, 14, 3, 0))).toBe(true); // Sunday night
    expect(inEffect(p, utc(2024, 1, 15, 8, 0, 30))).toBe(true);
    expect(inEffect(p, utc(2024, 1, 15, 8, 1))).toBe(false);
    expect(inEffect(p, utc(2024, 1, 10, 12, 0))).toBe(false); // Wednesday
  });

  it('periodic lines only inside the absolute window; several periodic lines are a union', () => {
    const p = gated(' absolute start 0:00 1 January 2024 end 23:59 31 January 2024\n periodic monday 9:00 to 10:00\n periodic sunday 9:00 to 10:00\n');
    expect(inEffect(p, utc(2024, 1, 8, 9, 30))).toBe(true); // Monday in January
    expect(inEffect(p, utc(2024, 1, 14, 9, 30))).toBe(true); // Sunday
    expect(inEffect(p, utc(2024, 1, 9, 9, 30))).toBe(false); // Tuesday
    expect(inEffect(p, utc(2024, 2, 5, 9, 30))).toBe(false); // a Monday in February
  });

  it('an entry not in effect is skipped: the next entry decides, and the reason says why', () => {
    const p = compile(`time-range NIGHT
 periodic daily 22:00 to 6:00
access-list T extended deny tcp any any eq smtp time-range NIGHT
access-list T extended permit tcp any any eq smtp
`);
    const night = p.classify(flow(utc(2024, 1, 9, 23, 0)));
    expect(night.esmtp).toBeNull();
    // line N is the entry's position in the list (the ASA's numbering), then its line in the file
    expect(night.reason).toMatch(/access-list T line 1 \(config line 3\) denies it/);
    const day = p.classify(flow(utc(2024, 1, 9, 12, 0)));
    expect(day.esmtp).not.toBeNull();
    expect(day.reason).toMatch(/access-list T line 2 \(config line 4\) permits it \(permit tcp any any eq smtp\); line 1 \(config line 3\) skipped: time-range NIGHT not in effect at the connection's start/);
    expect(inEffect(p, utc(2024, 1, 10, 6, 0, 59))).toBe(false); // the overnight window ends at 6:00 inclusive
    expect(inEffect(p, utc(2024, 1, 10, 6, 1))).toBe(true);
  });

  it('a caller without a capture time (the inline proxy) is judged at the wall clock', () => {
    expect(inEffect(gated(' absolute end 0:00 1 January 2000\n'))).toBe(false);
    expect(inEffect(gated(' absolute start 0:00 1 January 2000\n'))).toBe(true);
  });
});

describe('the ASA clock', () => {
  it('clock timezone shifts the windows: 08:00 local CET is 07:00 UTC; NST -3 30 is 3.5 h behind', () => {
    const cet = gated(' periodic weekdays 8:00 to 18:00\n', 'clock timezone CET 1\n');
    expect(inEffect(cet, utc(2024, 1, 8, 6, 59))).toBe(false);
    expect(inEffect(cet, utc(2024, 1, 8, 7, 0))).toBe(true);
    expect(inEffect(cet, utc(2024, 1, 8, 17, 0, 59))).toBe(true);
    expect(inEffect(cet, utc(2024, 1, 8, 17, 1))).toBe(false);
    expect(cet.warnings).toEqual([]);
    const nst = gated(' absolute start 8:00 1 March 2024\n', 'clock timezone NST -3 30\n');
    expect(inEffect(nst, utc(2024, 3, 1, 11, 29))).toBe(false);
    expect(inEffect(nst, utc(2024, 3, 1, 11, 30))).toBe(true);
    // `no clock timezone` returns to UTC
    expect(inEffect(gated(' absolute start 8:00 1 March 2024\n', 'clock timezone NST -3 30\nno clock timezone\n'), utc(2024, 3, 1, 8, 0))).toBe(true);
  });

  it('summer time: the default recurring rule is the US one (2024: 10 March 2:00 EST to 3 November 2:00 EDT)', () => {
    const c = new LocalClock({ timezone: { name: 'EST', negative: true, hours: 5, minutes: 0, line: 1 }, summer: { kind: 'recurring', zone: 'EDT', start: { week: 2, weekday: 6, month: 3, minute: 120 }, end: { week: 1, weekday: 6, month: 11, minute: 120 }, offset: 60, line: 2, defaulted: true } });
    const local = (t: number) => {
      const m = c.localMinute(t);
      return `${Math.floor((m % 1440) / 60)}:${String(m % 60).padStart(2, '0')}`;
    };
    expect(local(utc(2024, 3, 10, 6, 59))).toBe('1:59'); // EST
    expect(local(utc(2024, 3, 10, 7, 0))).toBe('3:00'); // EDT
    expect(local(utc(2024, 11, 3, 5, 59))).toBe('1:59'); // EDT
    expect(local(utc(2024, 11, 3, 6, 0))).toBe('1:00'); // EST again
    // through a policy: a window at 12:00 local follows the shift
    const p = gated(' periodic daily 12:00 to 12:00\n', 'clock timezone EST -5\nclock summer-time EDT recurring\n');
    expect(inEffect(p, utc(2024, 7, 1, 16, 0))).toBe(true); // 12:00 EDT
    expect(inEffect(p, utc(2024, 1, 2, 17, 0))).toBe(true); // 12:00 EST
    expect(inEffect(p, utc(2024, 7, 1, 17, 0))).toBe(false);
  });

  // Cross-check against the operating system's time zone database (Node's ICU): real rules that the
  // ASA's recurring form can express, at random instants from the year each rule took effect to 2035.
  const zones: Array<[string, number, string]> = [
    ['America/New_York', 2008, 'clock timezone EST -5\nclock summer-time EDT recurring\n'],
    ['Europe/Berlin', 1997, 'clock timezone CET 1\nclock summer-time CEST recurring last Sun Mar 2:00 last Sun Oct 3:00\n'],
    ['Australia/Sydney', 2009, 'clock timezone AEST 10\nclock summer-time AEDT recurring first Sun Oct 2:00 first Sun Apr 3:00\n'],
    // Newfoundland changed at 0:01 until 2011
    ['America/St_Johns', 2012, 'clock timezone NST -3 30\nclock summer-time NDT recurring 2 Sun Mar 2:00 1 Sun Nov 2:00\n'],
  ];
  it.each(zones)('local minutes match the tz database for %s (from %i)', (zone, from, clock) => {
    const cfgClock = clockOf(clock);
    const fmt = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric' });
    fc.assert(
      fc.property(fc.integer({ min: utc(from, 1, 1) / 60, max: utc(2035, 12, 31) / 60 }), (minute) => {
        const parts = Object.fromEntries(fmt.formatToParts(new Date(minute * 60000)).map((x) => [x.type, x.value]));
        const want = daysFromCivil(Number(parts.year), Number(parts.month), Number(parts.day)) * 1440 + Number(parts.hour) * 60 + Number(parts.minute);
        expect(cfgClock.localMinute(minute * 60 + 30)).toBe(want);
      }),
      { numRuns: 3000 },
    );
    // and at every transition, minute by minute around it
    const want = (minute: number): number => {
      const parts = Object.fromEntries(fmt.formatToParts(new Date(minute * 60000)).map((x) => [x.type, x.value]));
      return daysFromCivil(Number(parts.year), Number(parts.month), Number(parts.day)) * 1440 + Number(parts.hour) * 60 + Number(parts.minute);
    };
    const check = (m: number) => expect(cfgClock.localMinute(m * 60 + 59), `${zone} ${new Date(m * 60000).toISOString()}`).toBe(want(m));
    let jumps = 0;
    for (let y = from; y <= 2035; y++) {
      for (let day = utc(y, 1, 1) / 60; day < utc(y + 1, 1, 1) / 60; day += 1440) {
        if (want(day + 1440) - want(day) === 1440) continue; // no transition in these 24 hours
        for (let m = day; m < day + 1440; m += 10) {
          check(m);
          if (want(m + 10) - want(m) === 10) continue;
          jumps++;
          for (let k = -3; k <= 13; k++) check(m + k);
        }
      }
    }
    expect(jumps).toBe(2 * (2036 - from));
  });

  it('calendar arithmetic agrees with Date for years 1900-2100', () => {
    fc.assert(
      fc.property(fc.integer({ min: utc(1900, 1, 1) / 86400, max: utc(2100, 12, 31) / 86400 }), (days) => {
        const d = new Date(days * 86400000);
        expect(yearOfDays(days)).toBe(d.getUTCFullYear());
        expect(daysFromCivil(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate())).toBe(days);
      }),
    );
  });
});

/** The LocalClock a policy's clock lines make (as the parser read them). */
function clockOf(lines: string): LocalClock {
  const p = gated('', lines);
  expect(p).toBeInstanceOf(PolicyImpl);
  return new LocalClock((p as PolicyImpl).resolved.cfg.clock);
}

describe('properties', () => {
  const dayMask = fc.integer({ min: 1, max: 0x7f });
  const minuteOfDay = fc.integer({ min: 0, max: 1439 });
  const hm = (m: number) => `${Math.floor(m / 60)}:${String(m % 60).padStart(2, '0')}`;
  const names = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
  const daysText = (mask: number) => names.filter((_, k) => (mask & (1 << k)) !== 0).join(' ');

  it('a per-day periodic window and its complement: exactly one is in effect at every minute', () => {
    fc.assert(
      fc.property(dayMask, fc.integer({ min: 1, max: 1438 }), fc.integer({ min: 0, max: 10079 }), fc.integer({ min: 0, max: 200 }), (mask, cut, minuteOfWeek, weeks) => {
        // A: the mask's days 00:00..cut-1; B: those days cut..23:59, plus every other day whole
        const other = 0x7f & ~mask;
        const a = gated(` periodic ${daysText(mask)} 0:00 to ${hm(cut - 1)}\n`);
        const b = gated(` periodic ${daysText(mask)} ${hm(cut)} to 23:59\n${other ? ` periodic ${daysText(other)} 0:00 to 23:59\n` : ''}`);
        // 2024-01-01 was a Monday
        const t = utc(2024, 1, 1) + (weeks * 10080 + minuteOfWeek) * 60 + 17;
        expect(inEffect(a, t) !== inEffect(b, t)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('a window agrees with the plain reading of its periodic line, and with its printout read back', () => {
    fc.assert(
      fc.property(dayMask, minuteOfDay, minuteOfDay, fc.integer({ min: 0, max: 10079 }), (mask, s, e, mow) => {
        const def: PeriodicDef = { startDays: mask, startMinute: s, endDays: null, endMinute: e, line: 2 };
        const w = new TimeWindow({ name: 'R', pos: { line: 1, col: 12 }, absolute: null, periodic: [def] });
        const day = Math.floor(mow / 1440);
        const m = mow % 1440;
        const prev = (day + 6) % 7;
        const inDay = (d: number) => (mask & (1 << d)) !== 0;
        // a window whose end is before its start runs past midnight into the next day
        const want = s <= e ? inDay(day) && m >= s && m <= e : (inDay(day) && m >= s) || (inDay(prev) && m <= e);
        const local = (daysFromCivil(2024, 1, 1) + day) * 1440 + m; // a Monday
        expect(w.activeAt(local)).toBe(want);
        const p = gated(` periodic ${daysText(mask)} ${hm(s)} to ${hm(e)}\n`);
        expect(inEffect(p, local * 60)).toBe(want);
        expect(inEffect(compilePolicyText(p.normalized(), 'n.cfg'), local * 60)).toBe(want);
      }),
      { numRuns: 300 },
    );
  });
});

/** The first packet's timestamp of a classic little-endian microsecond pcap (what the generated captures are). */
function firstPacketSec(file: string): number {
  const fd = openSync(file, 'r');
  const b = Buffer.alloc(32);
  readSync(fd, b, 0, 32, 0);
  closeSync(fd);
  expect(b.readUInt32LE(0)).toBe(0xa1b2c3d4);
  return b.readUInt32LE(24) + b.readUInt32LE(28) / 1e6;
}

function policyFile(text: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'time-range-'));
  const file = path.join(dir, 'policy.txt');
  writeFileSync(file, text);
  return file;
}

describe.skipIf(!haveShared)('replay: an exempting entry with a time-range, at the capture time of 02-ehlo-basic.pcap', () => {
  const cap = path.join(GENERATED_DIR, '02-ehlo-basic.pcap');
  const months = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
  /** `hh:mm day month year` of a UTC second shifted by `minutes`. */
  const at = (sec: number, minutes: number): string => {
    const d = new Date((Math.floor(sec / 60) + minutes) * 60000);
    return `${d.getUTCHours()}:${String(d.getUTCMinutes()).padStart(2, '0')} ${d.getUTCDate()} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
  };
  const exempting = (range: string, clock = '') =>
    policyFile(`${clock}time-range EXEMPT
${range}access-list T extended deny tcp any any eq smtp time-range EXEMPT
access-list T extended permit tcp any any eq smtp
${WRAP}`);

  it('in effect at the first packet: the connection is exempted; one minute later it is inspected as usual', async () => {
    const t0 = firstPacketSec(cap);
    const on = await replayToTemp(cap, { policy: exempting(` absolute start ${at(t0, 0)} end ${at(t0, 1)}\n`) });
    expect(on.summary.connections).toMatchObject({ inspected: 0, exempted: 1 });
    // the range ended the minute before the connection started: the deny is skipped, the permit inspects
    const off = await replayToTemp(cap, { policy: exempting(` absolute start ${at(t0, -10)} end ${at(t0, -1)}\n`) });
    expect(off.summary.connections).toMatchObject({ inspected: 1, exempted: 0 });
    // (and the inspection really ran: the default map's banner mask)
    expect(off.summary.connections.inspected).toBe(1);
  });

  it('the ASA local time decides: a periodic window at the local hour of the capture applies only with the clock timezone that makes it local', async () => {
    const t0 = firstPacketSec(cap);
    const shift = -8 * 60; // PST
    const local = new Date((Math.floor(t0 / 60) + shift) * 60000);
    const day = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'][local.getUTCDay()] as string;
    const h = local.getUTCHours();
    const range = ` periodic ${day} ${h}:00 to ${h}:59\n`;
    const pst = await replayToTemp(cap, { policy: exempting(range, 'clock timezone PST -8\n') });
    expect(pst.summary.connections).toMatchObject({ inspected: 0, exempted: 1 });
    const utcClock = await replayToTemp(cap, { policy: exempting(range) });
    expect(utcClock.summary.connections).toMatchObject({ inspected: 1, exempted: 0 });
  });
});

describe('review fixes: 24:00 as an end time, an offset alone after recurring', () => {
  // Cisco IOS's `periodic` reference writes `periodic weekend 12:00 to 24:00`; 24:00 ends the day.
  it('periodic ... to 24:00 covers through 23:59:59 of each day and prints back as 24:00', () => {
    const p = gated(' periodic weekend 12:00 to 24:00\n');
    expect(printed(p)).toBe('time-range R\n periodic weekend 12:00 to 24:00');
    expect(printed(compilePolicyText(p.normalized(), 'n.cfg'))).toBe(printed(p));
    // 2024-01-13 is a Saturday
    expect(inEffect(p, utc(2024, 1, 13, 11, 59, 59))).toBe(false);
    expect(inEffect(p, utc(2024, 1, 13, 12, 0))).toBe(true);
    expect(inEffect(p, utc(2024, 1, 13, 23, 59, 59))).toBe(true);
    expect(inEffect(p, utc(2024, 1, 14, 0, 0))).toBe(false); // Sunday 0:00 is before Sunday's 12:00
    expect(inEffect(p, utc(2024, 1, 14, 23, 59, 59))).toBe(true);
    expect(inEffect(p, utc(2024, 1, 15, 0, 0))).toBe(false); // Monday: not past midnight
    // the same window as 23:59, which is inclusive
    const q = gated(' periodic weekend 12:00 to 23:59\n');
    for (let s = utc(2024, 1, 12, 0, 0); s < utc(2024, 1, 16); s += 60 * 7) expect(inEffect(p, s)).toBe(inEffect(q, s));
    // a whole day, and a span to the end of Sunday
    const day = gated(' periodic monday 0:00 to 24:00\n');
    expect(inEffect(day, utc(2024, 1, 14, 23, 59, 59))).toBe(false);
    expect(inEffect(day, utc(2024, 1, 15, 0, 0))).toBe(true);
    expect(inEffect(day, utc(2024, 1, 15, 23, 59, 59))).toBe(true);
    expect(inEffect(day, utc(2024, 1, 16, 0, 0))).toBe(false);
    const span = gated(' periodic friday 18:00 to sunday 24:00\n');
    expect(printed(span)).toBe('time-range R\n periodic friday 18:00 to sunday 24:00');
    expect(inEffect(span, utc(2024, 1, 14, 23, 59, 59))).toBe(true);
    expect(inEffect(span, utc(2024, 1, 15, 0, 0))).toBe(false);
    // `no periodic` names the line as written
    expect(printed(gated(' periodic weekend 12:00 to 24:00\n no periodic weekend 12:00 to 24:00\n'))).toBe('time-range R');
  });

  it('absolute end 24:00 ends with that day; it prints back as written', () => {
    const p = gated(' absolute end 24:00 1 March 2024\n');
    expect(printed(p)).toBe('time-range R\n absolute end 24:00 01 March 2024');
    expect(printed(compilePolicyText(p.normalized(), 'n.cfg'))).toBe(printed(p));
    expect(inEffect(p, utc(2024, 3, 1, 23, 59, 59))).toBe(true);
    expect(inEffect(p, utc(2024, 3, 2, 0, 0))).toBe(false);
    expect(errorOf('time-range R\n absolute start 0:00 2 March 2024 end 24:00 1 March 2024\n')).toMatchObject({ code: 'E_POLICY_VALUE', where: '2:35' });
  });

  it.each([
    [' periodic weekend 12:00 to 24:01', '2:28', /the end time must be 0:00-23:59 or 24:00, got 24:01/],
    [' periodic weekend 12:00 to 25:00', '2:28', /the end time must be 0:00-23:59 or 24:00, got 25:00/],
    [' periodic weekend 24:00 to 24:00', '2:19', /the start time must be 0:00-23:59, got 24:00 \(24:00 only as an end time\)/],
    [' periodic saturday 24:00 to sunday 12:00', '2:20', /the start time must be 0:00-23:59, got 24:00/],
    [' absolute start 24:00 1 March 2024', '2:17', /the start time must be 0:00-23:59, got 24:00/],
  ])('%s: %s', (line, where, message) => {
    const e = errorOf(`time-range R\n${line}\n`);
    expect(e).toMatchObject({ where, code: 'E_POLICY_VALUE' });
    expect(e.message).toMatch(message);
  });

  it('clock summer-time NAME recurring OFFSET: the US rule with that offset (the IOS synopsis places [offset] after the optional dates)', () => {
    const p = gated(' periodic daily 12:00 to 12:00\n', 'clock timezone EST -5\nclock summer-time EDT recurring 30\n');
    expect(printed(p)).toBe('clock timezone EST -5\nclock summer-time EDT recurring 30\ntime-range R\n periodic daily 12:00 to 12:00');
    expect(printed(compilePolicyText(p.normalized(), 'n.cfg'))).toBe(printed(p));
    // 12:00 local in July is 11:30 EST = 16:30 UTC; in January 12:00 EST = 17:00 UTC
    expect(inEffect(p, utc(2024, 7, 1, 16, 30))).toBe(true);
    expect(inEffect(p, utc(2024, 7, 1, 16, 0))).toBe(false);
    expect(inEffect(p, utc(2024, 1, 2, 17, 0))).toBe(true);
    // the US dates: 10 March 2024 2:00 EST is 7:00 UTC
    const q = gated(' periodic daily 2:30 to 2:30\n', 'clock timezone EST -5\nclock summer-time EDT recurring 30\n');
    expect(inEffect(q, utc(2024, 3, 10, 7, 0))).toBe(true); // 2:00 EST becomes 2:30 EDT
    expect(inEffect(q, utc(2024, 3, 9, 7, 0))).toBe(false); // the day before: 2:00 EST
    // an explicit 60 prints as the bare form; other offsets and the full form are unchanged
    expect(printed(gated('', 'clock timezone EST -5\nclock summer-time EDT recurring 60\n'))).toMatch(/^clock summer-time EDT recurring$/m);
    expect(printed(gated('', 'clock timezone EST -5\nclock summer-time EDT recurring 1440\n'))).toMatch(/^clock summer-time EDT recurring 1440$/m);
  });

  it.each([
    ['clock summer-time X recurring 0', '1:31', 'E_POLICY_VALUE', /offset in minutes must be 1-1440, got 0/],
    ['clock summer-time X recurring 1441', '1:31', 'E_POLICY_VALUE', /offset in minutes must be 1-1440, got 1441/],
    ['clock summer-time X recurring 30 60', '1:31', 'E_POLICY_SYNTAX', /expected the start week \(1-4, first or last\), got "30"/],
    ['clock summer-time X recurring 2 Sun', '1:36', 'E_POLICY_SYNTAX', /expected a month/],
    ['clock summer-time X recurring thirty', '1:31', 'E_POLICY_SYNTAX', /expected the start week/],
  ])('%s: %s %s', (line, where, code, message) => {
    const e = errorOf(`${line}\n`);
    expect(e).toMatchObject({ where, code });
    expect(e.message).toMatch(message);
  });
});

describe('clear configure time-range', () => {
  const ACE = 'access-list T extended permit tcp any any eq smtp time-range R\n';

  it('removes every time-range: an entry still naming one is an E_POLICY_REFERENCE at the clear line', () => {
    const e = errorOf(`time-range R\n periodic daily 8:00 to 18:00\ntime-range Q\n absolute end 0:00 1 January 2030\n${ACE}clear configure time-range\n`);
    expect(e).toMatchObject({ code: 'E_POLICY_REFERENCE', where: '6:1' });
    expect(e.message).toMatch(/time-range "R" is not defined/);
  });

  it('a range defined again below the clear line is the new definition; the cleared ones are gone from the printout', () => {
    const text = `time-range R\n periodic daily 8:00 to 18:00\ntime-range Q\n periodic weekend 0:00 to 23:59\n${ACE}clear configure time-range\ntime-range R\n periodic daily 20:00 to 21:00\n`;
    const p = compile(text);
    expect(printed(p)).toBe('time-range R\n periodic daily 20:00 to 21:00');
    expect(p.normalized()).not.toMatch(/time-range Q/);
    expect(inEffect(p, utc(2024, 1, 15, 9, 0))).toBe(false); // the old 8:00-18:00 window is gone
    expect(inEffect(p, utc(2024, 1, 15, 20, 30))).toBe(true);
  });

  it('entries added after the clear report their own missing range at its name; "config" is accepted; an extra word is a syntax error', () => {
    expect(errorOf(`time-range R\n periodic daily 8:00 to 18:00\nclear config time-range\n${ACE}`)).toMatchObject({ code: 'E_POLICY_REFERENCE', where: '4:62' });
    // with no entry naming a range, clearing them all is fine, and nothing else is touched
    const p = compile('time-range R\n periodic daily 8:00 to 18:00\nclear configure time-range\naccess-list T extended permit tcp any any eq smtp\n');
    expect(inEffect(p, utc(2024, 1, 15, 3, 0))).toBe(true);
    expect(errorOf('clear configure time-range R\n')).toMatchObject({ code: 'E_POLICY_SYNTAX', where: '1:28' });
  });
});
