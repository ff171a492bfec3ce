/**
 * An empty command line (CR LF or LF alone) passes: there is no verb to judge and nothing to X (X
 * substitution keeps CR and LF; ADDENDUM B-4: a bare CR LF reaches the server unmodified), so no
 * verdict. A CR that is not followed by LF is content: the line is judged (and X'd) as before.
 * Real bytes: Python smtplib's docmd('') against the npm smtp-server (fixtures/README.md).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { captureSegments, run, defaultMap, mapFrom, opts, latin1, type Segment } from './helpers.js';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'empty-command-line.pcap');
const C = (s: string): Segment => ({ dir: 0, bytes: Buffer.from(s, 'latin1') });
const S = (s: string): Segment => ({ dir: 1, bytes: Buffer.from(s, 'latin1') });
const GREETING = S('220 mx ESMTP\r\n');
const NO_MASK = 'policy-map type inspect esmtp M\n parameters\n  no mask-banner\n';

let segs: Segment[] = [];
beforeAll(async () => {
  segs = await captureSegments(FIXTURE);
});

describe('an empty command line on a real session (smtplib docmd(""), smtp-server)', () => {
  it('the capture has the empty line as its own client segment, answered 500', () => {
    expect(segs.some((s) => s.dir === 0 && latin1(s.bytes) === '\r\n')).toBe(true);
    const server = latin1(Buffer.concat(segs.filter((s) => s.dir === 1).map((s) => s.bytes)));
    expect(server).toContain('500 Error: command not recognized\r\n');
  });

  it('passes untouched with no verdict; every client byte reaches the server unchanged', () => {
    const r = run(defaultMap(), segs);
    expect(r.verdicts.filter((v) => v.dir === 0)).toEqual([]);
    expect(r.verdicts.some((v) => v.rule === 'unknown-command')).toBe(false);
    expect(r.out[0].equals(r.input[0])).toBe(true);
    // only the greeting and the EHLO reply are touched (banner, SMTPUTF8 as "others")
    expect(new Set(r.verdicts.map((v) => v.rule))).toEqual(new Set(['mask-banner', 'match ehlo-reply-parameter others']));
    expect(r.session.state).toBe('inspecting');
  });

  it('its 500 reply is paired with it: DATA still gets its 354 and the body is inspected', () => {
    // a body line check fires only if the engine entered DATA on the 354 that answers DATA
    const map = mapFrom(NO_MASK + ' match body line length gt 3\n  log\n');
    const r = run(map, segs);
    expect(r.verdicts.map((v) => [v.rule, v.action])).toEqual([['match body line length gt 3', 'log']]);
    // the body's only line, "hello" (the header line and the empty line after it are not body)
    expect(r.verdicts[0]!.detail).toBe(`body line longer than 3 bytes, line at stream offset ${latin1(r.input[0]).indexOf('hello')}`);
  });

  it('match not cmd verb is not fired by the empty line (it has no verb)', () => {
    const map = mapFrom(NO_MASK + ' match not cmd verb EHLO HELO MAIL RCPT DATA QUIT\n  log\n');
    const r = run(map, segs);
    // NOOP is the only known verb outside the list; the empty line is not a verb
    expect(r.verdicts.map((v) => v.detail)).toEqual(['verb NOOP']);
  });
});

describe('empty lines, however segmented', () => {
  const map = mapFrom(NO_MASK);
  const x = (segments: Segment[], o = opts()) => run(map, segments, o);

  it('CR LF, LF alone, and CR | LF split across segments pass without verdict, in both judging modes', () => {
    for (const judging of ['segment', 'line'] as const) {
      for (const parts of [['\r\n'], ['\n'], ['\r', '\n'], ['NOOP\r\n\r\n'], ['NOOP\r\n', '\r', '\nNOOP\r\n']]) {
        const r = x([GREETING, ...parts.map(C)], opts({ judging }));
        expect(r.verdicts, `${judging} ${JSON.stringify(parts)}`).toEqual([]);
        expect(r.out[0].equals(r.input[0])).toBe(true);
      }
    }
  });

  it('a lone CR at a segment end is held (committed stays at the line start) until the next byte decides', () => {
    const r = x([GREETING, C('\r'), C('\n')]);
    expect(r.committedAfter[1]).toBe(0);
    expect(r.committedAfter[2]).toBe(2);
  });

  it('a CR followed by anything but LF is content: the line is X\'d (CR and LF kept) with its own reason', () => {
    const r = x([GREETING, C('\rNOOP\r\n')]);
    expect(latin1(r.out[0])).toBe('\rXXXX\r\n');
    expect(r.verdicts.map((v) => [v.rule, v.detail])).toEqual([['unknown-command', 'line starts with a CR not followed by LF: not a supported command']]);
    const split = x([GREETING, C('\r'), C('MAIL FROM:<a@b>\r\n')]);
    expect(latin1(split.out[0])).toBe('\rXXXXXXXXXXXXXXX\r\n');
    const twoCr = x([GREETING, C('\r\r\n')]);
    expect(twoCr.verdicts.map((v) => v.rule)).toEqual(['unknown-command']);
    expect(latin1(twoCr.out[0])).toBe('\r\r\n');
  });

  it('a line of blanks is not empty: it is X\'d as before', () => {
    const r = x([GREETING, C('  \r\n')]);
    expect(latin1(r.out[0])).toBe('XX\r\n');
    expect(r.verdicts.map((v) => v.rule)).toEqual(['unknown-command']);
  });

  it('a lone CR when the connection ends gives no verdict (nothing to X)', () => {
    const r = x([GREETING, C('\r')]);
    r.session.end();
    expect(r.verdicts).toEqual([]);
  });

  it('the empty line awaits its reply: a 250 to it is no x-divergence, and the next reply pairs with the next command', () => {
    const r = x([GREETING, C('\r\n'), S('500 5.5.2 Error: bad syntax\r\n'), C('DATA\r\n'), S('354 go\r\n'), C('x\r\n.\r\n'), S('250 ok\r\n')]);
    expect(r.verdicts).toEqual([]);
    // DATA entered on its own 354: the "." ended the message, so QUIT after it is a command
    const q = x([GREETING, C('\r\n'), S('500 no\r\n'), C('DATA\r\n'), S('354 go\r\n'), C('.\r\nXQUIT\r\n')]);
    expect(q.verdicts.map((v) => [v.rule, v.detail])).toEqual([['unknown-command', '"XQUIT": not a supported command']]);
  });
});
