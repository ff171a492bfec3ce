/**
 * A multi-line 250 after a client gap with no command pending answers the lost command; before
 * any EHLO was answered that is the EHLO (its keywords masked as the ASA, which saw it, masks
 * them: server-only captures), but after one it answers EXPN, whose lines are a mailing list's
 * members (RFC 5321 3.5.2). Before, those were masked as EHLO keywords too
 * (`250-XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX`), an edit no ASA makes. Real bytes:
 * fixtures/expn-gap.pcap (make-expn-gap.py: Python smtplib against a stdlib-socket server, the
 * client's EXPN packet cut with editcap).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { captureSegments, run, defaultMap, latin1, type Segment } from './helpers.js';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'expn-gap.pcap');
const MEMBERS = '250-Alice Example <alice@example.test>\r\n250-Bob Smith <bob@example.test>\r\n250 Carol Jones <carol@example.test>\r\n';

let segs: Segment[] = [];
beforeAll(async () => {
  segs = await captureSegments(FIXTURE);
});

describe('an EXPN reply after a client gap (real smtplib session, EXPN packet cut)', () => {
  it('the capture: the client gap where EXPN was, then the server\'s multi-line 250', () => {
    expect(segs.some((s) => s.dir === 0 && s.gap === 'expn staff\r\n'.length)).toBe(true);
    expect(latin1(Buffer.concat(segs.filter((s) => s.dir === 1).map((s) => s.bytes)))).toContain(MEMBERS);
  });

  it('the EHLO reply is masked as usual, the EXPN reply passes unchanged', () => {
    const r = run(defaultMap(), segs);
    const out = latin1(r.out[1]);
    expect(out).toContain('250-mx.example.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n');
    expect(out).toContain(MEMBERS);
    expect(r.verdicts.filter((v) => v.rule.startsWith('match ehlo-reply-parameter'))).toEqual([]);
  });
});
