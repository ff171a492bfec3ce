import { describe, it, expect } from 'vitest';
import { diffVerdicts, formatDifferences, maskRecord, parseVerdicts } from '../../src/regress/diff.js';
import type { VerdictRecord } from '../../src/output/verdicts.js';

function v(packet: number, rule: string, action: VerdictRecord['action'], detail = ''): VerdictRecord {
  return { time: '2025-01-01T00:00:00.000000Z', packet, client: '127.0.0.1:40000', server: '127.0.0.1:25', direction: 'c2s', rule, action, syslog: null, detail };
}

describe('verdict differ', () => {
  const base = [v(4, 'mask-banner', 'mask'), v(6, 'match ehlo-reply-parameter others', 'mask', 'STARTTLS'), v(212, 'match cmd RCPT count gt 100', 'drop-connection', 'RCPT #101'), v(212, '', 'drop'), v(213, '', 'drop')];

  it('identical lists have no differences', () => {
    expect(diffVerdicts(base, base.map((r) => ({ ...r })))).toEqual([]);
  });

  it('one missing verdict is one difference, not a shift of everything after it', () => {
    const got = base.filter((_, i) => i !== 1);
    const d = diffVerdicts(base, got);
    expect(d).toHaveLength(1);
    expect(d[0]).toMatchObject({ packet: 6, got: null });
    const text = formatDifferences(d).join('\n');
    expect(text).toContain('packet 6');
    expect(text).toContain('expected: match ehlo-reply-parameter others -> mask  "STARTTLS"');
    expect(text).toContain('got:      (no verdict)');
  });

  it('a changed action on the same packet and rule is reported as a change with the fields that differ', () => {
    const got = base.map((r) => (r.packet === 212 && r.rule.startsWith('match') ? { ...r, action: 'log' as const } : r));
    const d = diffVerdicts(base, got);
    expect(d).toHaveLength(1);
    const text = formatDifferences(d).join('\n');
    expect(text).toMatch(/packet 212 c2s .*\n\s+expected: match cmd RCPT count gt 100 -> drop-connection {2}"RCPT #101"\n\s+got: {6}match cmd RCPT count gt 100 -> log/);
    expect(text).toContain('differs in: action');
  });

  it('a verdict of another rule, action and direction on the same packet is not shown as this one changed', () => {
    // a policy change: the reset's synthesised RST (s2c) is gone, a new log verdict (c2s) came
    const expected = [{ ...v(15, 'match header line length gt 998', 'synthesize'), direction: 's2c' as const }];
    const got = [v(15, 'match header line length gt 500', 'log')];
    const d = diffVerdicts(expected, got);
    expect(d).toHaveLength(2);
    expect(d.map((x) => [x.expected?.action ?? null, x.got?.action ?? null])).toEqual([
      ['synthesize', null],
      [null, 'log'],
    ]);
    // a renamed rule doing the same thing in the same direction still reads as one change
    const renamed = diffVerdicts([v(15, 'match header line length gt 998', 'log')], [v(15, 'match header line length gt 500', 'log')]);
    expect(renamed).toHaveLength(1);
    expect(formatDifferences(renamed).join('\n')).toContain('differs in: rule');
  });

  it('pairs each expected verdict with the most alike one of its packet (same rule and action before same rule)', () => {
    // drop-connection -> reset: the dropped packet's record stays a drop, two RSTs are new
    const R = 'match header line length gt 998';
    const expected = [v(15, R, 'drop-connection'), v(15, R, 'drop', 'connection dropped by it')];
    const got = [v(15, R, 'reset'), v(15, R, 'synthesize', 'RST towards the server'), v(15, R, 'drop', 'connection reset by it')];
    const d = diffVerdicts(expected, got);
    const pairs = d.map((x) => [x.expected?.action ?? null, x.got?.action ?? null]);
    expect(pairs).toContainEqual(['drop-connection', 'reset']);
    expect(pairs).toContainEqual(['drop', 'drop']);
    expect(pairs).toContainEqual([null, 'synthesize']);
    expect(d).toHaveLength(3);
  });

  it('masks paths and our version string', () => {
    const r = maskRecord({ ...v(1, 'x', 'note', 'read /tmp/abc/case/policy.txt with smtp-inspect 0.1.0') }, { paths: ['/tmp/abc/case'] });
    expect(r.detail).toBe('read <path>/policy.txt with smtp-inspect <version>');
  });

  it('parses JSONL and reports the bad line', () => {
    expect(parseVerdicts(base.map((r) => JSON.stringify(r)).join('\n') + '\n', 'f')).toHaveLength(5);
    expect(() => parseVerdicts('{"packet":1}\nnope\n', 'f.jsonl')).toThrow(/f.jsonl:1/);
  });
});

describe('DigestWriter per-record lines', () => {
  it('lists the first recordLimit records (time, lengths, own digest), then stops: memory stays bounded', async () => {
    const { DigestWriter } = await import('../../src/regress/digest-writer.js');
    const w = new DigestWriter(false, 3);
    for (let i = 0; i < 5; i++) {
      const data = Buffer.from([i, 1, 2, 3]);
      w.write({ interfaceIndex: 0, tsSec: 1000 + i, tsNsec: 5, tsRawHigh: 0, tsRawLow: 0, originalLength: 10, data });
    }
    expect(w.count).toBe(5);
    expect(w.records).toHaveLength(3);
    expect(w.records[0]).toMatch(/^1\t1000\.000000005\t4\/10\t[0-9a-f]{16}$/);
    expect(new Set(w.records.map((l) => l.split('\t')[3])).size).toBe(3);
  });
});

describe('compareCase on a digest mismatch with a capped record listing', () => {
  it('says the listed records match and the difference is after them', async () => {
    const { compareCase, expectationsOf } = await import('../../src/regress/compare.js');
    const lines = ['1\t1.000000000\t60/60\t0123456789abcdef', '2\t2.000000000\t60/60\tfedcba9876543210'];
    const base = { verdicts: [], outDigest: 'a'.repeat(64), outRecords: 3, annotatedDigest: 'b'.repeat(64), annotatedRecords: 3, annotations: [], summary: {}, outRecordLines: lines, annotatedRecordLines: [] };
    const exp = expectationsOf(base);
    expect(exp.out).toContain('# records after 2 are not listed');
    const r = compareCase(exp, { ...base, outDigest: 'c'.repeat(64) });
    expect(r.problems).toContain('    the 2 records listed match: the difference is after them');
  });
});
