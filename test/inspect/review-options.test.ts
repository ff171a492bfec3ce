/**
 * Spec-review fixes on real bytes: raw Node clients against the npm smtp-server, captured with
 * tcpdump (fixtures/make-review-sessions.cjs, fixtures/README.md), read through our own reader and
 * reassembly and run through the engine.
 */
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { captureSegments, latin1, mapFrom, opts, run } from './helpers.js';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const RELAY = fixture('review-relay.pcap');

const relayMap = (action: 'log' | 'drop-connection') =>
  mapFrom(`policy-map type inspect esmtp M\n parameters\n  no mask-banner\n  mail-relay example.test action ${action}\n`);

describe('mail-relay (real smtp-server session)', () => {
  it('a recipient without a domain (RCPT TO:<postmaster>) is local: no action, even with drop-connection', async () => {
    const segs = await captureSegments(RELAY);
    const r = run(relayMap('drop-connection'), segs);
    // the first relayed recipient is bob@elsewhere.test; postmaster and the long local address pass
    expect(r.session.state).toBe('dropped');
    const v = r.verdicts.filter((x) => x.rule === 'mail-relay');
    expect(v).toHaveLength(1);
    expect(v[0]!.detail).toBe('recipient domain "elsewhere.test" is not the local domain "example.test"');
    expect(latin1(r.input[0]).slice(v[0]!.offset - 27, v[0]!.offset + 1)).toBe('RCPT TO:<bob@elsewhere.test>');
  });

  it('the domain of an address longer than max-field-buffer is its real domain (5000 a + @example.test is local)', async () => {
    const segs = await captureSegments(RELAY);
    for (const maxFieldBuffer of [64, 4096]) {
      const r = run(relayMap('log'), segs, opts({ maxFieldBuffer }));
      const v = r.verdicts.filter((x) => x.rule === 'mail-relay');
      expect(v.map((x) => x.detail)).toEqual(['recipient domain "elsewhere.test" is not the local domain "example.test"']);
      expect(r.session.state).toBe('inspecting');
    }
  });

  it('a domain over 255 bytes is not a valid domain: relay, the detail says so', () => {
    const long = 'x'.repeat(250) + '.example.test';
    const r = run(relayMap('log'), [
      { dir: 1, bytes: Buffer.from('220 mx ESMTP\r\n') },
      { dir: 0, bytes: Buffer.from(`RCPT TO:<bob@${long}>\r\n`) },
      { dir: 0, bytes: Buffer.from('RCPT TO:<bob@a@example.test>\r\n') },
    ], opts({ mailRelaySubdomains: true }));
    const v = r.verdicts.filter((x) => x.rule === 'mail-relay');
    expect(v).toHaveLength(1);
    expect(v[0]!.detail).toMatch(/^recipient domain of 263 bytes \("x{60}\.\.\."; over RFC 5321's 255, not a valid domain\) is not the local domain "example.test"$/);
  });
});

describe('pipe-scope=argument prints the address in 108002/108003 (real smtp-server session)', () => {
  const PIPE = fixture('review-pipe-param.pcap');
  const plainMap = () => mapFrom('policy-map type inspect esmtp M\n parameters\n  no mask-banner\n');
  it('108002: the pipe in ENVID is replaced; data: is the address; the detail names the parameter', async () => {
    const r = run(plainMap(), await captureSegments(PIPE), opts({ pipeScope: 'argument' }));
    expect(latin1(r.out[0])).toContain('MAIL FROM:<a@example.test> BODY=8BITMIME ENVID=x y\r\n');
    const v = r.verdicts.filter((x) => x.rule === 'pipe-in-address');
    expect(v).toHaveLength(1);
    expect(v[0]!.syslog).toEqual(['%ASA-2-108002: SMTP replaced string: out 198.51.100.7 in 192.0.2.25 data: a@example.test']);
    expect(v[0]!.detail).toContain('in an ESMTP parameter of the MAIL argument');
    // default scope: the parameter is not looked at
    expect(run(plainMap(), await captureSegments(PIPE)).verdicts.filter((x) => x.rule === 'pipe-in-address')).toEqual([]);
  });
  it('108003 (pipe-signature=any): Mail Address: is the address, the connection drops at the |', async () => {
    const r = run(plainMap(), await captureSegments(PIPE), opts({ pipeScope: 'argument', pipeSignature: 'any' }));
    expect(r.session.state).toBe('dropped');
    const v = r.verdicts.find((x) => x.rule === 'pipe-signature')!;
    expect(v.syslog[0]).toMatch(/ Mail Address:a@example\.test$/);
    expect(v.detail).toContain('in an ESMTP parameter of the MAIL argument');
    expect(latin1(r.input[0]).slice(v.offset - 7, v.offset + 1)).toBe("ENVID=x|");
  });
});

describe('invalid-recipient-replies (real smtp-server session: RCPTs answered 450, 550, 450, 250)', () => {
  const FILE = fixture('review-invalid-rcpt-folded.pcap');
  const map = () => mapFrom('policy-map type inspect esmtp M\n match invalid-recipients count gt 1\n  log\n parameters\n  no mask-banner\n');
  it('default 5xx: one invalid recipient (the 550), gt 1 does not fire', async () => {
    const r = run(map(), await captureSegments(FILE));
    expect(r.verdicts.filter((v) => v.rule.startsWith('match'))).toEqual([]);
    expect(r.session.state).toBe('inspecting');
  });
  it('4xx-5xx: the 450 counts too; the second invalid recipient (the 550) fires, once', async () => {
    const r = run(map(), await captureSegments(FILE), opts({ invalidRecipientReplies: '4xx-5xx' }));
    const v = r.verdicts.filter((x) => x.action === 'log');
    expect(v).toHaveLength(1);
    expect(v[0]!.dir).toBe(1);
    // at the reply's last LF
    expect(latin1(r.input[1]).slice(0, v[0]!.offset + 1).endsWith('550 no such user\r\n')).toBe(true);
    // the codes counted, not just the last: the server answered 450 then 550
    expect(v[0]!.detail).toBe('2 invalid recipients (450, 550)');
    expect(v[0]!.syslog[0]).toMatch(/^%ASA-6-108005: ESMTP Classification: Received ESMTP Response .*; matched Class \d+: invalid-recipients count gt 1$/);
  });
  it('the detail lists the codes counted in reply order; default 5xx counts only the 550', async () => {
    const segs = await captureSegments(FILE);
    const gt0 = mapFrom('policy-map type inspect esmtp M\n match invalid-recipients count gt 0\n  log\n match invalid-recipients count gt 2\n  log\n parameters\n  no mask-banner\n');
    expect(run(gt0, segs).verdicts.filter((x) => x.action === 'log').map((x) => x.detail)).toEqual(['1 invalid recipient (550)']);
    expect(run(gt0, segs, opts({ invalidRecipientReplies: '4xx-5xx' })).verdicts.filter((x) => x.action === 'log').map((x) => x.detail))
      .toEqual(['1 invalid recipient (450)', '3 invalid recipients (450, 550, 450)']);
  });
});

describe('header-line-length=unfolded when the header block starts with a continuation line (real smtp-server session)', () => {
  // review-leading-continuation.pcap: the message's first line is " " + 1099 c's, then Subject:
  const FILE = fixture('review-leading-continuation.pcap');
  it('the orphan continuation line is measured from its own start: the detail gives its real offset and says why', async () => {
    const segs = await captureSegments(FILE);
    const m = mapFrom('policy-map type inspect esmtp M\n match header line length gt 998\n  log\n parameters\n  no mask-banner\n');
    const r = run(m, segs, opts({ headerLineLength: 'unfolded' }));
    const v = r.verdicts.filter((x) => x.rule === 'match header line length gt 998');
    expect(v).toHaveLength(1);
    const text = latin1(r.input[0]);
    const line = text.indexOf('\r\n ' + 'c'.repeat(50)) + 2;
    expect(text.slice(line - 6, line)).toBe('DATA\r\n');
    expect(v[0]!.offset).toBe(line + 998);
    expect(v[0]!.detail).toBe(`header field longer than 998 bytes unfolded (RFC 5322 2.2.3: folding CR LF removed, CR LF not counted), field at stream offset ${line} (the header block starts with a continuation line, no field name before it: measured from that line)`);
    expect(v[0]!.detail).not.toContain('-1');
    // physical (default) reports the same line as a line
    const p = run(m, segs).verdicts.filter((x) => x.rule === 'match header line length gt 998');
    expect(p.map((x) => x.detail)).toEqual([`header line longer than 998 bytes, line at stream offset ${line}`]);
  });
});

describe('header-line-length (real smtp-server session: X-Folded: folded into lines of 610 and 601 bytes)', () => {
  const FILE = fixture('review-invalid-rcpt-folded.pcap');
  const map = (gt: number) => mapFrom(`policy-map type inspect esmtp M\n match header line length gt ${gt}\n  log\n parameters\n  no mask-banner\n`);
  const hits = (r: ReturnType<typeof run>) => r.verdicts.filter((v) => v.rule.startsWith('match header line length'));
  it('default physical: no line is over 998; a line over 609 fires once (the first physical line)', async () => {
    const segs = await captureSegments(FILE);
    expect(hits(run(map(998), segs))).toEqual([]);
    const r = run(map(609), segs);
    expect(hits(r)).toHaveLength(1);
    expect(latin1(r.input[0]).slice(hits(r)[0]!.offset - 609, hits(r)[0]!.offset + 1)).toBe('X-Folded: ' + 'a'.repeat(600));
  });
  it('unfolded: the 1211-byte field trips gt 998 once, at its 999th byte (in the continuation line); gt 1211 does not fire', async () => {
    const segs = await captureSegments(FILE);
    const r = run(map(998), segs, opts({ headerLineLength: 'unfolded' }));
    const v = hits(r);
    expect(v).toHaveLength(1);
    const text = latin1(r.input[0]);
    const field = text.indexOf('X-Folded: ');
    // 610 bytes on the first line, CR LF (not counted), then the 389th byte of "\tbbb…"
    expect(v[0]!.offset).toBe(field + 610 + 2 + 388);
    expect(v[0]!.detail).toBe(`header field longer than 998 bytes unfolded (RFC 5322 2.2.3: folding CR LF removed, CR LF not counted), field at stream offset ${field}`);
    expect(hits(run(map(1211), segs, opts({ headerLineLength: 'unfolded' })))).toEqual([]);
    expect(hits(run(map(1210), segs, opts({ headerLineLength: 'unfolded' })))).toHaveLength(1);
    // length-counts-crlf does not apply to unfolded fields
    expect(hits(run(map(1211), segs, opts({ headerLineLength: 'unfolded', lengthCountsCrlf: true })))).toEqual([]);
  });
  it('unfolded with `match not header line length gt 1211`: the longest field is 1211, so the not-match fires at the header block end', async () => {
    const segs = await captureSegments(FILE);
    const m = mapFrom('policy-map type inspect esmtp M\n match not header line length gt 1211\n  log\n match not header line length gt 1210\n  log\n parameters\n  no mask-banner\n');
    const r = run(m, segs, opts({ headerLineLength: 'unfolded' }));
    expect(r.verdicts.filter((v) => v.rule.startsWith('match')).map((v) => v.rule)).toEqual(['match not header line length gt 1211']);
  });
});

describe('unexpected-transition (real TCP session with a raw Node server: a line without a code, 354 to RCPT, a reply nobody asked for)', () => {
  const FILE = fixture('review-odd-server.pcap');
  const plainMap = () => mapFrom('policy-map type inspect esmtp M\n parameters\n  no mask-banner\n');
  it('default note: only the line without a reply code, as a server-anomaly note; nothing else', async () => {
    const r = run(plainMap(), await captureSegments(FILE));
    expect(r.verdicts.map((v) => [v.rule, v.action, v.detail])).toEqual([['server-anomaly', 'note', 'server line without a reply code ignored']]);
    expect(r.session.state).toBe('inspecting');
    expect(r.edits).toEqual([]);
  });
  it('log: each unexpected transition is a log verdict without syslog, at its server line; nothing dropped or edited', async () => {
    const r = run(plainMap(), await captureSegments(FILE), opts({ unexpectedTransition: 'log' }));
    const server = latin1(r.input[1]);
    expect(r.verdicts.map((v) => [v.rule, v.action, v.syslog, v.detail])).toEqual([
      ['unexpected-transition', 'log', [], 'server line without a reply code ignored'],
      ['unexpected-transition', 'log', [], 'server reply 354 (start mail input) to a command other than DATA: ignored, the state stays command'],
      ['unexpected-transition', 'log', [], 'server reply 250 while no command awaited a reply'],
    ]);
    expect(server.slice(r.verdicts[0]!.offset).startsWith('this line has no reply code')).toBe(true);
    expect(server.slice(0, r.verdicts[1]!.offset + 1).endsWith('354 go ahead\r\n')).toBe(true);
    expect(server.slice(0, r.verdicts[2]!.offset + 1).endsWith('250 nobody asked\r\n')).toBe(true);
    expect(r.session.state).toBe('inspecting');
    expect(r.edits).toEqual([]);
  });
});
