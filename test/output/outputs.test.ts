import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { formatVerdict, VerdictFileWriter, type VerdictRecord } from '../../src/output/verdicts.js';
import { SyslogFileWriter } from '../../src/output/syslog.js';
import { asaSyslogTime, fractionDigits, IsoTimeFormatter, isoTime } from '../../src/output/time.js';
import { ProgressBar } from '../../src/output/progress.js';

describe('IsoTimeFormatter', () => {
  it('gives isoTime for every time and precision, whatever the order of calls (cache per second)', () => {
    const f = new IsoTimeFormatter();
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 4_000_000_000 }), fc.integer({ min: 0, max: 999_999_999 }), fc.integer({ min: 0, max: 9 })), { maxLength: 20 }), (calls) => {
        for (const [sec, nsec, digits] of calls) expect(f.format(sec, nsec, digits)).toBe(isoTime(sec, nsec, digits));
        // Same second again, other fraction: the cached prefix with the new fraction.
        for (const [sec, , digits] of calls) expect(f.format(sec, 5, digits)).toBe(isoTime(sec, 5, digits));
      }),
    );
  });
});

describe('verdict records', () => {
  it('keep the fixed key order whatever order the object was built in, and escape as JSON', () => {
    const r = { detail: 'a "quoted"\nline', syslog: null, action: 'drop', rule: 'match cmd RCPT count gt 100', direction: 'c2s', server: '[::1]:25', client: '[::1]:40000', packet: 7, time: '2024-01-02T03:04:05.123456Z' } as VerdictRecord;
    const line = formatVerdict(r);
    expect(Object.keys(JSON.parse(line) as object)).toEqual(['time', 'packet', 'client', 'server', 'direction', 'rule', 'action', 'syslog', 'detail']);
    expect(JSON.parse(line)).toEqual(r);
  });

  it('serialise exactly as JSON.stringify of the record in key order, for any strings (fast path included)', () => {
    const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: fc.constantFrom('"', '\\', '\n', '\u0000', '\u001f', '\u2028', '\ud800', '\udc00', 'a', 'é') }));
    fc.assert(
      fc.property(text, text, text, text, fc.option(text), fc.option(text), fc.nat(), (time, client, server, rule, syslog, detail, packet) => {
        const r: VerdictRecord = { time, packet, client, server, direction: 's2c', rule, action: 'note', syslog, detail: detail ?? '' };
        const expected = JSON.stringify({ time, packet, client, server, direction: 's2c', rule, action: 'note', syslog, detail: detail ?? '' });
        expect(formatVerdict(r)).toBe(expected);
      }),
    );
  });

  it('are written whole, one per line', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'out-'));
    const w = new VerdictFileWriter(path.join(dir, 'v.jsonl'));
    for (let i = 1; i <= 3000; i++) w.write({ time: 't', packet: i, client: 'c', server: 's', direction: null, rule: 'r', action: 'note', syslog: null, detail: 'x'.repeat(50) });
    w.close();
    const lines = readFileSync(path.join(dir, 'v.jsonl'), 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((l) => (JSON.parse(l) as VerdictRecord).packet)).toEqual(Array.from({ length: 3000 }, (_, i) => i + 1));
  });
});

describe('times', () => {
  it('ISO 8601 at the capture precision', () => {
    expect(isoTime(1700000000, 123456000, 6)).toBe('2023-11-14T22:13:20.123456Z');
    expect(isoTime(1700000000, 5, 9)).toBe('2023-11-14T22:13:20.000000005Z');
    expect(isoTime(1700000000, 5, 0)).toBe('2023-11-14T22:13:20Z');
    expect(fractionDigits(10, 6)).toBe(6);
    expect(fractionDigits(10, 9)).toBe(9);
    expect(fractionDigits(2, 20)).toBe(9);
    expect(fractionDigits(2, 0)).toBe(0);
  });
  it('ASA logging timestamp prefix on syslog lines', () => {
    expect(asaSyslogTime(1700000000)).toBe('Nov 14 2023 22:13:20');
    const dir = mkdtempSync(path.join(tmpdir(), 'out-'));
    const w = new SyslogFileWriter(path.join(dir, 's.log'), true);
    w.write('%ASA-6-302013: Built inbound TCP connection 1', 1700000000);
    w.close();
    expect(readFileSync(path.join(dir, 's.log'), 'utf8')).toBe('Nov 14 2023 22:13:20: %ASA-6-302013: Built inbound TCP connection 1\n');
  });
});

describe('progress bar', () => {
  it('draws only on a terminal', () => {
    const written: string[] = [];
    const quiet = new ProgressBar(100, { isTTY: false, write: (s) => (written.push(s), true) });
    quiet.update(50, 10);
    quiet.done();
    expect(written).toEqual([]);
    const tty = new ProgressBar(100, { isTTY: true, columns: 80, write: (s) => (written.push(s), true) });
    expect(tty.render(50, 10)).toContain(' 50.0% ');
    tty.update(50, 10);
    tty.done();
    expect(written.length).toBe(2);
  });
});
