/**
 * Gaps (missing segments, snaplen truncation, MANIFEST 16c): bytes whose context was lost are never
 * X'd, masked or measured; state is kept where it is knowable; one note per desynchronisation.
 */
import { describe, expect, it } from 'vitest';
import { run, C, S, G, GREETING, defaultMap, mapFrom, latin1 } from './helpers.js';

const NO_MASK = `policy-map type inspect esmtp M
 parameters
  no mask-banner
`;
const plain = () => mapFrom(NO_MASK);
const gapNotes = (r: ReturnType<typeof run>) => r.verdicts.filter((v) => v.rule === 'gap');
const g = GREETING.bytes.length;

describe('gap in command state', () => {
  it('bytes after the gap are not judged until the server replies; then judging resumes at a line start', () => {
    const r = run(plain(), [GREETING, C('NOOP\r\nVE'), G(0, 3), C('RB x\r\nXEXCH50\r\n'), S('250 ok\r\n500 no\r\n'), C('VERB\r\n')]);
    // "VE" was judged with its context (a fragment, X'd as the ASA does); after the hole nothing is
    expect(latin1(r.out[0])).toBe('NOOP\r\nXX\0\0\0RB x\r\nXEXCH50\r\nXXXX\r\n');
    const notes = gapNotes(r);
    expect(notes).toHaveLength(1);
    expect(notes[0]!.offset).toBe(8);
    expect(notes[0]!.detail).toMatch(/^not inspected: client stream offsets 8-26 \(1 gap\(s\): 3 byte\(s\) never captured \(segment missing\)\); command state kept.*resynchronised at the server's 250 reply$/);
  });

  it('a client that sent nothing after the cut line is at a line start when the server answers it', () => {
    const r = run(plain(), [GREETING, C('MAIL FROM:<a@exa'), G(0, 20, 'truncated'), S('250 ok\r\n'), C('VERB\r\n')]);
    expect(latin1(r.out[0]).slice(-6)).toBe('XXXX\r\n');
    expect(gapNotes(r)[0]!.detail).toContain('20 byte(s) cut from their packets (capture truncated by snaplen)');
  });

  it('a client that did send more skips the interrupted line after the reply, then judges again', () => {
    const r = run(plain(), [GREETING, C('MAIL FROM:<a@exa'), G(0, 5), C('mple>'), S('250 ok\r\n'), C(' more\r\nVERB\r\n')]);
    expect(latin1(r.out[0]).slice(-18)).toBe('mple> more\r\nXXXX\r\n');
    expect(gapNotes(r)[0]!.detail).toMatch(/resynchronised at the client's next line start/);
  });

  it('a gap swallowing DATA: the 354 (read by its code) starts the message, which is judged', () => {
    const r = run(defaultMap(), [S('220 x\r\n'), C('MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n'), G(0, 6), S('250 ok\r\n250 ok\r\n354 go\r\n'), C('Subject: ' + 'h'.repeat(995) + '\r\n')]);
    expect(r.session.state).toBe('dropped');
    expect(r.verdicts.at(-1)!.rule).toBe('match header line length gt 998');
  });

  it('no gap note once inspection has ended (dropped)', () => {
    const r = run(defaultMap(), [S('220 x\r\n'), C('EHLO ' + 'a'.repeat(600) + '\r\n')]);
    expect(r.session.state).toBe('dropped');
    const n = r.verdicts.length;
    r.session.gap(0, r.input[0].length, 10);
    expect(r.verdicts).toHaveLength(n);
  });
});

describe('gap inside DATA', () => {
  const pre = [S('220 x\r\n'), C('MAIL FROM:<a@b>\r\n'), S('250 ok\r\n'), C('RCPT TO:<c@d>\r\n'), S('250 ok\r\n'), C('DATA\r\n'), S('354 go\r\n')];

  it('a header line whose middle is missing has an unknown length: no "gt 998" fires on it', () => {
    const r = run(defaultMap(), [...pre, C('X-Long: ' + 'a'.repeat(500)), G(0, 2000), C('a'.repeat(600) + '\r\n\r\nbody\r\n.\r\n'), C('VERB\r\n')]);
    expect(r.session.state).toBe('inspecting');
    expect(r.verdicts.filter((v) => v.action === 'log' || v.action === 'drop-connection')).toEqual([]);
    const n = gapNotes(r);
    expect(n[0]!.detail).toMatch(/^not inspected: client stream offsets 546-3159 \(1 gap/);
    expect(n).toHaveLength(1);
    expect(n[0]!.detail).toMatch(/DATA state kept.*no "gt N" fires on it.*resynchronised at the end of data \(CRLF\.CRLF\)/);
    // back in command state after the end of data: the next unknown verb is X'd
    expect(latin1(r.out[0]).slice(-6)).toBe('XXXX\r\n');
  });

  it('a threshold crossed before the gap is a fact: it fires', () => {
    const r = run(defaultMap(), [...pre, C('X-Long: ' + 'a'.repeat(995)), G(0, 10), C('\r\n\r\n.\r\n')]);
    expect(r.session.state).toBe('dropped');
    expect(r.session.dropOffset).toBe(latin1(r.input[0]).indexOf('X-Long') + 999 - 1);
  });

  it('end of data lost in the gap: the server\'s reply ends the message (Zeek), commands are judged again', () => {
    const r = run(defaultMap(), [...pre, C('Subject: x\r\n\r\nbody\r\n'), G(0, 9, 'truncated'), S('250 queued\r\n'), C('VERB\r\n')]);
    expect(latin1(r.out[0]).slice(-6)).toBe('XXXX\r\n');
    expect(gapNotes(r)[0]!.detail).toMatch(/capture truncated by snaplen.*resynchronised at the server's 250 reply, taken as the end of the message$/);
  });

  it('an end of data split across segments after the gap is found (carried state)', () => {
    const r = run(plain(), [GREETING, C('DATA\r\n'), S('354 go\r\n'), C('a\r\n'), G(0, 4), C('zz\r'), C('\n.'), C('\r'), C('\nVERB\r\n')]);
    expect(latin1(r.out[0]).slice(-6)).toBe('XXXX\r\n');
  });

  it('a gap inside a BDAT chunk (length known) needs no resynchronisation', () => {
    // the server offered CHUNKING, so the chunk is skipped (bdat-chunk=offered)
    const r = run(plain(), [GREETING, C('EHLO c\r\n'), S('250-mx\r\n250 CHUNKING\r\n'), C('BDAT 10\r\n'), C('abc'), G(0, 4), C('xyz'), C('VERB\r\n')]);
    expect(latin1(r.out[0])).toBe('EHLO c\r\nXXXXXXX\r\nabc\0\0\0\0xyzXXXX\r\n');
    expect(gapNotes(r)[0]!.detail).toMatch(/inside a BDAT chunk/);
  });
});

describe('gap in the server stream', () => {
  it('a reply cut after its code is complete: a cut 354 still starts DATA (MANIFEST 16c)', () => {
    const r = run(defaultMap(), [S('220 x\r\n'), C('DATA\r\n'), S('354 End data with <CR><LF>.<C'), G(1, 7, 'truncated'), C('Subject: ' + 'h'.repeat(995) + '\r\n')]);
    expect(r.session.state).toBe('dropped');
    const n = gapNotes(r);
    expect(n).toHaveLength(1);
    expect(n[0]!.detail).toMatch(/code 354 was seen, so the reply is complete.*nothing else had to be resynchronised$/);
  });

  it('a cut EHLO reply: nothing is masked after the gap (no mask by guess) until a reply is seen whole', () => {
    const r = run(defaultMap(), [S('220 x\r\n'), C('EHLO c\r\n'), S('250-x\r\n250-CHUNKI'), G(1, 5), S('250-SMTPUTF8\r\n250 STARTTLS\r\n'), C('NOOP\r\n'), S('250 ok\r\n')]);
    const out = latin1(r.out[1]);
    expect(out).toContain('250-CHUNKI\0'); // the keyword was cut before it ended: not judged
    expect(out).toContain('250-SMTPUTF8\r\n250 STARTTLS\r\n');
  });

  it('a lost reply that may have been a 354 stops client judging until the next reply', () => {
    const r = run(plain(), [GREETING, C('DATA\r\n'), G(1, 8), C('Subject: x\r\n\r\nhi\r\n.\r\n'), S('250 queued\r\n'), C('VERB\r\n')]);
    expect(latin1(r.out[0])).toBe('DATA\r\nSubject: x\r\n\r\nhi\r\n.\r\nXXXX\r\n');
    expect(gapNotes(r)[0]!.detail).toMatch(/a reply that changes the client's state .* may be lost/);
  });
});

describe('replies after a server gap are paired with the pending commands by their code', () => {
  const pre = [S('220 x\r\n'), C('EHLO c\r\n'), S('250-x\r\n250 PIPELINING\r\n')];
  const xed = (r: ReturnType<typeof run>) => r.verdicts.filter((v) => v.action === 'x-substitute');

  it('a 354 answers the first queued DATA: the replies before it were in the gap; the body passes', () => {
    const r = run(defaultMap(), [...pre, C('MAIL FROM:<a@b>\r\n'), G(1, 14), C('RCPT TO:<c@d>\r\n'), S('250 ok\r\n'), C('DATA\r\n'), S('354 go\r\n'), C('Subject: s\r\n\r\nhello world\r\n.\r\n'), S('250 queued\r\n'), C('VERB\r\n')]);
    expect(xed(r).map((v) => v.detail)).toEqual(['"VERB": not a supported command']);
    expect(latin1(r.out[0])).toContain('hello world');
    expect(gapNotes(r)[0]!.detail).toMatch(/paired with them by their code.*resynchronised at the server's 250 reply$/);
  });

  it('a DATA sent before any server byte after the gap: its 354 may be in the gap, so the body is not judged', () => {
    const r = run(defaultMap(), [...pre, C('MAIL FROM:<a@b>\r\n'), G(1, 40), C('RCPT TO:<c@d>\r\nDATA\r\nSubject: s\r\n\r\nhello\r\n.\r\n'), S('250 queued\r\n'), C('QUIT\r\n'), S('221 bye\r\n'), C('VERB\r\n')]);
    expect(xed(r).map((v) => v.detail)).toEqual(['"VERB": not a supported command']);
  });

  it('221 answers QUIT, whatever came before it', () => {
    const r = run(defaultMap(), [...pre, C('MAIL FROM:<a@b>\r\n'), G(1, 14), C('RSET\r\n'), C('QUIT\r\n'), S('221 bye\r\n'), C('VERB\r\n')]);
    // alignment is back after the 221: the next line is judged (and X'd), no x-divergence guess
    expect(xed(r)).toHaveLength(1);
    expect(r.verdicts.filter((v) => v.rule === 'x-divergence')).toEqual([]);
  });

  it('334 answers the AUTH: the next client line is AUTH data, not a command', () => {
    const r = run(defaultMap(), [...pre, C('NOOP\r\n'), G(1, 8), C('AUTH LOGIN\r\n'), S('334 VXNlcm5hbWU6\r\n'), C('dXNlcg==\r\n'), S('334 UGFzc3dvcmQ6\r\n'), C('cGFzcw==\r\n'), S('235 ok\r\n')]);
    expect(xed(r)).toEqual([]);
  });

  it('a multi-line 250 answers the EHLO further down the queue: its keywords are masked as after any EHLO', () => {
    const r = run(defaultMap(), [S('220 x\r\n'), C('RSET\r\nNOOP\r\nEHLO c\r\n'), G(1, 11), S('250 ok\r\n'), S('250-x\r\n250-CHUNKING\r\n250 STARTTLS\r\n'), C('VERB\r\n')]);
    // RSET's reply was in the gap; "250 ok" (NOOP's) is paired with RSET by guess, so NOOP is the
    // queue's head when the multi-line 250 starts: it answers the EHLO (and NOOP's went unseen)
    const out = latin1(r.out[1]);
    expect(out).toContain('250 XXXXXXXA\r\n');
    expect(out).toContain('250-XXXXXXXX\r\n');
    // in step again: the next line is judged
    expect(xed(r)).toHaveLength(1);
  });

  it('a greeting lost in the gap: a later 220 with no STARTTLS queued is the greeting\'s, not a STARTTLS answer', () => {
    const r = run(mapFrom('policy-map type inspect esmtp M\n parameters\n  allow-tls\n'), [G(1, 10), S('220 x ESMTP\r\n'), C('EHLO c\r\n'), S('250 x\r\n'), C('VERB\r\n')]);
    expect(r.session.state).toBe('inspecting');
    expect(xed(r)).toHaveLength(1);
    // the greeting was seen only after the gap: nothing masked by guess, no second banner
    expect(r.verdicts.filter((v) => v.rule === 'mask-banner')).toEqual([]);
  });

  it('251/252 answer a RCPT/VRFY, not the MAIL whose reply was lost', () => {
    const r = run(defaultMap(), [...pre, C('MAIL FROM:<a@b>\r\n'), G(1, 14), C('RCPT TO:<c@d>\r\n'), S('251 forwarded\r\n'), C('DATA\r\n'), S('354 go\r\n'), C('body\r\n.\r\n'), S('250 ok\r\n')]);
    expect(xed(r)).toEqual([]);
  });
});

describe('a connection picked up mid-session (SessionContext.midstream)', () => {
  it('no greeting expected; client bytes judged from the first complete server reply; the 354 starts DATA', async () => {
    const { CTX } = await import('./helpers.js');
    const { createEsmtpSession } = await import('../../src/inspect/esmtp/session.js');
    const { defaultEngineOptions } = await import('../../src/inspect/options.js');
    const { EsmtpCounters } = await import('../../src/inspect/counters.js');
    const verdicts: { rule: string; action: string }[] = [];
    const edits: { dir: number; offset: number }[] = [];
    const s = createEsmtpSession(defaultMap(), { ...CTX, midstream: true }, defaultEngineOptions(), { edit: (e) => edits.push(e), verdict: (v) => verdicts.push(v) }, new EsmtpCounters());
    const c = [0];
    const sv = [0];
    const cl = (t: string) => { s.data(0, Buffer.from(t, 'latin1'), c[0]!); c[0]! += t.length; };
    const se = (t: string) => { s.data(1, Buffer.from(t, 'latin1'), sv[0]!); sv[0]! += t.length; };
    cl('XMAIL FROM:<a@b>\r\n'); // before the first reply: not judged
    se('250 2.1.0 Ok\r\n'); // not a banner
    cl('RCPT TO:<c@d>\r\n');
    se('250 2.1.5 Ok\r\n');
    cl('DATA\r\n');
    se('354 go\r\n');
    cl('Subject: x\r\n\r\nbody\r\n.\r\n');
    se('250 queued\r\n');
    cl('VERB\r\n');
    s.end();
    expect(verdicts.map((v) => `${v.rule} ${v.action}`)).toEqual(['midstream note', 'unknown-command x-substitute']);
    expect(edits.every((e) => e.dir === 0 && e.offset >= c[0]! - 6)).toBe(true);
  });
});
