/** DATA phase: header/body/MIME criteria at their boundaries, on exact bytes. */
import { describe, expect, it } from 'vitest';
import { run, C, S, GREETING, mapFrom, opts, type Segment } from './helpers.js';
import type { EngineOptions } from '../../src/inspect/options.js';

const HEAD = 'policy-map type inspect esmtp M\n parameters\n  no mask-banner\n';
const pol = (lines: string, pre = '') => mapFrom(pre + HEAD + lines);
const PROLOG = 'MAIL FROM:<a@b>        \r\nRCPT TO:<c@d>\r\nDATA\r\n';
/** A session delivering `msg` (without the final dot line) in the given chunks. */
function msg(parts: string[], prolog = PROLOG): Segment[] {
  return [GREETING, C(prolog), S('250 ok\r\n250 ok\r\n354 go\r\n'), ...parts.map(C), C('.\r\n'), S('250 queued\r\n'), C('QUIT\r\n')];
}
const at = PROLOG.length; // stream offset of the first message byte
const states = (map: ReturnType<typeof pol>, parts: string[], o?: Partial<EngineOptions>, prolog = PROLOG) => run(map, msg(parts, prolog), opts(o));
const SIZED = PROLOG.replace('        ', ' SIZE=40'); // same length, declares SIZE=40

describe('header line length (physical lines, CR LF excluded, not unfolded: B-8)', () => {
  const map = pol(' match header line length gt 20\n  drop-connection log\n');
  it('20 passes, 21 drops at the 21st byte', () => {
    expect(states(map, ['X-H: ' + 'a'.repeat(15) + '\r\n\r\nbody\r\n']).session.state).toBe('inspecting');
    const r = states(map, ['X-H: ' + 'a'.repeat(16) + '\r\n\r\nbody\r\n']);
    expect(r.session.state).toBe('dropped');
    expect(r.session.dropOffset).toBe(at + 20);
  });
  it('folded continuation lines are measured on their own', () => {
    expect(states(map, ['X-H: ' + 'a'.repeat(15) + '\r\n\t' + 'b'.repeat(19) + '\r\n\r\n']).session.state).toBe('inspecting');
  });
  it('a long line split over many segments drops at the same byte', () => {
    const line = 'X-H: ' + 'a'.repeat(40) + '\r\n';
    const parts = line.match(/.{1,3}/gs)!;
    expect(states(map, parts).session.dropOffset).toBe(at + 20);
  });
  it('length-counts-crlf=yes: 19 + CR LF = 21 drops at the LF', () => {
    const r = states(map, ['X-H: ' + 'a'.repeat(14) + '\r\n\r\n'], { lengthCountsCrlf: true });
    expect(r.session.dropOffset).toBe(at + 20);
  });
  it('a body line does not count as a header line', () => {
    expect(states(map, ['S: x\r\n\r\n' + 'a'.repeat(50) + '\r\n']).session.state).toBe('inspecting');
  });
});

describe('body line length / body length / header length', () => {
  it('body line length gt 10 with log: connection continues, 108005', () => {
    const map = pol(' match body line length gt 10\n  log\n');
    expect(states(map, ['S: x\r\n\r\n' + 'b'.repeat(10) + '\r\n']).verdicts).toEqual([]);
    const r = states(map, ['S: x\r\n\r\n' + 'b'.repeat(11) + '\r\n']);
    expect(r.session.state).toBe('inspecting');
    expect(r.verdicts).toHaveLength(1);
    expect(r.verdicts[0]!.offset).toBe(at + 8 + 10);
    expect(r.verdicts[0]!.syslog[0]).toMatch(/^%ASA-6-108005: .*matched Class 1: body line length gt 10$/);
  });
  it('the stuffing dot is not counted (RFC 5321 4.5.3.1.6)', () => {
    const map = pol(' match body line length gt 10\n  log\n');
    expect(states(map, ['S: x\r\n\r\n.' + '.'.repeat(10) + '\r\n']).verdicts).toEqual([]);
  });
  it('body length counts body bytes incl. CR LF, without the final dot line', () => {
    const map = pol(' match body length gt 12\n  drop-connection log\n');
    expect(states(map, ['S: x\r\n\r\n1234\r\n5678\r\n']).session.state).toBe('inspecting');
    const r = states(map, ['S: x\r\n\r\n1234\r\n56789\r\n']);
    expect(r.session.dropOffset).toBe(at + 8 + 12);
  });
  it('header length counts the header block (incl. CR LF, without the empty line)', () => {
    const map = pol(' match header length gt 12\n  drop-connection log\n');
    expect(states(map, ['A: 1234\r\nB\r\n\r\n']).session.state).toBe('inspecting');
    expect(states(map, ['A: 12345\r\nB\r\n\r\n']).session.dropOffset).toBe(at + 12);
  });
  it('match not header length gt N fires at the end of the header block', () => {
    const map = pol(' match not header length gt 100\n  log\n');
    const r = states(map, ['A: 1\r\n\r\nbody\r\n']);
    expect(r.verdicts.map((v) => v.offset)).toEqual([at + 7]);
  });
});

describe('header to-fields count', () => {
  const map = pol(' match header to-fields count gt 2\n  drop-connection log\n');
  it('2 To: fields pass, the 3rd drops (case-insensitive name); To: in the body does not count', () => {
    expect(states(map, ['To: a\r\nto: b\r\nSubject: x\r\n\r\nTo: c\r\n']).session.state).toBe('inspecting');
    const r = states(map, ['To: a\r\nCc: x\r\nTO: b\r\nTo: c\r\n\r\n']);
    expect(r.session.state).toBe('dropped');
    expect(r.session.dropOffset).toBe(at + 21 + 2);
  });
});

const mime = (ctype: string, extra = '') =>
  `MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="BND"\r\n\r\npreamble\r\n--BND\r\nContent-Type: text/plain\r\n\r\nhello\r\n--BND\r\n${ctype}${extra}\r\nQUFBQQ==\r\n--BND--\r\nepilogue\r\n`;

describe('MIME filename length', () => {
  const map = pol(' match MIME filename length gt 10\n  drop-connection log\n');
  it('10 passes, 11 drops; offset = start of the header field', () => {
    const ok = mime('Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="abcdef.txt"\r\n');
    expect(states(map, [ok]).session.state).toBe('inspecting');
    const body = mime('Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="abcdefg.txt"\r\n');
    const r = states(map, [body]);
    expect(r.session.state).toBe('dropped');
    expect(r.session.dropOffset).toBe(at + body.indexOf('Content-Disposition: attachment'));
    expect(r.verdicts[0]!.detail).toBe('Content-Disposition filename of 11 bytes');
  });
  it('Content-Type name= counts too (first one wins)', () => {
    const body = mime('Content-Type: application/pdf; name=abcdefghijk\r\n');
    expect(states(map, [body]).session.dropOffset).toBe(at + body.indexOf('Content-Type: application/pdf'));
  });
  it('RFC 2231 continuations and percent-encoding are assembled before measuring', () => {
    const cont = mime("Content-Type: application/pdf\r\nContent-Disposition: attachment;\r\n filename*0*=utf-8''%41%42%43;\r\n filename*1=\"defgh\";\r\n filename*2=\"ij\"\r\n");
    expect(states(map, [cont]).session.state).toBe('inspecting'); // ABCdefghij = 10
    const longer = cont.replace('filename*2="ij"', 'filename*2="ijk"');
    const r = states(map, [longer]);
    expect(r.session.state).toBe('dropped');
    // the detail also gives the length as written (utf-8''%41%42%43 + defgh + ijk) when decoding changed it
    expect(r.verdicts[0]!.detail).toBe('Content-Disposition filename of 11 bytes (24 as written; mime-filename=decoded)');
  });
  it('a field folded across segments is held (committed) until complete', () => {
    const body = mime('Content-Type: application/pdf\r\nContent-Disposition: attachment;\r\n filename="abcdefghijkl"\r\n');
    const cut = body.indexOf(' filename=');
    const r = states(map, [body.slice(0, cut), body.slice(cut)]);
    expect(r.session.state).toBe('dropped');
    // after the first part the Content-Disposition field is incomplete: committed stays at its start
    expect(r.committedAfter[3]).toBe(at + body.indexOf('Content-Disposition'));
  });
  it('the top-level header is not a MIME part but its Content-Type name counts', () => {
    const r = states(map, ['Content-Type: text/plain; name="abcdefghijk"\r\n\r\nx\r\n']);
    expect(r.session.state).toBe('dropped');
  });
});

describe('MIME filetype and encoding', () => {
  it('filetype regex over the media type, in nested multiparts', () => {
    const map = pol(' match mime filetype regex exe\n  drop-connection log\n', 'regex exe "application/x-msdownload"\n');
    const inner = 'Content-Type: multipart/alternative; boundary=IN\r\n\r\n--IN\r\nContent-Type: text/html\r\n\r\n<p>\r\n--IN\r\nContent-Type: application/x-msdownload\r\n\r\nMZ\r\n--IN--\r\n';
    const body = mime(inner.replace(/\r\n$/, ''));
    const r = states(map, [body]);
    expect(r.session.state).toBe('dropped');
    expect(r.session.dropOffset).toBe(at + body.indexOf('Content-Type: application/x-msdownload'));
    expect(states(map, [mime('Content-Type: application/pdf\r\n')]).session.state).toBe('inspecting');
  });
  it('boundary-like lines of an unknown boundary are body text', () => {
    const map = pol(' match mime filetype regex exe\n  drop-connection log\n', 'regex exe "application/x-msdownload"\n');
    const body = 'Content-Type: text/plain\r\n\r\n--BND\r\nContent-Type: application/x-msdownload\r\n\r\n';
    expect(states(map, [body]).session.state).toBe('inspecting');
  });
  it('encoding classes: base64 matches, others catches unknown values, not inverts', () => {
    const b64 = pol(' match mime encoding base64\n  log\n');
    const body = mime('Content-Type: application/pdf\r\nContent-Transfer-Encoding: BASE64\r\n');
    expect(states(b64, [body]).verdicts.map((v) => v.detail)).toEqual(['Content-Transfer-Encoding BASE64 (base64)']);
    const others = pol(' match mime encoding others\n  log\n');
    expect(states(others, [mime('Content-Type: a/b\r\nContent-Transfer-Encoding: x-uuencode\r\n')]).verdicts).toHaveLength(1);
    expect(states(others, [body]).verdicts).toHaveLength(0);
    const not = pol(' match not mime encoding 7bit 8bit\n  log\n');
    expect(states(not, [body]).verdicts).toHaveLength(1);
  });
});

describe('108006 size violation (SIZE declared on MAIL FROM)', () => {
  it('a message larger than SIZE=40 is logged at the end of data; smaller is not', () => {
    const r = states(pol(''), ['Subject: x\r\n\r\n' + 'y'.repeat(40) + '\r\n'], {}, SIZED);
    expect(r.verdicts.map((v) => v.rule)).toEqual(['size-violation']);
    expect(r.verdicts[0]!.syslog[0]).toBe(
      '%ASA-7-108006: Detected ESMTP size violation from outside:198.51.100.7/40003 to inside:192.0.2.25/25; declared size is: 40, actual size is 56',
    );
    expect(states(pol(''), ['Subject: x\r\n\r\nshort\r\n'], {}, SIZED).verdicts).toEqual([]);
    expect(states(pol(''), ['Subject: x\r\n\r\n' + 'y'.repeat(40) + '\r\n'], { sizeCheck: false }, SIZED).verdicts).toEqual([]);
    expect(states(pol(''), ['Subject: x\r\n\r\n' + 'y'.repeat(40) + '\r\n']).verdicts).toEqual([]); // no SIZE declared
  });
});

describe('order of several matches on one event', () => {
  it('policy order within an event; a drop ends further actions', () => {
    const map = pol(' match body line length gt 5\n  log\n match body length gt 5\n  drop-connection log\n match body line length gt 4\n  log\n');
    const r = states(map, ['S: x\r\n\r\n123456\r\n']);
    // at the 5th body byte: Class 3 (gt 4) logs; at the 6th: Class 1 logs, then Class 2 drops
    expect(r.verdicts.map((v) => [v.rule, v.action])).toEqual([
      ['match body line length gt 4', 'log'],
      ['match body line length gt 5', 'log'],
      ['match body length gt 5', 'drop-connection'],
    ]);
  });
});
