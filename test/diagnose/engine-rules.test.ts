/**
 * diagnose explains every verdict rule the engine and pipeline emit, with the engine options that
 * change what it means: unexpected-transition=log (no ASA syslog: what to look at instead),
 * invalid-recipients under invalid-recipient-replies, header-line-length=unfolded (criterion and
 * option in the fix), drop-connection-rst=yes (a reset, not a time-out), and a session inspected
 * or exempted because of a time-range at its start. Real bytes: the real-TCP fixtures
 * test/inspect/fixtures/review-*.pcap and the generated corpus.
 */
import { describe, it, expect, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GENERATED_DIR, REPO_ROOT, haveShared } from '../helpers/shared.js';
import { runDiagnose } from '../../src/diagnose/run.js';
import { renderText } from '../../src/diagnose/text.js';
import { reportJson } from '../../src/diagnose/model.js';
import { categorize, symptomFor, type Stage } from '../../src/diagnose/catalogue.js';
import { codeList, invalidRecipientTally, invalidRecipients } from '../../src/diagnose/analyze.js';
import { parseEngineOptions } from '../../src/inspect/options.js';

const fixture = (n: string) => path.join(REPO_ROOT, 'test/inspect/fixtures', n);
const g = (n: string) => path.join(GENERATED_DIR, n);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'diag-rules-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
function policyFile(name: string, text: string): string {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, text);
  return f;
}
const stage: Stage = { lastCommand: 'RCPT', inData: false, xedCommands: 0, multiLineGreeting: false };

describe('every verdict rule the engine and pipeline emit has its own explanation', () => {
  it('the rules written in src/inspect and src/pipeline (non-note) are all categorised, none explained as "see the ASA syslog"', () => {
    const session = fs.readFileSync(path.join(REPO_ROOT, 'src/inspect/esmtp/session.ts'), 'utf8');
    const limits = fs.readFileSync(path.join(REPO_ROOT, 'src/pipeline/connection-limits.ts'), 'utf8');
    const rules = new Map<string, string>();
    for (const m of session.matchAll(/rule: '([a-z0-9-]+)',\s*action: '([a-z-]+)'/g)) if (m[2] !== 'note' && m[2] !== 'passthrough') rules.set(m[1]!, m[2]!);
    for (const m of session.matchAll(/rule: '([a-z0-9-]+)',\n\s*action: '([a-z-]+)'/g)) rules.set(m[1]!, m[2]!);
    for (const m of session.matchAll(/this\.terminate\(\w+, \w+, '(dropped|reset)', '([a-z0-9-]+)'/g)) rules.set(m[2]!, m[1] === 'reset' ? 'reset' : 'drop-connection');
    for (const m of session.matchAll(/rule: '(unexpected-transition)', action: '(log)'/g)) rules.set(m[1]!, m[2]!);
    for (const m of limits.matchAll(/rule: `(set connection [a-z-]+) /g)) rules.set(`${m[1]!} 10`, 'drop');
    // the scan still finds the known ones (a rewrite of the sources must not blind it)
    expect([...rules.keys()]).toEqual(expect.arrayContaining(['unknown-command', 'mask-banner', 'allow-tls', 'pipe-in-address', 'pipe-signature', 'special-character', 'mail-relay', 'size-violation', 'unexpected-transition', 'set connection conn-max 10']));
    // plus the match criteria an ESMTP map can carry (rule = the match line)
    for (const m of ['match invalid-recipients count gt 1', 'match header line length gt 998', 'match cmd RCPT count gt 100']) rules.set(m, 'drop-connection');
    for (const [rule, action] of rules) {
      const c = categorize(rule, '');
      expect(c, rule).not.toBe('other');
      const s = symptomFor(c, action, stage, '192.0.2.1:40000', '192.0.2.25:25', 'detail', {}, []);
      const all = [s.summary, ...s.client, ...s.server].join(' ');
      expect(all, rule).not.toMatch(/see the ASA syslog|A rule matched/);
    }
  });
});

describe('unexpected-transition=log (review-odd-server.pcap: a line without a code, 354 to RCPT, a reply nobody asked for)', () => {
  it('each is a logged finding saying there is no ASA syslog line and what to look at; no fix; the line without a code makes what follows uncertain', async () => {
    const r = await runDiagnose(fixture('review-odd-server.pcap'), { policyPath: null, engineOptions: parseEngineOptions(['unexpected-transition=log']) });
    const f = r.sessions[0]!.findings.filter((x) => x.rule === 'unexpected-transition');
    expect(f.map((x) => [x.category, x.severity, x.syslog.length, x.fix])).toEqual([
      ['unexpected-transition', 'logged', 0, null], ['unexpected-transition', 'logged', 0, null], ['unexpected-transition', 'logged', 0, null],
    ]);
    for (const x of f) {
      const all = [x.symptom.summary, ...x.symptom.client, ...x.symptom.server].join(' ');
      expect(all).toContain('no ASA syslog line');
      expect(all).not.toMatch(/see the ASA syslog/);
    }
    expect(f[0]!.symptom.summary).toMatch(/without a 3-digit reply code/);
    expect(f[1]!.symptom.summary).toMatch(/354 \("start mail input"\) to a command other than DATA \(e\.g\. to RCPT\)/);
    expect(f[1]!.symptom.server.join(' ')).toMatch(/look at the server/);
    expect(f[2]!.symptom.summary).toMatch(/reply \(250\) that no command of the client was waiting for/);
    expect(r.sessions[0]!.caveats.map((c) => c.kind)).toContain('server-anomaly');
    expect(f[1]!.uncertain).toMatch(/without a reply code/);
    // the default (note): none of them is a finding, the line without a code stays a caveat
    const d = await runDiagnose(fixture('review-odd-server.pcap'), { policyPath: null });
    expect(d.sessions[0]!.findings.filter((x) => x.rule === 'unexpected-transition')).toEqual([]);
    expect(d.sessions[0]!.caveats.map((c) => c.kind)).toContain('server-anomaly');
  });
});

describe('invalid-recipients and header-line-length with their engine options (review-invalid-rcpt-folded.pcap: RCPTs answered 450, 550, 450, 250; a 1211-byte field folded 610 + 601)', () => {
  const FILE = fixture('review-invalid-rcpt-folded.pcap');
  it('4xx-5xx: the drop is explained with the counting setting, and the raised limit is measured that way and verified', async () => {
    const pol = policyFile('ir.cfg', 'policy-map type inspect esmtp _default_esmtp_map\n match invalid-recipients count gt 1\n  drop-connection log\n');
    const r = await runDiagnose(FILE, { policyPath: pol, engineOptions: parseEngineOptions(['invalid-recipient-replies=4xx-5xx']) });
    const f = r.sessions[0]!.findings.find((x) => x.rule === 'match invalid-recipients count gt 1')!;
    expect([f.category, f.severity, f.action]).toEqual(['invalid-recipients', 'breaks', 'drop-connection']);
    expect(f.symptom.summary).toMatch(/invalid-recipient-replies=4xx-5xx/);
    expect(f.symptom.summary).toMatch(/greylisting/);
    expect(f.fix?.kind).toBe('raise-limit');
    expect(f.fix?.verified).toBe(true);
    // the codes counted: the engine's detail (at the 2nd) and the fix's measure (all 3 in the transaction)
    expect(f.detail).toBe('2 invalid recipients (450, 550)');
    expect(f.symptom.summary).toContain('(2 invalid recipients (450, 550))');
    expect(renderText(r)).toContain('2 invalid recipients (450, 550)');
    const j = reportJson(r) as { sessions: Array<{ findings: Array<{ rule: string; detail: string }> }> };
    expect(j.sessions[0]!.findings.find((x) => x.rule === f.rule)!.detail).toBe('2 invalid recipients (450, 550)');
    expect(f.fix?.summary).toMatch(/reaches 3 recipients refused with 4xx or 5xx in one transaction \(450, 550, 450; invalid-recipient-replies=4xx-5xx\); with 5xx only: 1\)$/);
    expect(invalidRecipientTally(r.sessions[0]!.transcript, { invalidRecipientReplies: '4xx-5xx' })).toEqual({ count: 3, codes: [450, 550, 450] });
    expect(invalidRecipientTally(r.sessions[0]!.transcript, {})).toEqual({ count: 1, codes: [550] });
    // the count itself, on the transcript
    expect(invalidRecipients(r.sessions[0]!.transcript, { invalidRecipientReplies: '4xx-5xx' })).toBe(3);
    expect(invalidRecipients(r.sessions[0]!.transcript, {})).toBe(1);
    // default 5xx: gt 1 is not reached (one 550), nothing to explain
    const d = await runDiagnose(FILE, { policyPath: pol });
    expect(d.sessions[0]!.findings.some((x) => x.category === 'invalid-recipients')).toBe(false);
  });

  it('header-line-length=unfolded: the finding names the unfolded criterion; the fix names the option, the field length and the physical one', async () => {
    const pol = policyFile('hl.cfg', 'policy-map type inspect esmtp _default_esmtp_map\n match header line length gt 998\n  drop-connection log\n');
    const r = await runDiagnose(FILE, { policyPath: pol, engineOptions: parseEngineOptions(['header-line-length=unfolded']) });
    const f = r.sessions[0]!.findings.find((x) => x.category === 'header-line-length')!;
    expect(f.symptom.summary).toMatch(/^A header field longer than the limit when unfolded/);
    expect(f.symptom.summary).toMatch(/header-line-length=unfolded counts a folded field's lines together/);
    expect(f.fix?.kind).toBe('raise-limit');
    expect(f.fix?.verified).toBe(true);
    expect(f.fix?.summary).toMatch(/to gt 5000 .*reaches 1211 as the longest header field unfolded, header-line-length=unfolded .*physical header line, which the default header-line-length=physical measures, is 610/);
    // physical (default): no line is over 998
    const d = await runDiagnose(FILE, { policyPath: pol });
    expect(d.sessions[0]!.findings.some((x) => x.category === 'header-line-length')).toBe(false);
  });
});

describe('"this capture reaches N" is the capture\'s maximum (review-two-header-sessions.pcap: session 1 has a 1101-byte header line, session 2 a field folded into 30 lines, 1207 unfolded, longest line 47)', () => {
  const FILE = fixture('review-two-header-sessions.pcap');
  const hlPolicy = (gt: number) => policyFile(`hl-${gt}.cfg`, `policy-map type inspect esmtp _default_esmtp_map\n match header line length gt ${gt}\n  drop-connection log\n`);
  const fixes = (r: Awaited<ReturnType<typeof runDiagnose>>) => r.sessions.map((s) => s.findings.find((x) => x.category === 'header-line-length')?.fix ?? null);
  it('unfolded: both sessions break, and their one fix names the longest field (1207, session 2) and the longest physical line (1101, session 1)', async () => {
    const r = await runDiagnose(FILE, { policyPath: hlPolicy(998), engineOptions: parseEngineOptions(['header-line-length=unfolded']) });
    expect(r.sessions).toHaveLength(2);
    const [a, b] = fixes(r);
    expect(a).not.toBeNull();
    expect(b).toBe(a); // one proposal for the map, shared
    expect(a!.summary).toMatch(/to gt 5000 .*this capture reaches 1207 \(session 2\) as the longest header field unfolded, header-line-length=unfolded .*its longest physical header line, which the default header-line-length=physical measures, is 1101 \(session 1\)\)$/);
    expect(a!.verified).toBe(true);
    expect(renderText(r)).not.toMatch(/reaches 1101 as the longest header field/);
  });
  it('physical, a limit both sessions pass over (gt 40): the figure is the longest line of the capture (1101, session 1), the fix the same for session 2 (47)', async () => {
    // a map of its own (merged into the default map, the factory gt 998 would still drop session 1)
    const pol = policyFile('hl-own.cfg', 'policy-map type inspect esmtp HL\n parameters\n  no mask-banner\n match header line length gt 40\n  drop-connection log\npolicy-map global_policy\n class inspection_default\n  no inspect esmtp\n  inspect esmtp HL\n');
    const r = await runDiagnose(FILE, { policyPath: pol });
    const [a, b] = fixes(r);
    expect(b).toBe(a);
    expect(a!.summary).toMatch(/^raise "match header line length gt 40" to gt 5000 \(a copy of HL; this capture reaches 1101 \(session 1\)\)$/);
    expect(a!.verified).toBe(true);
  });
  it('one session in the capture: no session named', async () => {
    const r = await runDiagnose(fixture('review-invalid-rcpt-folded.pcap'), { policyPath: hlPolicy(600) });
    expect(fixes(r)[0]!.summary).toMatch(/this capture reaches 610\)$/);
  });
  it('unfolded, a header block that starts with a continuation line (review-leading-continuation.pcap): the finding gives the line\'s real offset and says so', async () => {
    const r = await runDiagnose(fixture('review-leading-continuation.pcap'), { policyPath: hlPolicy(998), engineOptions: parseEngineOptions(['header-line-length=unfolded']) });
    const f = r.sessions[0]!.findings.find((x) => x.category === 'header-line-length')!;
    expect(f.detail).toMatch(/, field at stream offset \d+ \(the header block starts with a continuation line, no field name before it: measured from that line\)$/);
    expect(f.detail).not.toMatch(/offset -1/);
    expect(f.symptom.summary).toContain(f.detail);
    expect(f.fix?.summary).toMatch(/this capture reaches 1100 as the longest header field unfolded/);
  });
  it('codeList: reply order up to 8, then each code once with how often', () => {
    expect(codeList([450, 550, 450])).toBe('450, 550, 450');
    expect(codeList([...Array(9).fill(550), 450])).toBe('550 x9, 450');
  });
});

describe.skipIf(!haveShared)('drop-connection-rst and time-ranges on the generated corpus', () => {
  it('drop-connection-rst=yes (07c, RCPT #101): both sides see a reset, not a time-out; the syslog stays that of a drop', async () => {
    const rst = await runDiagnose(g('07c-rcpt-101.pcap'), { policyPath: null, engineOptions: parseEngineOptions(['drop-connection-rst=yes']) });
    const def = await runDiagnose(g('07c-rcpt-101.pcap'), { policyPath: null });
    const fr = rst.sessions[0]!.findings.find((x) => x.category === 'cmd-rcpt-count')!;
    const fd = def.sessions[0]!.findings.find((x) => x.category === 'cmd-rcpt-count')!;
    expect(fd.symptom.client[0]).toMatch(/timed out while sending RCPT TO/);
    expect(fr.symptom.client[0]).toMatch(/lost connection with 127\.0\.0\.1 while sending RCPT TO/);
    expect(fr.symptom.summary).toMatch(/drop-connection-rst=yes/);
    expect(fr.symptom.server[0]).toMatch(/lost connection after RCPT/);
    expect(fr.syslog.join('\n')).toMatch(/Dropped connection for|inspector disconnected, dropped packet/);
    expect(fr.syslog).toEqual(fd.syslog);
  });

  it('a time-range decides the class: "inspected because ... not in effect at HH:MM local" and "not inspected because ... in effect", in the ASA clock', async () => {
    const first = await runDiagnose(g('02-ehlo-basic.pcap'), { policyPath: null });
    const start = first.sessions[0]!.transcript.startTimeSec!;
    const two = (n: number) => String(n).padStart(2, '0');
    const utc = new Date(Math.floor(start / 60) * 60_000);
    const h = utc.getUTCHours();
    const hhmm = (offsetH: number) => `${two((h + offsetH + 24) % 24)}:${two(utc.getUTCMinutes())}`;
    const cfg = (from: number, to: number, clock = '') => `${clock}time-range NIGHT\n periodic daily ${two((h + from + 24) % 24)}:00 to ${two((h + to + 24) % 24)}:00\n`
      + 'access-list ESMTP-TR extended deny tcp any any eq smtp time-range NIGHT\naccess-list ESMTP-TR extended permit tcp any any eq smtp\n'
      + 'class-map TR-CLASS\n match access-list ESMTP-TR\npolicy-map global_policy\n class inspection_default\n  no inspect esmtp\n class TR-CLASS\n  inspect esmtp\n';
    // the window starts two hours after the session: skipped, so inspected
    const off = await runDiagnose(g('02-ehlo-basic.pcap'), { policyPath: policyFile('tr-off.cfg', cfg(2, 3)) });
    expect(off.sessions[0]!.inspected).toBe(true);
    expect(off.sessions[0]!.timeRange).toMatch(new RegExp(`^inspected \\(class TR-CLASS\\) because access-list ESMTP-TR line 1 \\(config line 3\\)'s time-range NIGHT was not in effect at ${hhmm(0)} local \\(\\d{4}-\\d\\d-\\d\\d\\), so that entry was skipped; access-list ESMTP-TR line 2 \\(config line 4: permit tcp any any eq smtp\\) permits it`));
    expect(renderText(off)).toContain(off.sessions[0]!.timeRange!);
    // with the ASA clock five hours behind UTC the same window (shifted) is in effect: exempt
    const on = await runDiagnose(g('02-ehlo-basic.pcap'), { policyPath: policyFile('tr-on.cfg', cfg(-5, -4, 'clock timezone EST -5\n')) });
    expect(on.sessions[0]!.inspected).toBe(false);
    expect(on.sessions[0]!.findings).toEqual([]);
    expect(on.sessions[0]!.timeRange).toMatch(new RegExp(`^not inspected \\(exempt\\) because access-list ESMTP-TR line 1 \\(config line 4: deny tcp any any eq smtp time-range NIGHT\\)'s time-range NIGHT was in effect at ${hhmm(-5)} local`));
    expect((reportJson(on) as { sessions: Array<{ timeRange: string | null }> }).sessions[0]!.timeRange).toBe(on.sessions[0]!.timeRange);
    // no time-range in the policy: no such sentence
    expect(first.sessions[0]!.timeRange).toBeNull();
  });
});
