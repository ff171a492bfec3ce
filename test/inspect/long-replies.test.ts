/**
 * Reply boundaries for over-long and malformed server lines (RFC 5321 4.2.1, 4.5.3.1.5; options
 * reply-line-limit, long-reply-line, reply-code-change). The defect: suricata-verify smtp-bug-6053
 * has a 5038-byte greeting without CR LF; read to the next LF it swallowed the EHLO reply, so the
 * 334 to AUTH LOGIN answered EHLO and the first AUTH line was X'd as an unknown command.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { run, captureSegments, C, S, G, CTX, defaultMap, opts, latin1, type Segment } from './helpers.js';
import type { Edit } from '../../src/inspect/types.js';
import { createEsmtpSession } from '../../src/inspect/esmtp/session.js';
import { EsmtpCounters } from '../../src/inspect/counters.js';
import { parseEngineOptions } from '../../src/inspect/options.js';
import { EXTERNAL_PCAPS, haveShared } from '../helpers/shared.js';

/** The engine's behaviour before these options existed: lines end only at LF, codes not compared. */
const LEGACY = opts({ longReplyLine: 'lf', replyCodeChange: 'continue' });
const notes = (r: ReturnType<typeof run>) => r.verdicts.filter((v) => v.rule === 'server-anomaly').map((v) => v.detail);
const xs = (r: ReturnType<typeof run>) => r.verdicts.filter((v) => v.rule === 'unknown-command');

/** After the greeting: EHLO answered with keywords, AUTH LOGIN, a message. Replies pair only if boundaries are right. */
function session(greeting: Segment[], ehloReply: Segment[]): Segment[] {
  return [
    ...greeting,
    C('EHLO client.example\r\n'),
    ...ehloReply,
    C('AUTH LOGIN\r\n'),
    S('334 VXNlcm5hbWU6\r\n'),
    C('Z2FsdW50\r\n'), // an AUTH line: X'd only if the 334 was not taken as AUTH's answer
    S('334 UGFzc3dvcmQ6\r\n'),
    C('VjF2MXRyMG4=\r\n'),
    S('235 ok\r\n'),
    C('MAIL FROM:<a@example.com>\r\n'),
    S('250 ok\r\n'),
    C('RCPT TO:<b@example.com>\r\n'),
    S('250 ok\r\n'),
    C('DATA\r\n'),
    S('354 go ahead\r\n'),
    C('Subject: t\r\n\r\nhello world\r\n.\r\n'), // body: X'd only if the 354 was not taken as DATA's answer
    S('250 queued\r\n'),
    C('QUIT\r\n'),
    S('221 bye\r\n'),
  ];
}

describe.skipIf(!haveShared)('sv-bug-6053: a 5038-byte greeting without CR LF (real capture)', () => {
  const file = path.join(EXTERNAL_PCAPS, 'sv-bug-6053.pcap');

  it('replies pair with their commands: nothing on the client side is X\'d, the EHLO reply is not masked as banner', async () => {
    const segs = await captureSegments(file);
    const r = run(defaultMap(), segs);
    // the bytes, as tshark shows them: greeting 5038 bytes ending in 'Z' (no CR LF), then a
    // separate segment '250-smtp001...\r\n' (a multi-line EHLO reply that never gets its final line)
    const s2c = latin1(r.input[1]);
    expect(s2c.slice(5030, 5038)).toBe('AAAAAAAZ');
    expect(s2c.slice(5038, 5042)).toBe('250-');
    expect(r.out[0].equals(r.input[0])).toBe(true);
    expect(xs(r)).toEqual([]);
    expect(r.verdicts.map((v) => v.rule)).toEqual(['mask-banner', 'server-anomaly', 'server-anomaly']);
    // the greeting alone is masked: the EHLO reply that follows it is untouched
    const out = latin1(r.out[1]);
    expect(out.slice(0, 4)).toBe('220 ');
    expect(out.slice(4, 5038)).toMatch(/^[*20]+$/);
    expect(out.slice(5038)).toBe(s2c.slice(5038));
    expect(notes(r)[0]).toMatch(/^server line of 5038 bytes without LF, over the 512-octet reply line limit/);
    expect(notes(r)[1]).toMatch(/^multi-line 250 reply ended without a final line: the next line's code 334 starts a new reply/);
    expect(r.session.state).toBe('inspecting');
  });

  it('with the legacy reading (long-reply-line=lf, reply-code-change=continue) the defect reappears', async () => {
    const r = run(defaultMap(), await captureSegments(file), LEGACY);
    // the replies pair one command late: the 334 to AUTH answers EHLO, so the user name is X'd, and
    // the 334 to the user name answers AUTH while that line is still queued, so it is taken as the
    // response already sent and the password is judged (X'd) too (auth-pipelined.test.ts)
    expect(xs(r).map((v) => v.detail)).toEqual(['"Z2FsdW50": not a supported command', '"VjF2MXRy...": not a supported command']);
    // the EHLO reply line was masked as part of the greeting
    expect(latin1(r.out[1]).slice(5038, 5042)).toBe('2*0*');
  });
});

describe('over-long reply lines (synthetic)', () => {
  const EHLO_REPLY = [S('250-mx.example\r\n250-CHUNKING\r\n250 SIZE 1000\r\n')];

  /** Checks that every reply paired with its command (EHLO keywords masked, AUTH and body untouched). */
  function expectPaired(r: ReturnType<typeof run>, ehloReplyAt: number): void {
    expect(xs(r)).toEqual([]);
    expect(r.out[0].equals(r.input[0])).toBe(true);
    expect(r.verdicts.some((v) => v.rule === 'x-divergence')).toBe(false);
    const out = latin1(r.out[1]);
    expect(out.slice(ehloReplyAt, ehloReplyAt + 45)).toBe('250-mx.example\r\n250-XXXXXXXX\r\n250 SIZE 1000\r\n');
  }

  it('a long greeting without CR LF ends with its segment when the next one starts with a reply code', () => {
    const greeting = '220 ' + 'A'.repeat(3000);
    const r = run(defaultMap(), session([S(greeting)], EHLO_REPLY));
    expectPaired(r, greeting.length);
    expect(latin1(r.out[1]).slice(0, greeting.length)).toBe('220 ' + '*'.repeat(3000));
    expect(notes(r)).toHaveLength(1);
    // legacy: the EHLO reply's first line is absorbed into the greeting (masked as banner), so its
    // CHUNKING line is taken as a first line and passes unmasked
    const old = run(defaultMap(), session([S(greeting)], EHLO_REPLY), LEGACY);
    expect(latin1(old.out[1]).slice(greeting.length, greeting.length + 45)).toBe('2*0*' + '*'.repeat(10) + '\r\n250-CHUNKING\r\n250 SIZE 1000\r\n');
    // and with a one-line multi-line EHLO reply (as in sv-bug-6053) every reply answers the command
    // before its own: the AUTH line is X'd, and the 354 answers RCPT, so the message is judged as commands
    const old1 = run(defaultMap(), session([S(greeting)], [S('250-mx.example\r\n')]), LEGACY);
    expect(xs(old1)[0]?.detail).toBe('"Z2FsdW50": not a supported command');
    expect(xs(old1).map((v) => v.detail)).toContain('"hello": not a supported command');
    const now1 = run(defaultMap(), session([S(greeting)], [S('250-mx.example\r\n')]));
    expect(xs(now1)).toEqual([]);
    expect(now1.out[0].equals(now1.input[0])).toBe(true);
    expect(notes(now1)).toHaveLength(2); // the long line, then the 250 reply without final line
  });

  it('a long greeting over several segments, then no CR LF: only the segment boundary before a reply code ends it', () => {
    // the segments inside the line start with digits but not with "DDD" + SP/'-'/CR/LF
    const body = '1234567890'.repeat(300);
    const parts = [S('220 ' + body.slice(0, 996)), S(body.slice(996, 2000)), S(body.slice(2000))];
    expect(latin1(parts[1]!.bytes).slice(0, 4)).toBe('7890');
    const r = run(defaultMap(), session(parts, EHLO_REPLY));
    expectPaired(r, 4 + body.length);
    // Reading B: the digits 2 and 0 of the long line survive, everything else of it is masked
    expect(latin1(r.out[1]).slice(4, 4 + body.length)).toBe(body.replace(/[^20]/g, '*'));
  });

  it('a long line that ends with CR LF (or a bare LF) is accepted whole: the limit cuts nothing', () => {
    for (const eol of ['\r\n', '\n']) {
      const greeting = '220 ' + 'B'.repeat(5000) + eol;
      const r = run(defaultMap(), session([S(greeting.slice(0, 1500)), S(greeting.slice(1500))], EHLO_REPLY));
      expectPaired(r, greeting.length);
      expect(notes(r)).toEqual([]);
    }
  });

  it('a line under the limit split before a reply-code-like segment is not cut (only over-long lines are)', () => {
    // "250-SIZE " + "250 000" split: the second segment starts like a reply line, but the line is short
    const r = run(defaultMap(), [S('220 mx\r\n'), C('EHLO c\r\n'), S('250-mx\r\n250-SIZE '), S('250 000\r\n250 CHUNKING\r\n'), C('MAIL FROM:<a@b.example>\r\n')]);
    expect(latin1(r.out[1]).split('\r\n').slice(1, 4)).toEqual(['250-mx', '250-SIZE 250 000', '250 XXXXXXXX']);
    expect(notes(r)).toEqual([]);
  });

  it('a long multi-line EHLO reply line without LF: the next line is read as a line (STARTTLS masked, reply ends)', () => {
    const long = '250-X-LONG ' + 'p'.repeat(2000);
    const segs = [S('220 mx\r\n'), C('EHLO c\r\n'), S('250-mx\r\n' + long), S('250-STARTTLS\r\n250 SIZE 1\r\n'), C('MAIL FROM:<a@b.example>\r\n'), S('250 ok\r\n'), C('RCPT TO:<c@d.example>\r\n'), S('250 ok\r\n'), C('DATA\r\n'), S('354 go\r\n'), C('just text\r\n.\r\n'), S('250 ok\r\n')];
    const r = run(defaultMap(), segs);
    const out = latin1(r.out[1]);
    const at = 8 + 8;
    // the long "others" line is masked up to its segment's end, and no further
    expect(out.slice(at, at + long.length)).toBe('250-' + 'X'.repeat(long.length - 4));
    expect(out.slice(at + long.length, at + long.length + 26)).toBe('250-XXXXXXXA\r\n250 SIZE 1\r\n');
    expect(xs(r)).toEqual([]);
    expect(r.out[0].equals(r.input[0])).toBe(true);
    expect(notes(r)).toHaveLength(1);
    // legacy: STARTTLS is swallowed by the long line's mask, and the reply never ends there
    const old = run(defaultMap(), segs, LEGACY);
    expect(latin1(old.out[1]).slice(at + long.length, at + long.length + 12)).toBe('XXXXXXXXXXXX');
  });

  it('reply-line-limit moves the threshold', () => {
    const greeting = '220 ' + 'A'.repeat(600);
    expectPaired(run(defaultMap(), session([S(greeting)], EHLO_REPLY)), greeting.length);
    const r = run(defaultMap(), session([S(greeting)], EHLO_REPLY), opts({ replyLineLimit: 1000 }));
    // 604 bytes are not over a 1000-octet limit: read to the LF as before (the EHLO reply's first line masked as banner)
    expect(latin1(r.out[1]).slice(greeting.length, greeting.length + 16)).toBe('2*0*' + '*'.repeat(10) + '\r\n');
    expect(notes(r)).toEqual([]);
  });

  it('a long line without terminator followed by a gap: the final line\'s code was seen, the reply is complete', () => {
    const greeting = '220 ' + 'A'.repeat(2000);
    const r = run(defaultMap(), session([S(greeting), G(1, 40)], [S('250-mx.example\r\n250-CHUNKING\r\n250 SIZE 1000\r\n')]));
    expectPaired(r, greeting.length + 40);
    expect(latin1(r.out[1]).slice(0, greeting.length)).toBe('220 ' + '*'.repeat(2000));
  });

  it('a long line without terminator followed by the close: masked to its end, nothing held, no verdict about the client', () => {
    const greeting = '220 ' + 'A'.repeat(2000);
    const r = run(defaultMap(), [S(greeting), C('QUIT\r\n')]);
    expect(latin1(r.out[1])).toBe('220 ' + '*'.repeat(2000));
    expect(r.out[0].equals(r.input[0])).toBe(true);
    expect(r.session.committed(1)).toBe(greeting.length);
    expect(r.verdicts.map((v) => v.rule)).toEqual(['mask-banner']);
  });
});

describe('a multi-line reply without its final line (reply-code-change)', () => {
  it('a line with another code starts the next reply: 334 answers AUTH, not EHLO', () => {
    const r = run(defaultMap(), session([S('220 mx\r\n')], [S('250-mx.example\r\n')]));
    expect(xs(r)).toEqual([]);
    expect(notes(r)).toEqual([expect.stringMatching(/^multi-line 250 reply ended without a final line: the next line's code 334/)]);
    // continue: the 334 is one more line of the EHLO reply, so the AUTH line after it is X'd
    const old = run(defaultMap(), session([S('220 mx\r\n')], [S('250-mx.example\r\n')]), opts({ replyCodeChange: 'continue' }));
    expect(xs(old)[0]?.detail).toBe('"Z2FsdW50": not a supported command');
  });

  it('same segment, 3-byte line, or a bare LF: all split', () => {
    for (const text of ['250-mx\r\n354\r\n', '250-mx\n354\n', '250-mx\r\n354 go\r\n']) {
      const r = run(defaultMap(), [S('220 mx\r\n'), C('EHLO c\r\n'), C('DATA\r\n'), S(text), C('VERB is body text\r\n.\r\n'), S('250 ok\r\n')]);
      expect(xs(r), text).toEqual([]); // the 354 answered DATA, so the next line is the message
    }
  });

  it('a multi-line greeting without its final line: the next reply\'s code is not masked (digits held, then released)', () => {
    const r = run(defaultMap(), [S('220-mx first\r\n'), C('EHLO c\r\n'), S('250-mx\r\n250 CHUNKING\r\n'), C('MAIL FROM:<a@b.example>\r\n')], opts({ bannerMask: 'A' }));
    expect(latin1(r.out[1])).toBe('220-********\r\n250-mx\r\n250 XXXXXXXX\r\n');
    expect(notes(r)).toHaveLength(1);
  });

  it('a greeting continuation with the same code is masked as before, even when its digits straddle segments', () => {
    const r = run(defaultMap(), [S('220-a\r\n22'), S('0 b\r\n'), C('HELO c\r\n'), S('250 ok\r\n')], opts({ bannerMask: 'A' }));
    expect(latin1(r.out[1])).toBe('220-*\r\n*****\r\n250 ok\r\n');
    // the held digits keep the first segment's line start uncommitted until they are decided
    expect(r.committedAfter[0]).toBe(7);
    expect(r.committedAfter[1]).toBe(14);
    const same = run(defaultMap(), [S('220-a\r\n220 b\r\n')], opts({ bannerMask: 'A' }));
    expect(latin1(same.out[1])).toBe('220-*\r\n*****\r\n');
  });

  it('for well-formed replies (lines under the limit, one code per reply) the new rules change nothing, however segmented', () => {
    const conv: [0 | 1, string][] = [
      [1, '220-mx.example ESMTP\r\n220-second 2020\r\n220 ready\r\n'],
      [0, 'EHLO c\r\n'],
      [1, '250-mx.example\r\n250-PIPELINING\r\n250-STARTTLS\r\n250-CHUNKING\r\n250 SIZE 10\r\n'],
      [0, 'AUTH LOGIN\r\n'],
      [1, '334 VXNlcm5hbWU6\r\n'],
      [0, 'Z2FsdW50\r\n'],
      [1, '235 ok\r\n'],
      [0, 'MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n'],
      [1, '250 ok\r\n250 ok\r\n354 go\r\n'],
      [0, 'x\r\n.\r\n'],
      [1, '250 ok\r\n'],
    ];
    fc.assert(
      fc.property(fc.array(fc.array(fc.nat(120), { maxLength: 6 }), { minLength: conv.length, maxLength: conv.length }), fc.constantFrom<'A' | 'B'>('A', 'B'), (cuts, bannerMask) => {
        const segs: Segment[] = [];
        conv.forEach(([dir, t], k) => {
          const points = [...new Set((cuts[k] ?? []).map((c) => c % (t.length + 1)))].sort((x, y) => x - y);
          let prev = 0;
          for (const p of [...points, t.length]) {
            if (p > prev) segs.push(dir === 0 ? C(t.slice(prev, p)) : S(t.slice(prev, p)));
            prev = Math.max(prev, p);
          }
        });
        const a = run(defaultMap(), segs, opts({ bannerMask }));
        const b = run(defaultMap(), segs, opts({ bannerMask, longReplyLine: 'lf', replyCodeChange: 'continue' }));
        expect(a.out[1].equals(b.out[1])).toBe(true);
        expect(a.out[0].equals(b.out[0])).toBe(true);
        expect(a.verdicts).toEqual(b.verdicts);
      }),
      { numRuns: 200 },
    );
  });
});

describe('options', () => {
  it('parse and default', () => {
    expect(opts()).toMatchObject({ replyLineLimit: 512, longReplyLine: 'segment', replyCodeChange: 'split' });
    expect(parseEngineOptions(['reply-line-limit=1000', 'long-reply-line=lf', 'reply-code-change=continue'])).toMatchObject({ replyLineLimit: 1000, longReplyLine: 'lf', replyCodeChange: 'continue' });
    expect(() => parseEngineOptions(['reply-line-limit=3'])).toThrow(/reply-line-limit/);
    expect(() => parseEngineOptions(['long-reply-line=cut'])).toThrow(/segment\|lf/);
  });
});

describe('held greeting digits and the pipeline contract', () => {
  it('a gap after held digits: they are masked, and the edit is out before committed() passes them', () => {
    const edits: Edit[] = [];
    const s = createEsmtpSession(defaultMap(), CTX, opts({ bannerMask: 'A' }), { edit: (e) => edits.push(e), verdict: () => {} }, new EsmtpCounters());
    s.data(1, Buffer.from('220-a\r\n22', 'latin1'), 0);
    expect(s.committed(1)).toBe(7); // "22" undecided: maybe the next reply's code
    expect(edits.some((e) => e.offset >= 7)).toBe(false);
    s.gap(1, 9, 5);
    expect(s.committed(1)).toBe(14);
    expect(edits.filter((e) => e.offset >= 7).map((e) => [e.offset, latin1(e.bytes)])).toEqual([[7, '**']]);
    s.end();
  });
});
