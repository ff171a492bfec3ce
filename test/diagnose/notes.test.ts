/**
 * diagnose's use of the engine's and pipeline's `note` verdicts: divergences become findings,
 * gaps / end of capture become caveats that make a session's findings uncertain, the connection
 * log and per-hole gap records are left out. Real bytes: the project's regress captures (06 has an
 * x-divergence, 16c snaplen gaps, 04 a starttls-divergence) and generated captures cut with
 * editcap (a missing segment, a capture that stops mid-session).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GENERATED_DIR, PROJECT_CAPTURES, REPO_ROOT, haveShared, haveTool } from '../helpers/shared.js';
import { runDiagnose } from '../../src/diagnose/run.js';
import { reportJson, type DiagnoseReport } from '../../src/diagnose/model.js';
import { renderText } from '../../src/diagnose/text.js';
import { renderHtml } from '../../src/diagnose/html.js';
import { caveatFromNote, keptForDiagnose, noteUse } from '../../src/diagnose/notes.js';
import type { VerdictRecord } from '../../src/output/verdicts.js';

const cap = (name: string) => path.join(PROJECT_CAPTURES, name, 'capture.pcap');
const haveCaptures = fs.existsSync(path.join(PROJECT_CAPTURES, '06-bdat-chunking', 'capture.pcap'));

function expectedNotes(): VerdictRecord[] {
  const out: VerdictRecord[] = [];
  for (const d of fs.readdirSync(PROJECT_CAPTURES)) {
    const f = path.join(PROJECT_CAPTURES, d, 'expected.verdicts.jsonl');
    if (!fs.existsSync(f)) continue;
    for (const line of fs.readFileSync(f, 'utf8').split('\n')) {
      if (!line) continue;
      const v = JSON.parse(line) as VerdictRecord;
      if (v.action === 'note') out.push(v);
    }
  }
  return out;
}

describe('every note kind the engine and pipeline write has a decided use', () => {
  it('the note rules written in src/inspect and src/pipeline are all named in notes.ts (none falls to the generic default)', () => {
    const session = fs.readFileSync(path.join(REPO_ROOT, 'src/inspect/esmtp/session.ts'), 'utf8');
    const pipeline = fs.readFileSync(path.join(REPO_ROOT, 'src/pipeline/inspection-pipeline.ts'), 'utf8');
    const rules = new Set<string>();
    for (const m of session.matchAll(/rule: '([a-z0-9-]+)', action: 'note'/g)) rules.add(m[1]!);
    for (const m of session.matchAll(/this\.note\(\d, [^,]+, '([a-z0-9-]+)'/g)) rules.add(m[1]!);
    for (const m of pipeline.matchAll(/'([a-z0-9-]+)', 'note'/g)) rules.add(m[1]!);
    // the scan itself still finds the known ones (a rewrite of the sources must not blind it)
    expect([...rules]).toEqual(expect.arrayContaining(['connection', 'gap', 'pipelining-limit', 'server-anomaly', 'starttls-divergence', 'tcp-gap', 'x-divergence']));
    const src = fs.readFileSync(path.join(REPO_ROOT, 'src/diagnose/notes.ts'), 'utf8');
    for (const r of rules) expect(src, r).toContain(`case '${r}':`);
  });

  it('classifies each kind: findings, caveats, and the ones left out on purpose', () => {
    const n = (rule: string, detail = ''): Pick<VerdictRecord, 'rule' | 'action' | 'detail'> => ({ rule, action: 'note', detail });
    expect(noteUse(n('x-divergence'))).toBe('finding');
    expect(noteUse(n('starttls-divergence'))).toBe('finding');
    expect(noteUse(n('gap'))).toBe('caveat');
    expect(noteUse(n('pipelining-limit'))).toBe('caveat');
    expect(noteUse(n('server-anomaly'))).toBe('caveat');
    expect(noteUse(n('connection', 'still open at the end of the capture (no teardown logged)'))).toBe('caveat');
    expect(noteUse(n('connection', 'built: inspected by class inspection_default'))).toBe('ignore');
    expect(noteUse(n('connection', 'teardown: TCP FINs'))).toBe('ignore');
    expect(noteUse(n('tcp-gap', 'gap: 20 byte(s) of s2c never seen at stream offset 30'))).toBe('ignore');
    expect(noteUse(n('match cmd verb NOOP', 'NOOP; the match line has no action (none)'))).toBe('ignore');
    expect(noteUse(n('something-new', 'x'))).toBe('caveat');
    // the replay's bookkeeping stays out, inspection verdicts stay in
    expect(keptForDiagnose({ rule: 'match cmd RCPT count gt 100', action: 'drop', detail: '' })).toBe(false);
    expect(keptForDiagnose({ rule: 'match cmd RCPT count gt 100', action: 'drop-connection', detail: '' })).toBe(true);
    expect(keptForDiagnose({ rule: 'tcp-gap', action: 'note', detail: '' })).toBe(false);
  });

  it.skipIf(!haveCaptures)('the notes in the regress expectations are all understood (no generic caveat)', () => {
    const notes = expectedNotes();
    expect(notes.length).toBeGreaterThan(50);
    for (const v of notes) {
      const use = noteUse(v);
      if (use === 'ignore') continue;
      const c = caveatFromNote(v);
      expect(c?.kind, `${v.rule}: ${v.detail}`).not.toBe('other-note');
    }
  });
});

function session1(r: DiagnoseReport) {
  expect(r.sessions).toHaveLength(1);
  return r.sessions[0]!;
}

describe.skipIf(!haveCaptures)('diagnose on the project captures with notes', () => {
  it('06-bdat-chunking: the x-divergence is a finding (250 where the ASA makes it 5xx), and findings after it are uncertain', async () => {
    const r = await runDiagnose(cap('06-bdat-chunking'), { policyPath: null });
    const s = session1(r);
    const div = s.findings.find((f) => f.rule === 'x-divergence')!;
    expect(div).toMatchObject({ packet: 14, action: 'note', category: 'x-divergence', severity: 'degrades', direction: 'server-to-client', source: 'emulation', uncertain: null });
    expect(div.symptom.summary).toMatch(/answered 250 in this capture/);
    expect(div.symptom.client.join('\n')).toMatch(/500 5\.5\.2 Error: command not recognized/);
    expect(div.fix).toMatchObject({ kind: 'exempt-gateway', verified: true });
    expect(s.caveats).toEqual([expect.objectContaining({ packet: 14, kind: 'x-divergence', uncertainFrom: 15, source: 'emulation' })]);
    expect(s.uncertain).toBe(true);
    // BDATs X'd before the divergence are certain, the ones after it are not
    const xs = s.findings.filter((f) => f.action === 'x-substitute');
    expect(xs.map((f) => [f.packet, f.uncertain !== null])).toEqual([[13, false], [15, true], [17, true], [23, true], [25, true]]);
    expect(xs[1]!.uncertain).toMatch(/after packet 14, where this capture leaves the path the ASA allows/);
    expect(r.counts.uncertain).toBe(1);

    const text = renderText(r);
    expect(text).toContain('Findings uncertain in 1 session(s) (1)');
    expect(text).toMatch(/Session 1: 127\.0\.0\.1:40008 -> 127\.0\.0\.1:25 {2}\(findings uncertain\)\n {2}caveat, packet 14: after packet 14 the capture follows a dialogue the ASA would not allow/);
    expect(text).toMatch(/packet 14: x-divergence -> note \[degrades\]/);
    expect(text).toMatch(/packet 15: unknown-command -> x-substitute[^\n]*\n(?: {4}[^\n]*\n)* {4}uncertain: after packet 14/);

    const j = JSON.parse(JSON.stringify(reportJson(r))) as {
      counts: { uncertain: number };
      sessions: Array<{ uncertain: boolean; caveats: Array<Record<string, unknown>>; findings: Array<Record<string, unknown>> }>;
    };
    expect(j.counts.uncertain).toBe(1);
    expect(j.sessions[0]!.uncertain).toBe(true);
    expect(j.sessions[0]!.caveats[0]).toMatchObject({ packet: 14, kind: 'x-divergence', uncertainFrom: 15 });
    expect(j.sessions[0]!.findings.find((f) => f.rule === 'x-divergence')).toMatchObject({ packet: 14, action: 'note', uncertain: null });
    expect(j.sessions[0]!.findings.find((f) => f.packet === 15)!.uncertain).toMatch(/x-divergence/);

    const html = renderHtml(r);
    expect(html).toContain('<div class="caveat">caveat, packet <b>14</b> <code>x-divergence</code>');
    expect(html).toMatch(/<div class="unc">Uncertain: after packet 14/);
    expect(html).toMatch(/sessions whose findings are uncertain[^<]*<\/td><td>1 \(sessions <a href="#session-1">1<\/a>\)/);
  });

  it('16c-large-8mib-snaplen96: every gap episode is a caveat saying the bytes were cut by the snaplen; the session is uncertain', async () => {
    const r = await runDiagnose(cap('16c-large-8mib-snaplen96'), { policyPath: null });
    const s = session1(r);
    expect(s.caveats.map((c) => [c.packet, c.kind, c.uncertainFrom])).toEqual([[4, 'gap', 4], [8, 'gap', 8], [14, 'gap', 14], [266, 'gap', 266]]);
    for (const c of s.caveats) expect(c.text).toMatch(/cut by the capture's snaplen \(capture again with snaplen 0/);
    // the message body is mostly missing: a header/body limit could have hit there unseen
    expect(s.caveats[3]!.text).toMatch(/^8488679 byte\(s\) in 168 gap\(s\) \(client stream offsets 122-8493774, server stream offsets 336-343\)/);
    expect(s.caveats[3]!.text).toMatch(/a rule may have hit in them unseen/);
    expect(s.uncertain).toBe(true);
    const banner = s.findings.find((f) => f.rule === 'mask-banner')!;
    expect(banner.uncertain).toMatch(/gap in the capture \(packet 4\)/);
    const text = renderText(r);
    expect(text).toContain('Findings uncertain in 1 session(s) (1)');
    expect(text).toMatch(/caveat, packet 266: 8488679 byte\(s\)/);
    // the per-hole tcp-gap records (178 of them) are not repeated as caveats
    expect(text.match(/caveat, packet/g)).toHaveLength(4);
  });

  it('04-starttls: the starttls-divergence is a finding whose fix (allow-tls) is verified, and the TLS after it is a caveat', async () => {
    const r = await runDiagnose(cap('04-starttls'), { policyPath: null });
    const s = session1(r);
    const div = s.findings.find((f) => f.rule === 'starttls-divergence')!;
    expect(div).toMatchObject({ packet: 10, category: 'starttls-divergence', severity: 'degrades' });
    expect(div.symptom.client.join('\n')).toMatch(/5xx reply to STARTTLS/);
    expect(div.fix).toMatchObject({ kind: 'allow-tls', verified: true });
    expect(s.caveats).toEqual([expect.objectContaining({ packet: 10, kind: 'starttls-divergence', uncertainFrom: 11 })]);
  });

  it('sessions without notes that matter have no caveats (02-ehlo-basic, 07c-rcpt-101)', async () => {
    for (const c of ['02-ehlo-basic', '07c-rcpt-101']) {
      const r = await runDiagnose(cap(c), { policyPath: null });
      expect(r.sessions[0]!.caveats, c).toEqual([]);
      expect(r.sessions[0]!.uncertain, c).toBe(false);
      expect(r.counts.uncertain, c).toBe(0);
      expect(r.sessions[0]!.findings.every((f) => f.uncertain === null), c).toBe(true);
      expect(renderText(r), c).not.toMatch(/uncertain|caveat/);
    }
  });
});

describe.skipIf(!haveShared || !haveTool('editcap'))('diagnose on generated captures cut with editcap', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diag-notes-'));
  const hole = path.join(dir, '07c-without-rcpt51.pcap');
  const ended = path.join(dir, '02-first-9.pcap');
  const hole2525 = path.join(dir, '19-without-9.pcap');
  const midstream = path.join(dir, '02-from-mail.pcap');
  beforeAll(() => {
    // frame 111 is RCPT TO:<rcpt051@example.test> (tshark); 02's frame 9 is the client's MAIL FROM after EHLO
    execFileSync('editcap', [path.join(GENERATED_DIR, '07c-rcpt-101.pcap'), hole, '111']);
    execFileSync('editcap', ['-r', path.join(GENERATED_DIR, '02-ehlo-basic.pcap'), ended, '1-9']);
    execFileSync('editcap', [path.join(GENERATED_DIR, '19-port2525-control.pcap'), hole2525, '9']);
    // 02 from the client's MAIL FROM on: no handshake, no greeting, no EHLO
    execFileSync('editcap', [path.join(GENERATED_DIR, '02-ehlo-basic.pcap'), midstream, '1-8']);
    // editcap has been seen writing an empty file under load: say so rather than fail obscurely
    for (const f of [hole, ended, hole2525, midstream]) expect(fs.statSync(f).size, `editcap output ${f}`).toBeGreaterThan(200);
  });

  it('a missing RCPT segment: the 101st-recipient drop is no longer seen, and diagnose says the session is uncertain because of the gap', async () => {
    const whole = await runDiagnose(path.join(GENERATED_DIR, '07c-rcpt-101.pcap'), { policyPath: null });
    expect(whole.sessions[0]!.findings.some((f) => f.severity === 'breaks')).toBe(true);
    const r = await runDiagnose(hole, { policyPath: null });
    const s = session1(r);
    expect(s.findings.some((f) => f.severity === 'breaks')).toBe(false);
    expect(s.uncertain).toBe(true);
    const gap = s.caveats.find((c) => c.kind === 'gap')!;
    // The server's reply acknowledging the lost RCPT waits in reassembly until the RCPT is known
    // lost (the client's next RCPT), so the engine gets the gap before that reply, as if it had
    // been known at the moment of loss, and resynchronises at the reply itself.
    expect(gap.text).toMatch(/^32 byte\(s\) in 1 gap\(s\) \(client stream offsets 1658-1690\) never captured/);
    expect(gap.text).toMatch(/a rule may have hit in them unseen/);
    expect(gap.packet).toBeGreaterThan(100);
    expect(gap.packet).toBeLessThan(112);
    expect(renderText(r)).toContain('Findings uncertain in 1 session(s) (1)');
  });

  it('a capture that starts mid-session: a caveat says the start was not seen, and no reply is taken for the banner', async () => {
    const r = await runDiagnose(midstream, { policyPath: null });
    const s = session1(r);
    expect(s.caveats.some((c) => /starts in the middle of this session/.test(c.text))).toBe(true);
    expect(s.findings.some((f) => /mask-banner/.test(f.rule))).toBe(false);
    expect(s.findings.some((f) => f.action === 'x-substitute')).toBe(false);
  });

  it('a capture that stops mid-session: the connection still open at the end is a caveat at its last packet', async () => {
    const r = await runDiagnose(ended, { policyPath: null });
    const s = session1(r);
    expect(s.caveats).toEqual([expect.objectContaining({ packet: 9, kind: 'capture-ended', uncertainFrom: null, source: 'emulation' })]);
    expect(s.uncertain).toBe(true);
    // findings before the end are not themselves in doubt
    expect(s.findings.length).toBeGreaterThan(0);
    expect(s.findings.every((f) => f.uncertain === null)).toBe(true);
    expect(renderText(r)).toMatch(/caveat, packet 9: the capture ends while this connection is still open/);
  });

  it('a session not inspected (port 2525) with a missing segment: the caveat comes from the capture\'s own transcript', async () => {
    const r = await runDiagnose(hole2525, { policyPath: null });
    const s = session1(r);
    expect(s.inspected).toBe(false);
    expect(s.findings).toEqual([]);
    // The lost reply is known missing at the server's next packet; the client's packet 9, which
    // acknowledged it, waits for that and follows the gap: the gap is after packet 8.
    expect(s.caveats).toEqual([expect.objectContaining({ kind: 'capture-gap', packet: 8, uncertainFrom: 8, source: 'capture' })]);
    expect(s.caveats[0]!.text).toMatch(/^32 byte\(s\) of this session are missing from the capture \(1 gap\(s\), the first after packet 8\)/);
    expect(renderText(r)).toMatch(/nothing found in what the capture shows \(see the caveats\)/);
  });
});
