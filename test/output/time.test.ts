/**
 * Capture times as text without Date: agreement with Date.toISOString over Date's whole range,
 * the exact inverse (days-from-civil, BigInt) far beyond it, ISO 8601 expanded years, and never NaN.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { asaSyslogTime, civilTime, IsoTimeFormatter, isoTime, isoYear, secondsBetween, UNREPRESENTABLE_TIME } from '../../src/output/time.js';

/** Date's limit: ±8.64e15 ms = ±8.64e12 s around the epoch. */
const DATE_LIMIT_SEC = 8.64e12;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Seconds since the epoch of a proleptic Gregorian date (Hinnant's days_from_civil, BigInt): the inverse, written independently. */
function secondsFromCivil(y: bigint, m: number, d: number, hh: number, mm: number, ss: number): bigint {
  const yy = m <= 2 ? y - 1n : y;
  const era = (yy >= 0n ? yy : yy - 399n) / 400n;
  const yoe = yy - era * 400n;
  const mp = BigInt(m > 2 ? m - 3 : m + 9);
  const doy = (153n * mp + 2n) / 5n + BigInt(d) - 1n;
  const doe = yoe * 365n + yoe / 4n - yoe / 100n + doy;
  const days = era * 146097n + doe - 719468n;
  return days * 86400n + BigInt(hh * 3600 + mm * 60 + ss);
}

describe('isoTime', () => {
  it('agrees with Date.toISOString for every time Date can represent (ms precision)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -DATE_LIMIT_SEC, max: DATE_LIMIT_SEC }), fc.integer({ min: 0, max: 999 }), (sec, ms) => {
        fc.pre(sec * 1000 + ms <= 8.64e15);
        expect(isoTime(sec, ms * 1e6, 3)).toBe(new Date(sec * 1000 + ms).toISOString());
      }),
      { numRuns: 20000 },
    );
  });

  it('agrees with Date around the calendar edges (leap days, centuries, year 0, the 9999/10000 switch)', () => {
    const edges: number[] = [-8.64e15, 8.64e15];
    for (const y of [-271821, -10000, -1, 0, 1, 1600, 1900, 1970, 2000, 2100, 2400, 9999, 10000, 275759]) {
      for (const [m, d] of [[0, 1], [1, 28], [1, 29], [2, 1], [11, 31]] as const) {
        const t = new Date(0);
        t.setUTCFullYear(y, m, d);
        edges.push(t.getTime() - 1000, t.getTime(), t.getTime() + 86399000);
      }
    }
    for (const ms of edges) {
      if (!Number.isFinite(new Date(ms).getTime())) continue;
      expect(isoTime(Math.floor(ms / 1000), 0, 3)).toBe(new Date(Math.floor(ms / 1000) * 1000).toISOString());
    }
  });

  it('beyond Date: the printed calendar time converts back to the same seconds (exact, up to 2^64 and below -2^63)', () => {
    const check = (sec: bigint): void => {
      const text = isoTime(Number(sec), 0, 0);
      const m = /^([+-]\d{6,}|\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)Z$/.exec(text);
      expect(m, text).not.toBeNull();
      const back = secondsFromCivil(BigInt(m![1]!), Number(m![2]), Number(m![3]), Number(m![4]), Number(m![5]), Number(m![6]));
      // Numbers above 2^53 are the double nearest to `sec`: the text is for that double.
      expect(back).toBe(BigInt(Number(sec)));
    };
    fc.assert(fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n }), check), { numRuns: 5000 });
    for (const s of [2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 2n, 2n ** 63n, 2n ** 64n, -(2n ** 63n), BigInt(DATE_LIMIT_SEC) + 1n]) check(s);
  });

  it('prints farfuture.pcapng-style times as expanded years (capinfos: 35680317-09-25 18:57:04)', () => {
    expect(isoTime(2 ** 50, 0, 0)).toBe('+35680317-09-25T18:57:04Z');
    expect(isoTime(2 ** 50, 123456789, 6)).toBe('+35680317-09-25T18:57:04.123456Z');
    // 2^63 + 5 seconds is stored in a double as 2^63
    expect(isoTime(2 ** 63 + 5, 0, 0)).toBe('+292277026596-12-04T15:30:08Z');
    expect(isoTime(2 ** 64, 0, 0)).toMatch(/^\+584554051223-11-09T07:00:16Z$/);
    expect(isoTime(-62167219200 - 1, 0, 0)).toBe('-000001-12-31T23:59:59Z');
    expect(isoTime(253402300800, 0, 0)).toBe('+010000-01-01T00:00:00Z');
    expect(isoTime(253402300799, 999999999, 9)).toBe('9999-12-31T23:59:59.999999999Z');
  });

  it('keeps the capture digits (truncated, as capinfos), carries a fraction over one second, never prints NaN', () => {
    expect(isoTime(1700000000, 123456789, 9)).toBe('2023-11-14T22:13:20.123456789Z');
    expect(isoTime(1700000000, 123456789, 6)).toBe('2023-11-14T22:13:20.123456Z');
    expect(isoTime(1700000000, 1_500_000_000, 6)).toBe('2023-11-14T22:13:21.500000Z');
    for (const bad of [Number.NaN, Infinity, -Infinity]) {
      expect(isoTime(bad, 0, 6)).toBe(UNREPRESENTABLE_TIME);
      expect(asaSyslogTime(bad)).toBe(UNREPRESENTABLE_TIME);
      expect(new IsoTimeFormatter().format(bad, 0, 6)).toBe(UNREPRESENTABLE_TIME);
    }
    fc.assert(
      fc.property(fc.double({ noNaN: false }), fc.integer({ min: 0, max: 999_999_999 }), fc.integer({ min: 0, max: 9 }), (s, ns, d) => {
        expect(isoTime(s, ns, d)).not.toMatch(/NaN/);
        expect(new IsoTimeFormatter().format(s, ns, d)).toBe(isoTime(s, ns, d));
      }),
    );
  });

  it('isoYear: 4 digits in 0..9999, else a sign and at least 6', () => {
    expect([0, 999, 9999, 10000, -1, 35680317, 2n ** 70n].map(isoYear)).toEqual(['0000', '0999', '9999', '+010000', '-000001', '+35680317', '+1180591620717411303424']);
  });
});

describe('asaSyslogTime', () => {
  it('agrees with Date in its range and gives a plain year beyond it', () => {
    fc.assert(
      fc.property(fc.integer({ min: -DATE_LIMIT_SEC, max: DATE_LIMIT_SEC }), (sec) => {
        const d = new Date(sec * 1000);
        const want =
          `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, '0')} ${d.getUTCFullYear()} ` +
          [d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
        expect(asaSyslogTime(sec)).toBe(want);
      }),
      { numRuns: 5000 },
    );
    expect(asaSyslogTime(2 ** 50)).toBe('Sep 25 35680317 18:57:04');
  });
});

describe('civilTime and secondsBetween', () => {
  it('civilTime gives the fields; secondsBetween stays finite and exact to the nanosecond in range', () => {
    expect(civilTime(0)).toEqual({ year: 1970, month: 1, day: 1, hour: 0, minute: 0, second: 0 });
    expect(secondsBetween(1, 900_000_000, 3, 100_000_000)).toBe(1.2);
    expect(secondsBetween(2 ** 50, 0, 2 ** 63, 0)).toBe(2 ** 63 - 2 ** 50);
    expect(Number.isFinite(secondsBetween(-(2 ** 63), 0, 2 ** 64, 0))).toBe(true);
  });
});
