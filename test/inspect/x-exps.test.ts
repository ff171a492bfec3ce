/**
 * A 334 to a line the ASA X's: Exchange's X-EXPS (its server-to-server SASL command, a private
 * extension the ASA does not know, ASA-ESMTP.md 1.1) and an AUTH whose verb is split over two
 * segments (X'd as a fragment under segment judging). Through the ASA the server gets X's and
 * answers 5xx, so the client never sends a SASL response; in the capture the server answered 334
 * and the client did. Before, that response line was judged as a command: the 1800-byte Kerberos
 * token was X'd and dropped the connection (`cmd line length gt 512`, 108004 + 507003), and the
 * AUTH LOGIN user name was X'd. Now a 334 to an X'd line makes the next client line an AUTH
 * response, as after any 334 (not judged, not measured); one `x-divergence` note per connection.
 * Real bytes: fixtures/x-exps.pcap (make-x-exps.py).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { captureSegments, run, defaultMap, latin1, C, S, GREETING, type Segment } from './helpers.js';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'x-exps.pcap');

let segs: Segment[] = [];
beforeAll(async () => {
  segs = await captureSegments(FIXTURE);
});

describe('SASL responses after a 334 to an X\'d line (real Exchange-style session)', () => {
  it('the capture: X-EXPS GSSAPI answered 334, an 1800-byte token line, AUTH split as AU|TH LOGIN answered 334', () => {
    const client = segs.filter((s) => s.dir === 0).map((s) => latin1(s.bytes));
    expect(client).toContain('X-EXPS GSSAPI\r\n');
    expect(client.some((s) => s.length === 1802 && /^[A-Za-z0-9+/=]+\r\n$/.test(s))).toBe(true);
    expect(client).toContain('AU');
    expect(client).toContain('TH LOGIN\r\n');
    const server = latin1(Buffer.concat(segs.filter((s) => s.dir === 1).map((s) => s.bytes)));
    expect(server.match(/235 2\.7\.0 Authentication successful\r\n/g)).toHaveLength(2);
  });

  it('default: X-EXPS and the AUTH fragment are X\'d, the SASL lines pass unjudged, the message is inspected, no drop', () => {
    const r = run(defaultMap(), segs);
    expect(r.session.state).toBe('inspecting');
    expect(r.verdicts.some((v) => v.action === 'drop-connection' || v.syslog.length > 0)).toBe(false);
    const x = r.verdicts.filter((v) => v.rule === 'unknown-command').map((v) => v.detail);
    expect(x).toEqual(['"X-EXPS": not a supported command', '"AU": line fragment is not a complete known verb within its segment']);
    expect(r.verdicts.filter((v) => v.rule === 'x-divergence')).toHaveLength(1);
    const out = latin1(r.out[0]);
    expect(out).toContain('XXXXXXXXXXXXX\r\n');
    expect(out).toContain('XXXXXXXXXX\r\ndXNlcg==\r\ncGFzcw==\r\nMAIL FROM:<alice@contoso.test>\r\n');
    // the token and the empty line after it pass as sent
    const token = segs.find((s) => s.dir === 0 && s.bytes.length === 1802)!;
    expect(out).toContain(latin1(token.bytes) + '\r\nRSET\r\n');
    expect(out).toContain('DATA\r\nSubject: after X-EXPS\r\n\r\nhello\r\n.\r\nQUIT\r\n');
  });

  it('a 5xx to the X\'d line (what the server behind the ASA answers) keeps the next line a command', () => {
    const r = run(defaultMap(), [GREETING, C('EHLO c\r\n'), S('250 mx\r\n'), C('X-EXPS GSSAPI\r\n'), S('500 5.3.3 Unrecognized command\r\n'), C('TOKEN\r\n')]);
    expect(r.verdicts.filter((v) => v.rule === 'unknown-command').map((v) => v.detail)).toEqual(['"X-EXPS": not a supported command', '"TOKEN": not a supported command']);
  });
});
