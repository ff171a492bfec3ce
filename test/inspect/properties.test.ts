/**
 * Properties: in line-level mode any segmentation gives the same final bytes and the same
 * verdicts (the engine is resumable at every byte); random and mutated input never throws and
 * keeps committed() within bounds.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Direction } from '../../src/flow/types.js';
import { run, defaultMap, mapFrom, opts, type Segment } from './helpers.js';

const MAP = mapFrom(`regex exe "application/x-msdownload"
policy-map type inspect esmtp M
 parameters
  mask-banner
  mail-relay example.test action log
 match cmd line length gt 40
  log
 match cmd RCPT count gt 2
  log
 match header line length gt 30
  log
 match header to-fields count gt 1
  log
 match body line length gt 20
  log
 match body length gt 60
  log
 match sender-address length gt 12
  log
 match MIME filename length gt 8
  log
 match mime filetype regex exe
  log
 match ehlo-reply-parameter others
  mask
`);

/** A whole conversation as (direction, message) pairs in capture order. */
const CONVERSATION: [Direction, string][] = [
  [1, '220-mx2.example.test ESMTP 2020\r\n220 second\r\n'],
  [0, 'EHLO client.example.test\r\n'],
  [1, '250-mx2\r\n250-PIPELINING\r\n250-STARTTLS\r\n250-CHUNKING\r\n250 SMTPUTF8\r\n'],
  [0, 'MAIL FROM:<long|sender@example.test> SIZE=100\r\nRCPT TO:<a@example.test>\r\nRCPT TO:<b@else.test>\r\nRCPT TO:<c@example.test>\r\nVERB\r\nDATA\r\n'],
  [1, '250 ok\r\n250 ok\r\n250 ok\r\n550 no\r\n500 unknown\r\n354 go\r\n'],
  [
    0,
    'To: a\r\nTo: b\r\nX-Long: 0123456789012345678901234567890\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: application/x-msdownload;\r\n name="abcdefghijk.exe"\r\n\r\nTVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n..dot\r\n--B--\r\n.\r\n',
  ],
  [1, '250 queued\r\n'],
  [0, 'AUTH LOGIN\r\n'],
  [1, '334 VXNlcm5hbWU6\r\n'],
  [0, 'YWxpY2U=\r\nQUIT\r\n'],
  [1, '221 bye\r\n'],
];

function split(cuts: number[][]): Segment[] {
  const segs: Segment[] = [];
  CONVERSATION.forEach(([dir, text], k) => {
    const b = Buffer.from(text, 'latin1');
    const points = [...new Set((cuts[k] ?? []).map((c) => c % (b.length + 1)))].sort((x, y) => x - y);
    let prev = 0;
    for (const p of [...points, b.length]) {
      if (p > prev) segs.push({ dir, bytes: b.subarray(prev, p) });
      prev = Math.max(prev, p);
    }
  });
  return segs;
}

const whole = () => split([]);
const strip = (r: ReturnType<typeof run>) => r.verdicts;

describe('line-level mode: segmentation does not change the result', () => {
  const lineOpts = opts({ judging: 'line' });
  const reference = run(MAP, whole(), lineOpts);

  it('the reference conversation exercises many rules', () => {
    const rules = new Set(reference.verdicts.map((v) => v.rule));
    for (const r of ['mask-banner', 'allow-tls', 'match ehlo-reply-parameter others', 'pipe-in-address', 'match cmd RCPT count gt 2', 'mail-relay', 'unknown-command', 'match header to-fields count gt 1', 'match header line length gt 30', 'match mime filetype regex exe', 'match MIME filename length gt 8', 'match body length gt 60', 'match body line length gt 20', 'match sender-address length gt 12'])
      expect(rules, r).toContain(r);
    expect(reference.session.state).toBe('inspecting');
  });

  it('any split points give the same bytes and verdicts', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.nat(400), { maxLength: 12 }), { minLength: CONVERSATION.length, maxLength: CONVERSATION.length }), (cuts) => {
        const r = run(MAP, split(cuts), lineOpts);
        expect(r.out[0].equals(reference.out[0])).toBe(true);
        expect(r.out[1].equals(reference.out[1])).toBe(true);
        expect(strip(r)).toEqual(strip(reference));
      }),
      { numRuns: 300 },
    );
  });

  it('one byte per segment gives the same result too', () => {
    const cuts = CONVERSATION.map(([, t]) => Array.from({ length: t.length }, (_, i) => i));
    const r = run(MAP, split(cuts), lineOpts);
    expect(r.out[0].equals(reference.out[0])).toBe(true);
    expect(r.out[1].equals(reference.out[1])).toBe(true);
    expect(r.verdicts).toEqual(reference.verdicts);
  });

  it('segment mode agrees with line mode when every line arrives whole', () => {
    const r = run(MAP, whole());
    expect(r.out[0].equals(reference.out[0])).toBe(true);
    expect(r.verdicts.map((v) => [v.rule, v.offset])).toEqual(reference.verdicts.map((v) => [v.rule, v.offset]));
  });
});

describe('hostile input', () => {
  const segArb = fc.array(fc.record({ dir: fc.constantFrom<Direction>(0, 1), bytes: fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u)) }), { maxLength: 40 });

  it('random bytes never throw; edits stay inside the streams; committed() never exceeds what was seen', () => {
    fc.assert(
      fc.property(segArb, fc.constantFrom<'segment' | 'line'>('segment', 'line'), (segs, judging) => {
        const r = run(defaultMap(), segs, opts({ judging }));
        for (const e of r.edits) expect(e.offset + e.bytes.length).toBeLessThanOrEqual(r.input[e.dir].length);
        expect(r.session.committed(0)).toBeLessThanOrEqual(r.input[0].length);
        expect(r.session.committed(1)).toBeLessThanOrEqual(r.input[1].length);
      }),
      { numRuns: 300 },
    );
  });

  it('mutated real conversations never throw (byte flips, inserted CR/LF/dots/pipes, gaps)', () => {
    const base = whole();
    fc.assert(
      fc.property(
        fc.array(fc.record({ seg: fc.nat(100), pos: fc.nat(400), byte: fc.constantFrom(0x0d, 0x0a, 0x2e, 0x7c, 0x3c, 0x3e, 0x00, 0xff, 0x20, 0x3a) }), { maxLength: 20 }),
        fc.array(fc.nat(100), { maxLength: 3 }),
        (muts, gapAt) => {
          const segs = base.map((s) => ({ dir: s.dir, bytes: Buffer.from(s.bytes) }));
          for (const m of muts) {
            const s = segs[m.seg % segs.length]!;
            if (s.bytes.length) s.bytes[m.pos % s.bytes.length] = m.byte;
          }
          const edits: number[] = [];
          const r = run(MAP, segs);
          edits.push(r.edits.length);
          // with gaps: feed through the session API directly
          const gaps = new Set(gapAt.map((g) => g % segs.length));
          const { createEsmtpSession } = sessionModule;
          const s = createEsmtpSession(MAP, ctx, opts(), { edit: () => {}, verdict: () => {} }, new counters.EsmtpCounters());
          const off: [number, number] = [0, 0];
          segs.forEach((seg, k) => {
            if (gaps.has(k)) s.gap(seg.dir, off[seg.dir], seg.bytes.length);
            else s.data(seg.dir, seg.bytes, off[seg.dir]);
            off[seg.dir] += seg.bytes.length;
          });
          s.end();
          expect(['inspecting', 'dropped', 'reset', 'passthrough']).toContain(s.state);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('memory stays bounded: a 4 MiB line without LF in every state is measured, not stored', () => {
    const big = Buffer.alloc(4 * 1024 * 1024, 0x41);
    for (const prefix of [[] as Segment[], [{ dir: 0 as Direction, bytes: Buffer.from('MAIL FROM:<') }]]) {
      const before = process.memoryUsage().heapUsed;
      const segs: Segment[] = [{ dir: 1, bytes: Buffer.from('220 x\r\n') }, ...prefix];
      for (let i = 0; i < 4; i++) segs.push({ dir: 0, bytes: big }, { dir: 1, bytes: big });
      const r = run(mapFrom('policy-map type inspect esmtp M\n parameters\n  no mask-banner\n'), segs, opts({ judging: 'line' }));
      expect(r.session.state).toBe('inspecting');
      // the run keeps the inputs (32 MiB) for the assertions; the engine itself must add little
      expect(process.memoryUsage().heapUsed - before).toBeLessThan(96 * 1024 * 1024);
    }
  });

  it('a pipelining flood is bounded by max-pending and noted once per overflow (bounded notes)', () => {
    const segs: Segment[] = [{ dir: 1, bytes: Buffer.from('220 x\r\n') }, { dir: 0, bytes: Buffer.from('NOOP\r\n'.repeat(500)) }];
    const r = run(defaultMap(), segs, opts({ maxPending: 8 }));
    expect(r.verdicts.filter((v) => v.rule === 'pipelining-limit').length).toBeLessThanOrEqual(16);
    expect(r.verdicts.filter((v) => v.rule === 'pipelining-limit').length).toBeGreaterThan(0);
  });
});

import * as sessionModule from '../../src/inspect/esmtp/session.js';
import * as counters from '../../src/inspect/counters.js';
import { CTX as ctx } from './helpers.js';

describe('DATA body fast path (bodyFast) = the exact per-line path', () => {
  const bodyMap = (crlfNot: boolean) =>
    mapFrom(`policy-map type inspect esmtp B
 parameters
  no mask-banner
 match body line length gt 20
  log
 match body length gt 300
  log
${crlfNot ? ' match not body line length gt 50\n  log\n' : ''}`, 'B');
  const lineArb = fc.oneof(
    fc.nat(30).map((k) => 'a'.repeat(k) + '\r\n'),
    fc.constantFrom('.\r\n', '..x\r\n', '.\n', '--B\r\n', '--B--\r\n', '-x\r\n', '\r\n', '\n', 'a\rb\r\n', 'x\r', 'yy\n', '.a\r\n'),
    fc.nat(60).map((k) => 'b'.repeat(k) + '\n'),
  );
  const head = 'Content-Type: multipart/mixed; boundary=B\r\n\r\n';

  it('random bodies and random segmentation give the same bytes and verdicts as one byte per segment', () => {
    fc.assert(
      fc.property(fc.array(lineArb, { maxLength: 40 }), fc.array(fc.nat(2000), { maxLength: 15 }), fc.boolean(), fc.boolean(), (lines, cuts, crlf, negated) => {
        const msg = Buffer.from(head + lines.join('') + '\r\n.\r\nNOOP\r\nVERB\r\n', 'latin1');
        const pre: Segment[] = [{ dir: 1, bytes: Buffer.from('220 x\r\n') }, { dir: 0, bytes: Buffer.from('DATA\r\n') }, { dir: 1, bytes: Buffer.from('354 go\r\n') }];
        const points = [...new Set(cuts.map((c) => c % (msg.length + 1)))].sort((a, b) => a - b);
        const segs: Segment[] = [...pre];
        let prev = 0;
        for (const p of [...points, msg.length]) {
          if (p > prev) segs.push({ dir: 0, bytes: msg.subarray(prev, p) });
          prev = Math.max(prev, p);
        }
        const bytes1: Segment[] = [...pre];
        for (let i = 0; i < msg.length; i++) bytes1.push({ dir: 0, bytes: msg.subarray(i, i + 1) });
        const o = opts({ judging: 'line', lengthCountsCrlf: crlf });
        const a = run(bodyMap(negated), segs, o);
        const b = run(bodyMap(negated), bytes1, o);
        expect(a.out[0].equals(b.out[0])).toBe(true);
        expect(a.verdicts).toEqual(b.verdicts);
      }),
      { numRuns: 400 },
    );
  });
});
