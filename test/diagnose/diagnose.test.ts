/**
 * diagnose on the generated scenarios (real Postfix/swaks sessions): the rule, the packet (checked
 * against tshark's frame numbers), the symptom wording and a fix that is verified by replaying the
 * capture with the fixed policy; and captures taken "behind" our own emulated ASA are recognised.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GENERATED_DIR, haveShared } from '../helpers/shared.js';
import { runDiagnose } from '../../src/diagnose/run.js';
import { replayInMemory } from '../../src/regress/replay-run.js';
import { compilePolicyText } from '../../src/policy/load.js';
import type { DiagnoseReport, Finding } from '../../src/diagnose/model.js';
import { makeBehind } from './behind.js';
import { parseEngineOptions } from '../../src/inspect/options.js';

const g = (f: string) => path.join(GENERATED_DIR, f);

function breaking(r: DiagnoseReport): Finding[] {
  return r.sessions.flatMap((s) => s.findings).filter((f) => f.severity === 'breaks');
}

// Packets from tshark: e.g. `tshark -r 07c-rcpt-101.pcap -Y 'smtp.req.command == "RCPT"'` -> 101st is frame 211.
// reaches: the value the capture needs, measured as the engine measures it (lines without CR LF; MANIFEST.tsv).
const DROPS: Array<{ file: string; rule: string; packet: number; client: RegExp; server: RegExp; raisedTo: RegExp; reaches: number }> = [
  { file: '07a-rcpt-120.pcap', rule: 'match cmd RCPT count gt 100', packet: 211, client: /timed out while sending RCPT TO/, server: /timeout after RCPT/, raisedTo: /match cmd RCPT count gt 500/, reaches: 120 },
  { file: '07c-rcpt-101.pcap', rule: 'match cmd RCPT count gt 100', packet: 211, client: /timed out while sending RCPT TO/, server: /timeout after RCPT/, raisedTo: /match cmd RCPT count gt 500/, reaches: 101 },
  { file: '08a-header-line-1500.pcap', rule: 'match header line length gt 998', packet: 15, client: /timed out while sending message body/, server: /timeout after DATA/, raisedTo: /match header line length gt 5000/, reaches: 1500 },
  // server: Postfix smtpd's "timeout after X" names the last command it received: the dropped
  // packet carried the MAIL FROM (10a) / the EHLO (13a), so the server last saw EHLO / nothing (CONNECT)
  { file: '10a-sender-340.pcap', rule: 'match sender-address length gt 320', packet: 9, client: /timed out while sending MAIL FROM/, server: /timeout after EHLO from 127\.0\.0\.1" \(then "lost connection after EHLO"\)/, raisedTo: /match sender-address length gt 1000/, reaches: 340 },
  { file: '11a-mime-filename-300.pcap', rule: 'match MIME filename length gt 255', packet: 15, client: /timed out while sending message body/, server: /timeout after DATA/, raisedTo: /match MIME filename length gt 1000/, reaches: 300 },
  { file: '13a-cmdline-ehlo-600.pcap', rule: 'match cmd line length gt 512', packet: 6, client: /timed out while performing the EHLO handshake/, server: /timeout after CONNECT from/, raisedTo: /match cmd line length gt 2000/, reaches: 600 },
];

describe.skipIf(!haveShared)('diagnose on the generated scenarios', () => {
  for (const d of DROPS) {
    it(`${d.file}: ${d.rule} drops the connection at packet ${d.packet}; the raised limit is verified`, async () => {
      const r = await runDiagnose(g(d.file), { policyPath: null });
      const [f, ...more] = breaking(r);
      expect(more).toEqual([]);
      expect(f).toMatchObject({ rule: d.rule, packet: d.packet, action: 'drop-connection', source: 'emulation' });
      expect(f!.symptom.client.join('\n')).toMatch(d.client);
      expect(f!.symptom.client.join('\n')).toMatch(/Cisco ESA \(delivering\)/);
      expect(f!.symptom.server.join('\n')).toMatch(d.server);
      expect(f!.symptom.server.join('\n')).toMatch(/Receiving aborted ICID/);
      expect(f!.syslog.join('\n')).toMatch(/%ASA-4-108004: ESMTP Classification: Dropped connection/);
      expect(f!.fix).toMatchObject({ kind: 'raise-limit', verified: true });
      expect(f!.fix!.config.join('\n')).toMatch(d.raisedTo);
      expect(f!.fix!.summary).toContain(`this capture reaches ${d.reaches})`);
      expect(f!.fix!.config).toContain('  inspect esmtp ESMTP-DIAG-MAP');
      // the recommended fix is the seed article's exemption, verified as well
      expect(r.recommended).toMatchObject({ kind: 'exempt-gateway', verified: true });
      expect(r.recommended!.config).toEqual([
        'access-list ESMTP-INSPECT extended deny tcp any host 127.0.0.1 eq smtp',
        'access-list ESMTP-INSPECT extended deny tcp host 127.0.0.1 any eq smtp',
        'access-list ESMTP-INSPECT extended permit tcp any any eq smtp',
        'class-map ESMTP-CLASS',
        ' match access-list ESMTP-INSPECT',
        'policy-map global_policy',
        ' class inspection_default',
        '  no inspect esmtp',
        ' class ESMTP-CLASS',
        '  inspect esmtp',
      ]);
      expect(r.firewallDetected).toBe(false);
    });
  }

  it('the fix really removes the breakage when re-run independently', async () => {
    const r = await runDiagnose(g('07c-rcpt-101.pcap'), { policyPath: null });
    const fix = breaking(r)[0]!.fix!;
    const before = await replayInMemory(g('07c-rcpt-101.pcap'), compilePolicyText('', 'default'));
    const after = await replayInMemory(g('07c-rcpt-101.pcap'), compilePolicyText(fix.config.join('\n'), 'fixed'));
    expect(before.summary.packets.dropped).toBeGreaterThan(0);
    expect(after.summary.packets.dropped).toBe(0);
    expect(after.verdicts.some((v) => v.action === 'drop-connection')).toBe(false);
    const exempt = await replayInMemory(g('07c-rcpt-101.pcap'), compilePolicyText(r.recommended!.config.join('\n'), 'exempt'));
    expect(exempt.summary.connections).toMatchObject({ inspected: 0, exempted: 1 });
  });

  it('boundary scenarios break nothing', async () => {
    for (const f of ['07b-rcpt-100.pcap', '08b-header-line-998.pcap', '10b-sender-320.pcap', '11b-mime-filename-255.pcap', '13b-cmdline-ehlo-510.pcap']) {
      const r = await runDiagnose(g(f), { policyPath: null });
      expect(breaking(r), f).toEqual([]);
    }
  });

  it('12-unknown-commands: every unknown verb is X\'d, with the 500 wording, the ESA bad-command limit and the exemption verified', async () => {
    const r = await runDiagnose(g('12-unknown-commands.pcap'), { policyPath: null });
    const xs = r.sessions[0]!.findings.filter((f) => f.action === 'x-substitute');
    // XEXCH50 VERB ONEX ATRN TURN XCLIENT XFORWARD XUSR XAUTH WIZ DEBUG X-UNKNOWN-VERB at frames 9..31, then STARTTLS (35)
    expect(xs.map((f) => f.packet).slice(0, 13)).toEqual([9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31, 35]);
    const f = xs[0]!;
    expect(f.symptom.server.join('\n')).toMatch(/500 5\.5\.2 Error: command not recognized/);
    expect(f.symptom.server.join('\n')).toMatch(/421 Exceeded bad SMTP command limit/);
    expect(f.fix).toMatchObject({ kind: 'exempt-gateway', verified: true });
  });

  it('02-ehlo-basic: STARTTLS masked; allow-tls is proposed and verified', async () => {
    const r = await runDiagnose(g('02-ehlo-basic.pcap'), { policyPath: null });
    const tls = r.sessions[0]!.findings.find((f) => f.category === 'starttls-masked')!;
    expect(tls.packet).toBe(8);
    expect(tls.symptom.client.join('\n')).toMatch(/falls back to plaintext because STARTTLS is not offered/);
    expect(tls.fix).toMatchObject({ kind: 'allow-tls', verified: true });
    expect(tls.fix!.config).toContain('  allow-tls action log');
    const banner = r.sessions[0]!.findings.find((f) => f.category === 'mask-banner')!;
    expect(banner).toMatchObject({ packet: 4, severity: 'cosmetic' });
  });

  it('09a-body-line-1500: only logged, no fix needed', async () => {
    const r = await runDiagnose(g('09a-body-line-1500.pcap'), { policyPath: null });
    const f = r.sessions[0]!.findings.find((x) => x.category === 'body-line-length')!;
    expect(f).toMatchObject({ action: 'log', severity: 'logged', fix: null });
  });

  it('19-port2525-control: not inspected, nothing to fix', async () => {
    const r = await runDiagnose(g('19-port2525-control.pcap'), { policyPath: null });
    expect(r.sessions.flatMap((s) => s.findings)).toEqual([]);
    expect(r.recommended).toBe(null);
  });

  it('with a policy that already exempts the gateway, nothing is found', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diag-pol-'));
    const pol = path.join(dir, 'policy.txt');
    fs.writeFileSync(pol, [
      'access-list ESMTP-INSPECT extended deny tcp any host 127.0.0.1 eq smtp',
      'access-list ESMTP-INSPECT extended permit tcp any any eq smtp',
      'class-map ESMTP-CLASS', ' match access-list ESMTP-INSPECT',
      'policy-map global_policy', ' class inspection_default', '  no inspect esmtp', ' class ESMTP-CLASS', '  inspect esmtp', '',
    ].join('\n'));
    const r = await runDiagnose(g('07c-rcpt-101.pcap'), { policyPath: pol });
    expect(r.sessions[0]!.inspected).toBe(false);
    expect(r.sessions[0]!.findings).toEqual([]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe.skipIf(!haveShared)('the value a capture reaches follows length-counts-crlf', () => {
  it('13a (EHLO line of 600 bytes without CR LF): 602 when the engine counts CR LF', async () => {
    const r = await runDiagnose(g('13a-cmdline-ehlo-600.pcap'), { policyPath: null, engineOptions: parseEngineOptions(['length-counts-crlf=yes']) });
    const [f] = breaking(r);
    expect(f!.fix!.summary).toContain('this capture reaches 602)');
  });
});

describe.skipIf(!haveShared)('captures taken behind a masking firewall', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'behind-'));
  const behind = (f: string) => path.join(dir, f);
  beforeAll(async () => {
    for (const f of ['02-ehlo-basic.pcap', '07c-rcpt-101.pcap', '08a-header-line-1500.pcap', '12-unknown-commands.pcap']) await makeBehind(g(f), behind(f));
  });

  it('02 behind: masked banner and XXXXXXXA, with their packets', async () => {
    const r = await runDiagnose(behind('02-ehlo-basic.pcap'), { policyPath: null });
    expect(r.firewallDetected).toBe(true);
    const kinds = r.evidence.map((e) => `${e.kind}@${e.packet}`);
    expect(kinds).toContain('masked-banner@4');
    expect(kinds).toContain('starttls-masked@8');
    const cap = r.sessions[0]!.findings.filter((f) => f.source === 'capture');
    expect(cap.map((f) => f.rule)).toEqual(expect.arrayContaining(['mask-banner', 'no allow-tls']));
    expect(cap[0]!.fix).toMatchObject({ kind: 'exempt-gateway', verified: null });
    // our emulation re-masking the already masked bytes is not reported twice
    expect(r.sessions[0]!.findings.filter((f) => f.source === 'emulation' && (f.packet === 4 || f.packet === 8))).toEqual([]);
    expect(r.recommended).toMatchObject({ kind: 'exempt-gateway', verified: null });
  });

  it('12 behind: X\'d verbs answered 500 are evidence (command packet + reply packet)', async () => {
    const r = await runDiagnose(behind('12-unknown-commands.pcap'), { policyPath: null });
    expect(r.firewallDetected).toBe(true);
    const xs = r.evidence.filter((e) => e.kind === 'x-verb-rejected');
    expect(xs.length).toBeGreaterThanOrEqual(10);
    expect(xs[0]).toMatchObject({ packet: 9, related: [10] });
    expect(xs[0]!.shows).toMatch(/XXXXXXXXXXXXXX.*500 5\.5\.2/);
  });

  it('07c behind: the session dies after 100 accepted recipients', async () => {
    const r = await runDiagnose(behind('07c-rcpt-101.pcap'), { policyPath: null });
    expect(r.firewallDetected).toBe(true);
    const e = r.evidence.find((x) => x.kind === 'died-after-rcpt-limit')!;
    expect(e).toBeDefined();
    expect(e.rule).toBe('match cmd RCPT count gt 100');
    // the 100th RCPT's 250 reply is the last packet of the session (frame 210 in the original)
    expect(e.packet).toBe(210);
    const f = r.sessions[0]!.findings.find((x) => x.source === 'capture' && x.action === 'drop-connection')!;
    expect(f.symptom.server.join('\n')).toMatch(/Receiving aborted/);
  });

  it('08a behind: the session dies after 354 (the packet with the long header is gone): weak but reported with the strong ones', async () => {
    const r = await runDiagnose(behind('08a-header-line-1500.pcap'), { policyPath: null });
    expect(r.firewallDetected).toBe(true);
    const e = r.evidence.find((x) => x.kind === 'died-mid-data')!;
    expect(e).toMatchObject({ strong: false, rule: 'match header line length gt 998' });
  });

  it('the original captures are not mistaken for captures behind a firewall', async () => {
    for (const f of ['02-ehlo-basic.pcap', '07c-rcpt-101.pcap', '12-unknown-commands.pcap']) {
      const r = await runDiagnose(g(f), { policyPath: null });
      expect(r.firewallDetected, f).toBe(false);
      expect(r.evidence, f).toEqual([]);
    }
  });
});

describe.skipIf(!haveShared)('diagnose --json shape', () => {
  it('one object: sessions with client, server, findings (packet, rule, action, symptom, fix), firewallDetected, evidence', async () => {
    const { reportJson } = await import('../../src/diagnose/model.js');
    const r = await runDiagnose(g('07c-rcpt-101.pcap'), { policyPath: null });
    const j = JSON.parse(JSON.stringify(reportJson(r))) as {
      sessions: Array<{ client: string; server: string; findings: Array<Record<string, unknown>> }>;
      firewallDetected: boolean;
      evidence: unknown[];
    };
    expect(Object.keys(j)).toEqual(expect.arrayContaining(['sessions', 'firewallDetected', 'evidence']));
    expect(j.sessions[0]).toMatchObject({ client: '127.0.0.1:40012', server: '127.0.0.1:25' });
    const drop = j.sessions[0]!.findings.find((f) => f.action === 'drop-connection')!;
    expect(Object.keys(drop)).toEqual(expect.arrayContaining(['packet', 'rule', 'action', 'symptom', 'fix']));
    expect(drop).toMatchObject({ packet: 211, rule: 'match cmd RCPT count gt 100', fix: { verified: true } });
    expect(j.firewallDetected).toBe(false);
    expect(j.evidence).toEqual([]);
  });
});
