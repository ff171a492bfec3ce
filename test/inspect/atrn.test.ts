/**
 * ATRN (On-Demand Mail Relay, RFC 2645) and TURN (RFC 821) reverse the roles after a 250: the
 * server sends mail to the client over the same connection. The ASA does not know either verb
 * (ASA-ESMTP.md 1.1), so through it the server gets X's, answers 5xx and nothing reverses. Before,
 * the reversed dialogue was judged as if nothing had happened: every reply the client now sends
 * (`220 …`, `250 …`, `354 …`, `221 …`) was X'd as an unknown command, and each command the server
 * sends was a "server line without a reply code" note: edits and findings about traffic no ASA
 * passes. Now (`turn-divergence=stop`, default) a 2xx to an X'd TURN/ATRN ends inspection with one
 * x-divergence note (state `diverged`). Real bytes: fixtures/atrn.pcap (make-atrn.py).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { captureSegments, run, defaultMap, opts, latin1, C, S, GREETING, type Segment } from './helpers.js';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'atrn.pcap');

let segs: Segment[] = [];
beforeAll(async () => {
  segs = await captureSegments(FIXTURE);
});

describe('ATRN accepted, roles reversed (real ODMR-style session)', () => {
  it('the capture: ATRN answered 250, then the client greets and the server sends EHLO, MAIL, RCPT, DATA, QUIT', () => {
    const client = latin1(Buffer.concat(segs.filter((s) => s.dir === 0).map((s) => s.bytes)));
    const server = latin1(Buffer.concat(segs.filter((s) => s.dir === 1).map((s) => s.bytes)));
    expect(client).toContain('ATRN example.test\r\n220 client.example.test ESMTP ready\r\n');
    expect(server).toContain('250 OK now reversing the connection\r\nEHLO odmr.example.net\r\n');
    expect(server).toContain('MAIL FROM:<list@example.org>\r\n');
  });

  it('default: ATRN is X\'d, the 250 ends inspection with one x-divergence note; the reversed dialogue passes unchanged', () => {
    const r = run(defaultMap(), segs);
    expect(r.session.state).toBe('diverged');
    expect(r.verdicts.filter((v) => v.rule === 'unknown-command').map((v) => v.detail)).toEqual(['"ATRN": not a supported command']);
    expect(r.verdicts.some((v) => v.rule === 'server-anomaly')).toBe(false);
    const notes = r.verdicts.filter((v) => v.rule === 'x-divergence');
    expect(notes).toHaveLength(1);
    expect(notes[0]!.detail).toContain('TURN/ATRN');
    const out = latin1(r.out[0]);
    expect(out).toContain('XXXXXXXXXXXXXXXXX\r\n220 client.example.test ESMTP ready\r\n250-client.example.test\r\n');
    expect(out.endsWith('221 2.0.0 Bye\r\n')).toBe(true);
  });

  it('turn-divergence=inspect judges the reversed dialogue: the client\'s replies are X\'d', () => {
    const r = run(defaultMap(), segs, opts({ turnDivergence: 'inspect' }));
    expect(r.session.state).toBe('inspecting');
    expect(r.verdicts.filter((v) => v.rule === 'unknown-command').length).toBeGreaterThan(5);
  });

  it('TURN answered 250 too; a 4xx/5xx (what a server behind the ASA sends, or ATRN with no mail: 453) keeps inspecting', () => {
    const turned = run(defaultMap(), [GREETING, C('EHLO c\r\n'), S('250 mx\r\n'), C('turn\r\n'), S('250 OK\r\n'), C('220 c ESMTP\r\n')]);
    expect(turned.session.state).toBe('diverged');
    const none = run(defaultMap(), [GREETING, C('EHLO c\r\n'), S('250 mx\r\n'), C('ATRN example.test\r\n'), S('453 You have no mail\r\n'), C('MAIL FROM:<|x@y>\r\n')]);
    expect(none.verdicts.find((v) => v.action === 'drop-connection')?.rule).toBe('pipe-signature');
  });
});
