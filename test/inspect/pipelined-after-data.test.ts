/**
 * Reply pairing when a client pipelines lines after DATA (breaking RFC 2920 3.1, which makes DATA
 * the last command of a group). Those lines are judged as commands until the 354 (ADDENDUM
 * B-pipelining); if the 354 comes the server took them as message text and answers none of them,
 * so they must leave the queue of commands awaiting a reply. If DATA is refused, they were
 * commands and each gets its reply. A mis-paired reply shows as the next message's 354 ignored
 * and its whole text X'd.
 */
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { C, S, GREETING, captureSegments, defaultMap, latin1, run } from './helpers.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/pipelined-after-data.pcap', import.meta.url));

const EHLO = [C('EHLO a\r\n'), S('250-mx\r\n250 PIPELINING\r\n')];
const SECOND = [
  C('MAIL FROM:<a@example.com>\r\n'), S('250 ok\r\n'),
  C('RCPT TO:<b@example.com>\r\n'), S('250 ok\r\n'),
  C('DATA\r\n'), S('354 go\r\n'),
  C('Subject: two\r\n\r\nbody two\r\n.\r\n'), S('250 queued 2\r\n'),
  C('QUIT\r\n'), S('221 bye\r\n'),
];
const SECOND_TEXT = 'Subject: two\r\n\r\nbody two\r\n.\r\n';

/** Client offset where `text` starts in the input stream (last occurrence). */
function at(stream: Buffer, text: string): number {
  const o = latin1(stream).lastIndexOf(text);
  expect(o).toBeGreaterThanOrEqual(0);
  return o;
}

describe('lines pipelined after DATA', () => {
  it('real capture (npm smtp-server): DATA accepted with a text line in its segment; later messages pass whole', async () => {
    const r = run(defaultMap(), await captureSegments(FIXTURE));
    const out = latin1(r.out[0]);
    // the line after DATA is X'd (judged as a command until the 354) ...
    expect(out).toContain('DATA\r\nXXXXXXXXXXX\r\n');
    // ... but the server's replies after the 354 answer the end of data, so every later
    // message passes unmodified: the compliant second one and the one after a refused DATA
    for (const text of ['\r\nbody one\r\n.\r\n', 'Subject: two\r\n\r\nbody two\r\n.\r\n', 'Subject: four\r\n\r\nbody four\r\n.\r\n']) {
      const o = at(r.input[0], text);
      expect(out.slice(o, o + text.length)).toBe(text);
    }
    const xs = r.verdicts.filter((v) => v.rule === 'unknown-command');
    // exactly two X'd lines: "Subject: hi" (after the accepted DATA) and "Subject: three" (after the refused one)
    expect(xs.map((v) => latin1(r.input[0]).slice(v.offset).split('\r\n')[0])).toEqual(['Subject: hi', 'Subject: three']);
    expect(r.verdicts.filter((v) => v.rule === 'pipelining-after-data')).toHaveLength(1);
    // the refused DATA's followers (NOOP, the X'd line, RSET) were answered as commands: no
    // divergence note (a 250 paired with the X'd line would raise one)
    expect(r.verdicts.filter((v) => v.rule === 'x-divergence')).toHaveLength(0);
    expect(r.session.state).toBe('inspecting');
  });

  it('the reviewer\'s script: the next message\'s 354 is paired with its DATA', () => {
    const r = run(defaultMap(), [
      GREETING, ...EHLO,
      C('MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nSubject: hi\r\n'),
      S('250 ok\r\n250 ok\r\n354 go\r\n'),
      C('\r\nbody one\r\n.\r\n'), S('250 queued 1\r\n'),
      ...SECOND,
    ]);
    const o = at(r.input[0], SECOND_TEXT);
    expect(latin1(r.out[0]).slice(o, o + SECOND_TEXT.length)).toBe(SECOND_TEXT);
    expect(r.verdicts.filter((v) => v.rule === 'unknown-command')).toHaveLength(1);
  });

  it('several lines after DATA, the last one cut by the segment end when the 354 comes', () => {
    const r = run(defaultMap(), [
      GREETING, ...EHLO,
      C('MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nSubject: hi\r\nNOOP\r\nFro'),
      S('250 ok\r\n250 ok\r\n354 go\r\n'),
      C('m: x\r\n\r\nbody one\r\n.\r\n'), S('250 queued 1\r\n'),
      ...SECOND,
    ]);
    const note = r.verdicts.find((v) => v.rule === 'pipelining-after-data');
    expect(note?.detail).toMatch(/^3 client line\(s\)/);
    const o = at(r.input[0], SECOND_TEXT);
    expect(latin1(r.out[0]).slice(o, o + SECOND_TEXT.length)).toBe(SECOND_TEXT);
    // the first message's body after the cut line is message text (data mode), not X'd
    expect(latin1(r.out[0])).toContain('\r\n\r\nbody one\r\n.\r\n');
  });

  it.each([503, 554, 451])('DATA refused with %i: the lines after it are commands, each answered', (code) => {
    const r = run(defaultMap(), [
      GREETING, ...EHLO,
      C('MAIL FROM:<a@example.com>\r\nDATA\r\nRCPT TO:<b@example.com>\r\nRSET\r\n'),
      S(`250 ok\r\n${code} no valid recipients\r\n250 ok\r\n250 flushed\r\n`),
      ...SECOND,
    ]);
    expect(r.verdicts.filter((v) => v.rule === 'pipelining-after-data')).toHaveLength(0);
    expect(r.edits.filter((e) => e.dir === 0)).toHaveLength(0);
    const o = at(r.input[0], SECOND_TEXT);
    expect(latin1(r.out[0]).slice(o, o + SECOND_TEXT.length)).toBe(SECOND_TEXT);
  });

  it('DATA refused, then a 354 for a later DATA in the same group is not mis-taken', () => {
    // RCPT refused, DATA refused (503), the client retries RCPT + DATA pipelined; a text line
    // follows the second DATA in its segment
    const r = run(defaultMap(), [
      GREETING, ...EHLO,
      C('MAIL FROM:<a@example.com>\r\nRCPT TO:<nobody@example.com>\r\nDATA\r\n'),
      S('250 ok\r\n550 no such user\r\n503 no valid recipients\r\n'),
      C('RCPT TO:<b@example.com>\r\nDATA\r\nSubject: hi\r\n'),
      S('250 ok\r\n354 go\r\n'),
      C('\r\nbody one\r\n.\r\n'), S('250 queued 1\r\n'),
      ...SECOND,
    ]);
    expect(r.verdicts.filter((v) => v.rule === 'pipelining-after-data')).toHaveLength(1);
    const o = at(r.input[0], SECOND_TEXT);
    expect(latin1(r.out[0]).slice(o, o + SECOND_TEXT.length)).toBe(SECOND_TEXT);
  });
});
