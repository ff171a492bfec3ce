/**
 * XEXCH50 (Exchange 2003/2007 between organisation servers): `XEXCH50 <size> <n>`, answered
 * `354 Send binary data`, then exactly <size> bytes of binary blob without line structure, answered
 * `250 XEXCH50 OK`. The ASA does not know XEXCH50 (private extension, ASA-ESMTP.md 1.1), so it X's
 * the line; through it the server would answer 5xx and no blob would follow. Before, the engine
 * judged the blob of the capture as command lines: X's over binary bytes and, at its 513th byte
 * without LF, a `cmd line length gt 512` drop-connection with 108004/507003 that no ASA would log,
 * and the real message after it went uninspected. Now (`xexch50-blob=skipped`, default) the blob
 * passes uninspected with one note. Real bytes: fixtures/xexch50.pcap (make-xexch50.py).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { captureSegments, run, defaultMap, opts, latin1, C, S, GREETING, type Segment } from './helpers.js';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'xexch50.pcap');

let segs: Segment[] = [];
beforeAll(async () => {
  segs = await captureSegments(FIXTURE);
});

const text = (dir: 0 | 1): string => latin1(Buffer.concat(segs.filter((s) => s.dir === dir).map((s) => s.bytes)));

describe('XEXCH50 answered 354 (real Exchange-style session)', () => {
  it('the capture holds two XEXCH50 exchanges with binary blobs of 1500 and 600 bytes, each followed by a message', () => {
    expect(text(0)).toContain('XEXCH50 1500 2\r\n');
    expect(text(0)).toContain('xexch50 600 2\r\n');
    expect(text(1).match(/354 Send binary data\r\n/g)).toHaveLength(2);
    expect(text(1).match(/250 XEXCH50 OK\r\n/g)).toHaveLength(2);
    expect(text(0).match(/Subject: after XEXCH50\r\n/g)).toHaveLength(2);
  });

  it('default: XEXCH50 is X\'d, its blob passes unchanged and uninspected, both messages are inspected, no drop', () => {
    const r = run(defaultMap(), segs);
    expect(r.session.state).toBe('inspecting');
    expect(r.verdicts.some((v) => v.action === 'drop-connection' || v.syslog.length > 0)).toBe(false);
    const x = r.verdicts.filter((v) => v.rule === 'unknown-command').map((v) => v.detail);
    expect(x).toEqual(['"XEXCH50": not a supported command', '"xexch50": not a supported command']);
    const out = latin1(r.out[0]);
    expect(out).toContain('XXXXXXXXXXXXXX\r\n');
    expect(out).toContain('XXXXXXXXXXXXX\r\n');
    // only the two XEXCH50 lines were edited: every blob byte is as sent
    const edited = r.edits.filter((e) => e.dir === 0).reduce((n, e) => n + e.bytes.length, 0);
    expect(edited).toBe('XEXCH50 1500 2'.length + 'xexch50 600 2'.length);
    const notes = r.verdicts.filter((v) => v.rule === 'xexch50-blob');
    expect(notes.map((v) => v.detail.match(/the (\d+)-byte blob/)?.[1])).toEqual(['1500', '600']);
    expect(r.verdicts.filter((v) => v.rule === 'x-divergence')).toHaveLength(1);
    // the messages after the blobs are messages: a header line over 998 would have fired
    expect(out.match(/Subject: after XEXCH50\r\n\r\nhello\r\n\.\r\n/g)).toHaveLength(2);
  });

  it('xexch50-blob=commands judges the blob as command lines: X\'d, and the 513th byte without LF drops the connection', () => {
    const r = run(defaultMap(), segs, opts({ xexch50Blob: 'commands' }));
    const drop = r.verdicts.find((v) => v.action === 'drop-connection');
    expect(drop?.rule).toBe('match cmd line length gt 512');
    expect(r.session.state).toBe('dropped');
  });

  it('a client that did not wait for the 354 (bytes after the XEXCH50 line) keeps them judged as commands', () => {
    const ehlo = S('250-mx.fabrikam.test\r\n250 XEXCH50\r\n');
    const r = run(defaultMap(), [GREETING, C('EHLO c\r\n'), ehlo, C('XEXCH50 16 2\r\nNOOP\r\n'), S('354 Send binary data\r\n'), C('MAIL FROM:<|x@y>\r\n')]);
    expect(r.verdicts.some((v) => v.rule === 'xexch50-blob')).toBe(false);
    expect(r.verdicts.find((v) => v.action === 'drop-connection')?.rule).toBe('pipe-signature');
  });

  it('a 5xx to XEXCH50 (what a server behind the ASA answers) skips nothing: the next line is a command', () => {
    const r = run(defaultMap(), [GREETING, C('EHLO c\r\n'), S('250 mx\r\n'), C('XEXCH50 16 2\r\n'), S('500 5.3.3 Unrecognized command\r\n'), C('MAIL FROM:<|x@y>\r\n')]);
    expect(r.verdicts.some((v) => v.rule === 'xexch50-blob')).toBe(false);
    expect(r.verdicts.find((v) => v.action === 'drop-connection')?.rule).toBe('pipe-signature');
  });

  it('an XEXCH50 split across segments (X\'d per segment as a fragment) is still recognised and its blob skipped', () => {
    const blob = 'A'.repeat(700);
    const r = run(defaultMap(), [GREETING, C('EHLO c\r\n'), S('250 mx\r\n'), C('XEX'), C('CH50 700 2\r\n'), S('354 Send binary data\r\n'), C(blob), S('250 XEXCH50 OK\r\n'), C('QUIT\r\n'), S('221 bye\r\n')]);
    expect(r.verdicts.some((v) => v.rule === 'xexch50-blob')).toBe(true);
    expect(r.session.state).toBe('inspecting');
    expect(latin1(r.out[0])).toContain(blob);
  });
});
