/**
 * The generated corpus: real Postfix/swaks sessions, run through the engine on their real segment
 * boundaries with the ASA default map; each assertion is what MANIFEST.tsv says the default policy
 * does (or, for the AMBIGUOUS rows, what our documented default + option do).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { GENERATED_DIR, haveShared, haveTool } from '../helpers/shared.js';
import { captureSegments, tsharkSegments, run, defaultMap, opts, latin1, type RunResult, type Segment } from './helpers.js';
import type { EngineOptions } from '../../src/inspect/options.js';

const ok = haveShared && existsSync(path.join(GENERATED_DIR, 'MANIFEST.tsv'));
const segCache = new Map<string, Segment[]>();
const cache = new Map<string, RunResult>();
const PORT: Record<string, number> = { '19-port2525-control.pcap': 2525 };

/** Every generated capture's first connection, read once through our reader + reassembly. */
beforeAll(async () => {
  if (!ok) return;
  const files = readdirSync(GENERATED_DIR).filter((f) => /\.pcap(ng)?$/.test(f));
  await Promise.all(files.map(async (f) => segCache.set(f, await captureSegments(path.join(GENERATED_DIR, f), PORT[f] ?? 25))));
});

function scenario(file: string, o: Partial<EngineOptions> = {}): RunResult {
  const key = file + JSON.stringify(o);
  let r = cache.get(key);
  if (!r) {
    const segs = segCache.get(file);
    if (!segs) throw new Error(`${file}: not loaded`);
    cache.set(key, (r = run(defaultMap(), segs, opts(o))));
  }
  return r;
}
const serverText = (r: RunResult) => latin1(r.out[1]);
const clientText = (r: RunResult) => latin1(r.out[0]);
const rules = (r: RunResult) => r.verdicts.map((v) => v.rule);

const EHLO_SCENARIOS = ['02-ehlo-basic.pcap', '03-ehlo-pipelining.pcap', '05a-auth-plain.pcap', '05b-auth-login.pcap', '07b-rcpt-100.pcap', '08b-header-line-998.pcap', '09b-body-line-998.pcap', '10b-sender-320.pcap', '11b-mime-filename-255.pcap', '13b-cmdline-ehlo-510.pcap', '13c-cmdline-ehlo-512.pcap', '17-ipv6-loopback.pcap', '18a-any-linux-sll2.pcap', '18b-any-linux-sll.pcap', '18c-dumpcap-pcapng.pcapng', '18d-nanosecond.pcap'];

describe.skipIf(!ok)('generated captures vs MANIFEST.tsv (default map)', () => {
  it('the manifest lists the files we test', () => {
    const manifest = readFileSync(path.join(GENERATED_DIR, 'MANIFEST.tsv'), 'utf8');
    for (const f of EHLO_SCENARIOS) expect(manifest).toContain(f);
  });

  it('01 plain HELO: banner masked (length kept, 220 kept), nothing else', () => {
    const r = scenario('01-plain-helo.pcap');
    const greeting = serverText(r).split('\r\n')[0]!;
    expect(greeting).toMatch(/^220 [*20]+$/);
    expect(greeting.length).toBe(latin1(r.input[1]).split('\r\n')[0]!.length);
    expect(rules(r)).toEqual(['mask-banner']);
    expect(r.out[0].equals(r.input[0])).toBe(true);
    expect(r.session.state).toBe('inspecting');
  });

  it.each(EHLO_SCENARIOS)('%s: masked banner, XXXXXXXA, SMTPUTF8/CHUNKING masked, known keywords pass, no drop unless listed', (f) => {
    const r = scenario(f);
    const lines = serverText(r).split('\r\n');
    expect(lines[0]).toMatch(/^220 [*20]+$/);
    expect(lines).toContain('250-XXXXXXXA');
    expect(lines).not.toContain('250-STARTTLS');
    expect(lines).toContain('250-XXXXXXXX'); // SMTPUTF8
    expect(lines).toContain('250 XXXXXXXX'); // CHUNKING (last line)
    for (const k of ['250-PIPELINING', '250-SIZE 104857600', '250-VRFY', '250-ETRN', '250-ENHANCEDSTATUSCODES', '250-8BITMIME', '250-DSN']) expect(lines).toContain(k);
    expect(r.session.state).toBe('inspecting');
    expect(r.verdicts.filter((v) => v.action === 'drop-connection' || v.action === 'x-substitute')).toEqual([]);
    expect(r.out[0].equals(r.input[0])).toBe(true); // the client stream is untouched
  });

  it('03 pipelining: MAIL+RCPT+DATA in one segment, three replies in one segment, message parsed as DATA', () => {
    const r = scenario('03-ehlo-pipelining.pcap');
    expect(clientText(r)).toContain('MAIL FROM:<alice@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n');
    expect(clientText(r)).toContain('This is a test mailing');
  });

  it('05b AUTH LOGIN: the base64 lines answering 334 are not X\'d', () => {
    const r = scenario('05b-auth-login.pcap');
    expect(r.out[0].equals(r.input[0])).toBe(true);
    expect(clientText(r)).toMatch(/AUTH LOGIN\r\n[A-Za-z0-9+/=]+\r\n[A-Za-z0-9+/=]+\r\n/);
  });

  it('04 STARTTLS without allow-tls: keyword masked, the verb X\'d', () => {
    const r = scenario('04-starttls.pcap');
    expect(serverText(r)).toContain('250-XXXXXXXA\r\n');
    expect(clientText(r)).toContain('\r\nXXXXXXXX\r\n');
    expect(r.verdicts.find((v) => v.dir === 0 && v.detail.includes('STARTTLS'))?.rule).toBe('unknown-command');
    // the real server answered 220 and TLS followed: not an ASA path -> one note, nothing judged after it
    expect(r.session.state).toBe('diverged');
    expect(r.verdicts.at(-1)!.rule).toBe('starttls-divergence');
    expect(r.verdicts.filter((v) => v.action === 'drop-connection')).toEqual([]);
    const afterTls = latin1(r.input[0]).indexOf('STARTTLS\r\n') + 10;
    expect(r.out[0].subarray(afterTls).equals(r.input[0].subarray(afterTls))).toBe(true);
    // starttls-divergence=inspect: the TLS records are judged as commands (the old, literal behaviour)
    const lit = scenario('04-starttls.pcap', { starttlsDivergence: 'inspect' });
    expect(lit.session.state).toBe('dropped');
    expect(lit.verdicts.at(-1)!.rule).toBe('match cmd line length gt 512');
  });

  it('06 BDAT: every BDAT line X\'d, chunks (with a lone dot and a RCPT line) untouched, no RCPT counted', () => {
    const r = scenario('06-bdat-chunking.pcap');
    const inText = latin1(r.input[0]);
    const outText = clientText(r);
    // the chunks themselves contain 'BDAT LAST.' text: only real command lines may be X'd
    const starts = r.verdicts.filter((v) => v.rule === 'unknown-command').map((v) => v.offset);
    expect(starts).toEqual([95, 379, 680, 974, 1196]);
    const bdats = starts.map((i) => {
      const m = /^BDAT [^\r]*\r\n/.exec(inText.slice(i))!;
      return Object.assign(m, { index: i });
    });
    for (const m of bdats) expect(outText.slice(m.index!, m.index! + m[0].length)).toBe('X'.repeat(m[0].length - 2) + '\r\n');
    // everything except the BDAT lines is unchanged
    let expected = inText;
    for (const m of bdats) expected = expected.slice(0, m.index!) + 'X'.repeat(m[0].length - 2) + '\r\n' + expected.slice(m.index! + m[0].length);
    expect(outText).toBe(expected);
    expect(r.verdicts.filter((v) => v.rule === 'unknown-command')).toHaveLength(5);
  });

  it.each([
    ['07a-rcpt-120.pcap', 101],
    ['07c-rcpt-101.pcap', 101],
  ])('%s: drop-connection + log at RCPT #%i', (f, nth) => {
    const r = scenario(f);
    expect(r.session.state).toBe('dropped');
    const inText = latin1(r.input[0]);
    const rcptStarts = [...inText.matchAll(/RCPT TO:/g)].map((m) => m.index!);
    expect(r.session.dropOffset).toBe(rcptStarts[nth - 1]);
    expect(r.session.dropDirection).toBe(0);
    const v = r.verdicts.at(-1)!;
    expect(v.rule).toBe('match cmd RCPT count gt 100');
    expect(v.syslog[0]).toBe(
      '%ASA-4-108004: ESMTP Classification: Dropped connection for ESMTP Request from outside:198.51.100.7/40003 to inside:192.0.2.25/25; matched Class 2: cmd RCPT count gt 100',
    );
    expect(v.syslog[1]).toMatch(/507003: .* reason - inspector disconnected, dropped packet\.$/);
  });

  it('08a: the 1500-byte header line drops at its 999th byte; 08b (998) passes', () => {
    const r = scenario('08a-header-line-1500.pcap');
    const inText = latin1(r.input[0]);
    const start = inText.indexOf('X-Long-Header:');
    expect(r.session.state).toBe('dropped');
    expect(r.session.dropOffset).toBe(start + 998);
    expect(r.verdicts.at(-1)!.syslog[0]).toMatch(/matched Class 4: header line length gt 998$/);
    expect(scenario('08b-header-line-998.pcap').session.state).toBe('inspecting');
  });

  it('09a: the 1500-byte body line is only logged (108005); 09b (998) is not', () => {
    const r = scenario('09a-body-line-1500.pcap');
    expect(r.session.state).toBe('inspecting');
    const logs = r.verdicts.filter((v) => v.action === 'log');
    expect(logs).toHaveLength(1);
    expect(logs[0]!.syslog[0]).toMatch(/^%ASA-6-108005: ESMTP Classification: Received ESMTP Request .*matched Class 3: body line length gt 998$/);
    expect(scenario('09b-body-line-998.pcap').verdicts.filter((v) => v.action === 'log')).toEqual([]);
  });

  it('10a: the 340-byte sender drops at address byte 321; 10b (320) passes', () => {
    const r = scenario('10a-sender-340.pcap');
    const inText = latin1(r.input[0]);
    expect(r.session.state).toBe('dropped');
    expect(r.session.dropOffset).toBe(inText.indexOf('MAIL FROM:<') + 11 + 320);
    expect(r.verdicts.at(-1)!.syslog[0]).toMatch(/matched Class 5: sender-address length gt 320$/);
  });

  it('11a: the 300-byte attachment name drops at its header field; 11b (255) passes', () => {
    const r = scenario('11a-mime-filename-300.pcap');
    expect(r.session.state).toBe('dropped');
    const inText = latin1(r.input[0]);
    const part = inText.indexOf('Content-Type: application/octet-stream');
    expect(part).toBeGreaterThan(0);
    expect(r.session.dropOffset).toBe(part);
    expect(r.verdicts.at(-1)!.syslog[0]).toMatch(/matched Class 6: MIME filename length gt 255$/);
  });

  it('12: every unknown command X\'d, NOOP passes, the server\'s own errors follow', () => {
    const r = scenario('12-unknown-commands.pcap');
    const inLines = latin1(r.input[0]).split('\r\n');
    const outLines = clientText(r).split('\r\n');
    for (const verb of ['XEXCH50', 'VERB', 'ONEX', 'ATRN', 'TURN', 'XCLIENT', 'XFORWARD', 'XUSR', 'XAUTH', 'WIZ', 'DEBUG', 'X-UNKNOWN-VERB']) {
      const idx = inLines.findIndex((l) => l.split(' ')[0] === verb);
      expect(idx, verb).toBeGreaterThanOrEqual(0);
      expect(outLines[idx]).toBe('X'.repeat(inLines[idx]!.length));
    }
    const noop = inLines.findIndex((l) => l === 'NOOP');
    expect(outLines[noop]).toBe('NOOP');
    expect(latin1(r.input[1])).toContain('500 5.5.2');
    expect(r.session.state).toBe('diverged'); // STARTTLS -> 220 in the capture (see 04)
    expect(r.verdicts.filter((v) => v.action === 'drop-connection')).toEqual([]);
  });

  it('13a: the 600-byte EHLO drops at byte 513; 13b (510) passes; 13c (512) is AMBIGUOUS: passes by default, drops with length-counts-crlf=yes', () => {
    const r = scenario('13a-cmdline-ehlo-600.pcap');
    expect(r.session.state).toBe('dropped');
    expect(r.session.dropOffset).toBe(512);
    expect(r.verdicts.at(-1)!.syslog[0]).toMatch(/matched Class 1: cmd line length gt 512$/);
    expect(scenario('13b-cmdline-ehlo-510.pcap').session.state).toBe('inspecting');
    expect(scenario('13b-cmdline-ehlo-510.pcap', { lengthCountsCrlf: true }).session.state).toBe('inspecting');
    expect(scenario('13c-cmdline-ehlo-512.pcap').session.state).toBe('inspecting');
    const c = scenario('13c-cmdline-ehlo-512.pcap', { lengthCountsCrlf: true });
    expect(c.session.state).toBe('dropped');
    expect(c.session.dropOffset).toBe(512);
  });

  it('14b: EXPN X\'d; VRFY, HELP, NOOP pass (lower-case verbs)', () => {
    const r = scenario('14b-vrfy-expn-help-noop.pcap');
    expect(clientText(r)).toBe(latin1(r.input[0]).replace('expn staff', 'XXXXXXXXXX'));
  });

  it('15a: | in MAIL FROM -> space + 108002 by default; closes the session with pipe-signature=any (MANIFEST)', () => {
    const r = scenario('15a-pipe-in-mail-from.pcap');
    expect(clientText(r)).toContain('MAIL FROM:<pipe sender@example.test>');
    expect(r.verdicts.find((v) => v.rule === 'pipe-in-address')!.syslog[0]).toMatch(/^%ASA-2-108002: SMTP replaced string: out 198\.51\.100\.7 in 192\.0\.2\.25 data: pipe sender@example\.test$/);
    // the From: header in DATA is not an envelope address
    expect(clientText(r)).toContain('pipe|sender@example.test');
    const any = scenario('15a-pipe-in-mail-from.pcap', { pipeSignature: 'any' });
    expect(any.session.state).toBe('dropped');
    expect(any.verdicts.at(-1)!.syslog[0]).toMatch(/^%ASA-2-108003: Terminating ESMTP connection; malicious pattern detected in the mail address from outside:198\.51\.100\.7\/40003 to inside:192\.0\.2\.25\/25\. Mail Address:pipe\|sender@example\.test$/);
  });

  it('15c: | only in ESMTP parameters -> untouched by default (AMBIGUOUS); replaced with pipe-scope=argument; dropped with both + any', () => {
    const r = scenario('15c-pipe-in-esmtp-params.pcap');
    expect(r.out[0].equals(r.input[0])).toBe(true);
    const arg = scenario('15c-pipe-in-esmtp-params.pcap', { pipeScope: 'argument' });
    expect(clientText(arg)).toContain('ENVID=env id 0001');
    expect(clientText(arg)).toContain('ORCPT=rfc822;bob orig@example.test');
    expect(scenario('15c-pipe-in-esmtp-params.pcap', { pipeScope: 'argument', pipeSignature: 'any' }).session.state).toBe('dropped');
  });

  it('19 (port 2525) when mapped to esmtp: banner + SMTPUTF8/CHUNKING masked', () => {
    const r = scenario('19-port2525-control.pcap');
    const lines = serverText(r).split('\r\n');
    expect(lines[0]).toMatch(/^220 [*20]+$/);
    expect(lines).toContain('250-XXXXXXXX');
    expect(lines).toContain('250 XXXXXXXX');
  });
});

describe.skipIf(!ok || !haveTool('tshark'))('segment extraction cross-check', () => {
  it.each(['03-ehlo-pipelining.pcap', '12-unknown-commands.pcap'])('%s: our reader + reassembly give the same segments as tshark', (f) => {
    const ours = segCache.get(f)!.map((x) => [x.dir, x.bytes.toString('hex')]);
    const theirs = tsharkSegments(path.join(GENERATED_DIR, f)).map((x) => [x.dir, x.bytes.toString('hex')]);
    expect(ours.length).toBeGreaterThan(5);
    expect(ours).toEqual(theirs);
  });
});

describe.skipIf(!ok || !existsSync(path.join(GENERATED_DIR, '16c-large-8mib-snaplen96.pcap')))('16c truncated capture (snaplen 96)', () => {
  it('flags truncation instead of deciding rules: no X, no drop, the cut 354 still starts DATA, notes say why', () => {
    const r = scenario('16c-large-8mib-snaplen96.pcap');
    expect(r.session.state).toBe('inspecting');
    expect(r.out[0].equals(r.input[0])).toBe(true); // nothing X'd in the client stream
    expect(r.verdicts.filter((v) => v.action !== 'note' && v.rule !== 'mask-banner')).toEqual([]);
    const notes = r.verdicts.filter((v) => v.rule === 'gap');
    expect(notes.length).toBeGreaterThanOrEqual(3);
    expect(notes.length).toBeLessThanOrEqual(6);
    for (const n of notes) expect(n.detail).toContain('capture truncated by snaplen');
    expect(notes.some((n) => /code 354 was seen/.test(n.detail))).toBe(true);
    expect(notes.some((n) => /DATA state kept.*resynchronised at the server's 250 reply, taken as the end of the message/.test(n.detail))).toBe(true);
  });
});

describe.skipIf(!ok || !existsSync(path.join(GENERATED_DIR, '16a-large-8mib.pcap')))('16a large message', () => {
  it('8 MiB body in ~64 KiB segments: nothing but the banner/EHLO masks, message end found', () => {
    const r = scenario('16a-large-8mib.pcap');
    expect(r.session.state).toBe('inspecting');
    expect(r.verdicts.filter((v) => v.dir === 0)).toEqual([]);
    expect(r.out[0].equals(r.input[0])).toBe(true);
  });
});
