/**
 * The HTML report: self-contained, escaped, and rendered by headless Chromium showing every
 * session and every hit. The report here is built from a real capture's transcript (12: unknown
 * commands) with hand-written verdicts, so it does not depend on the replay.
 */
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GENERATED_DIR, haveShared, haveTool } from '../helpers/shared.js';
import { transcribeCapture } from '../../src/diagnose/transcribe.js';
import { findingsFromVerdicts } from '../../src/diagnose/analyze.js';
import { renderHtml, esc } from '../../src/diagnose/html.js';
import type { DiagnoseReport } from '../../src/diagnose/model.js';
import type { VerdictRecord } from '../../src/output/verdicts.js';
import { runDiagnose } from '../../src/diagnose/run.js';
import { PROJECT_CAPTURES } from '../helpers/shared.js';

function chromiumDom(file: string): string {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'chromium-profile-'));
  try {
    return execFileSync('chromium', [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', `--user-data-dir=${profile}`, '--dump-dom', `file://${file}`,
    ], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
  } finally {
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

function verdict(packet: number, rule: string, action: VerdictRecord['action'], detail: string, dir: 'c2s' | 's2c'): VerdictRecord {
  return { time: '2025-01-01T00:00:00Z', packet, client: '127.0.0.1:40035', server: '127.0.0.1:25', direction: dir, rule, action, syslog: null, detail };
}

async function sampleReport(): Promise<DiagnoseReport> {
  const ts = await transcribeCapture(path.join(GENERATED_DIR, '12-unknown-commands.pcap'));
  const t = ts[0]!;
  // a hostile banner to prove escaping
  t.entries[0]!.text = '220 <script>alert(1)</script> & "x"';
  const findings = findingsFromVerdicts(t, [
    verdict(4, 'mask-banner', 'mask', 'banner', 's2c'),
    verdict(9, 'unknown-command', 'x-substitute', 'XEXCH50', 'c2s'),
    verdict(35, 'unknown-command', 'x-substitute', 'STARTTLS', 'c2s'),
  ]);
  const fix = { id: 'fix-1', kind: 'exempt-gateway' as const, summary: 'exempt 127.0.0.1', config: ['access-list ESMTP-INSPECT extended deny tcp any host 127.0.0.1 eq smtp'], verified: true, verification: 'gone' };
  for (const f of findings) f.fix = fix;
  return {
    input: 'x<y>.pcap', policy: '<default>', firewallDetected: false, evidence: [], servicePolicy: '', recommended: fix, fixes: [fix],
    sessions: [{ id: 1, client: t.client, server: t.server, inspected: true, findings, caveats: [], uncertain: false, transcript: t },
      { id: 2, client: '192.0.2.1:1234', server: '192.0.2.25:25', inspected: true, findings: [], caveats: [], uncertain: false, transcript: { ...t, id: 2, client: '192.0.2.1:1234', server: '192.0.2.25:25', entries: t.entries.slice(0, 3) } }],
    counts: { sessions: 2, affected: 1, broken: 0, findings: findings.length, uncertain: 0 },
  };
}

describe.skipIf(!haveShared)('HTML report', () => {
  it('is self-contained and escapes capture text', async () => {
    const html = renderHtml(await sampleReport());
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain(esc('220 <script>alert(1)</script> & "x"'));
    expect(html).not.toMatch(/\b(src|href)=["']?https?:/i);
    expect(html).not.toMatch(/@import|url\(http/i);
    expect(html).toContain('x&lt;y&gt;.pcap');
  });

  it.skipIf(!haveTool('chromium'))('renders in headless Chromium with every session and hit', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diag-html-'));
    const file = path.join(dir, 'report.html');
    fs.writeFileSync(file, renderHtml(await sampleReport()));
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'chromium-profile-'));
    const dom = execFileSync('chromium', [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', `--user-data-dir=${profile}`, '--dump-dom', `file://${file}`,
    ], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
    // Chromium parsed it into a DOM with both sessions, every hit and the configuration.
    expect(dom).toContain('id="session-1"');
    expect(dom).toContain('id="session-2"');
    expect(dom).toContain('<svg');
    for (const p of [4, 9, 35]) expect(dom).toMatch(new RegExp(`packet <b>${p}</b>`));
    expect(dom).toContain('unknown-command → x-substitute');
    expect(dom).toContain('access-list ESMTP-INSPECT extended deny tcp any host 127.0.0.1 eq smtp');
    // the injected banner stayed text
    expect(dom).not.toContain('<script>alert(1)</script>');
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(profile, { recursive: true, force: true });
  }, 90_000);

  it.skipIf(!haveTool('chromium'))('the real diagnose report of the demo capture renders with every session and every hit', async () => {
    const r = await runDiagnose(path.join(PROJECT_CAPTURES, 'demo', 'capture.pcap'), { policyPath: null });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diag-html-'));
    const file = path.join(dir, 'demo.html');
    fs.writeFileSync(file, renderHtml(r));
    const dom = chromiumDom(file);
    expect(r.sessions.length).toBe(2);
    for (const s of r.sessions) {
      expect(dom).toContain(`id="session-${s.id}"`);
      const section = dom.slice(dom.indexOf(`id="session-${s.id}"`));
      for (const f of s.findings) expect(section).toContain(`packet <b>${f.packet}</b>: <code>${esc(f.rule)}</code>`);
    }
    // ladder arrows: one per transcript entry, highlighted rows for hits
    expect((dom.match(/<line /g) ?? []).length).toBeGreaterThan(r.sessions.reduce((n, s) => n + s.transcript.entries.length, 0));
    expect(dom).toContain('match cmd RCPT count gt 100 → drop-connection');
    expect(dom).toContain('id="config"');
    // session 2's starttls-divergence: a finding, and a caveat shown in the section and the ladder
    const s2 = dom.slice(dom.indexOf('id="session-2"'));
    expect(s2).toContain('packet <b>257</b>: <code>starttls-divergence</code>');
    expect(s2).toContain('<div class="caveat">caveat, packet <b>257</b> <code>starttls-divergence</code>');
    expect(s2).toContain('The findings of this session are uncertain');
    expect(dom).toMatch(/sessions whose findings are uncertain[^<]*<\/td><td>1 \(sessions <a href="#session-2">2<\/a>\)/);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 90_000);
});

describe.skipIf(!haveShared)('the HTML report shows the counters the text report shows', () => {
  it('show service-policy inspect esmtp for the capture and after the recommended fix (07c: RCPT 101)', async () => {
    const r = await runDiagnose(path.join(GENERATED_DIR, '07c-rcpt-101.pcap'), { policyPath: null });
    expect(r.servicePolicy).toMatch(/drop-connection/);
    expect(r.recommended?.servicePolicy ?? '').not.toBe('');
    const html = renderHtml(r);
    // before, only the text and --json reports carried them
    expect(html).toContain(`<pre>${esc(r.servicePolicy.trimEnd())}</pre>`);
    expect(html).toContain(`<pre>${esc(r.recommended!.servicePolicy!.trimEnd())}</pre>`);
    expect(html).toContain('show service-policy inspect esmtp after the fix');
  });
});
