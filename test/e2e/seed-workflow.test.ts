/**
 * The seed article's story end to end, as an admin runs it: mail through the ASA fails
 * intermittently; `info` and `flows` on the capture, `diagnose --policy running-config` names the
 * broken sessions, the rules and packets, prints the `show service-policy inspect esmtp` counters
 * and proposes exempting the mail gateway; the proposed lines are appended to the configuration as
 * pasted; `policy check` accepts it; `replay --check` with it leaves the gateway's sessions alone
 * and still inspects the others; and the result becomes a `regress` case. Each step's claims are
 * checked against the bytes (tshark where present) and against the other steps' outputs.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI_MAIN, ensureBuiltCli } from '../helpers/built-cli.js';
import { haveTool, tshark } from '../helpers/shared.js';

const FIX = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const CAPTURE = path.join(FIX, 'mail-site.pcap');
const RUNNING = path.join(FIX, 'running-config.txt');
const GATEWAY = '192.168.20.25';

function cli(...args: string[]) {
  return spawnSync(process.execPath, [CLI_MAIN, ...args], { encoding: 'utf8', maxBuffer: 32 << 20 });
}

interface Finding { packet: number; rule: string; action: string; severity: string }
interface Report {
  sessions: { id: number; client: string; server: string; findings: Finding[] }[];
  servicePolicy: string;
  recommended: { kind: string; summary: string; config: string[]; verified: boolean; servicePolicy?: string } | null;
}
interface Verdict { packet: number; client: string; server: string; rule: string; action: string; syslog: string | null }

function verdicts(file: string): Verdict[] {
  return fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Verdict);
}

describe('seed workflow: diagnose -> paste the fix -> policy check -> replay -> regress', () => {
  let tmp = '';
  let report: Report;
  beforeAll(() => {
    expect(ensureBuiltCli()).toBe(true);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'seed-workflow-'));
    const d = cli('diagnose', CAPTURE, '--policy', RUNNING, '--json');
    expect(d.status, d.stderr).toBe(1); // broken sessions found
    report = JSON.parse(d.stdout) as Report;
  });

  it('info and flows see the three SMTP connections', () => {
    const info = cli('info', CAPTURE);
    expect(info.status, info.stderr).toBe(0);
    expect(info.stdout).toMatch(/TCP connections:\s+3\b/);
    const flows = cli('flows', CAPTURE);
    expect(flows.status, flows.stderr).toBe(0);
    expect(flows.stdout).toContain(`198.51.100.7:40015 -> ${GATEWAY}:25`);
    expect(flows.stdout).toContain(`${GATEWAY}:40025 -> 203.0.113.50:25`);
    expect(flows.stdout).toContain('10.1.1.50:40002 -> 203.0.113.60:25');
  });

  it('diagnose names the broken sessions, their rules and packets, and the counters', () => {
    const breaks = report.sessions.map((s) => s.findings.filter((f) => f.severity === 'breaks').map((f) => [f.packet, f.rule]));
    expect(breaks).toEqual([[[15, 'match header line length gt 998']], [[30, 'match sender-address length gt 320']], []]);
    // the counters an admin compares with the firewall's own `show service-policy inspect esmtp`
    expect(report.servicePolicy).toContain('Class-map: inspection_default');
    expect(report.servicePolicy).toMatch(/Inspect: esmtp SITE-ESMTP, packet 63,/);
    expect(report.servicePolicy).toMatch(/match header line length gt 998\n\s+drop-connection log, packet 1\n/);
    expect(report.servicePolicy).toMatch(/match sender-address length gt 320\n\s+drop-connection log, packet 1\n/);
    expect(report.servicePolicy).toMatch(/mask-banner, count 3\n/);
  });

  it('the packets diagnose names carry what the rules judge (tshark)', { skip: !haveTool('tshark') }, () => {
    const longest = (frame: number) => {
      const hex = tshark(['-r', CAPTURE, '-Y', `frame.number==${frame}`, '-T', 'fields', '-e', 'tcp.payload']).trim();
      return Math.max(...Buffer.from(hex.replace(/:/g, ''), 'hex').toString('latin1').split('\r\n').map((l) => l.length));
    };
    expect(longest(15)).toBe(1500); // the header line
    const mail = Buffer.from(tshark(['-r', CAPTURE, '-Y', 'frame.number==30', '-T', 'fields', '-e', 'tcp.payload']).trim(), 'hex').toString('latin1');
    expect(mail).toMatch(/^MAIL FROM:<[^>]{340}>/);
  });

  it('the recommended fix exempts the one gateway (not the remote MX it delivers to), verified', () => {
    const r = report.recommended;
    expect(r).not.toBeNull();
    expect(r?.kind).toBe('exempt-gateway');
    expect(r?.verified).toBe(true);
    const acl = r?.config.filter((l) => l.startsWith('access-list')) ?? [];
    expect(acl).toEqual([
      `access-list ESMTP-INSPECT extended deny tcp any host ${GATEWAY} eq smtp`,
      `access-list ESMTP-INSPECT extended deny tcp host ${GATEWAY} any eq smtp`,
      'access-list ESMTP-INSPECT extended permit tcp any any eq smtp',
    ]);
    expect(r?.config).toContain('  inspect esmtp SITE-ESMTP');
    // after the fix only the inside host's session is counted
    expect(r?.servicePolicy).toMatch(/Class-map: ESMTP-CLASS\n\s+Inspect: esmtp SITE-ESMTP, packet 21, lock fail 0, drop 0,/);
  });

  it('pasted into the config, the fix compiles, replays clean, still inspects the others, and regresses', () => {
    const fixed = path.join(tmp, 'fixed.cfg');
    fs.writeFileSync(fixed, `${fs.readFileSync(RUNNING, 'utf8')}${report.recommended?.config.join('\n')}\n`);
    const check = cli('policy', 'check', fixed);
    expect(check.status, check.stderr).toBe(0);
    expect(check.stdout).toMatch(/class ESMTP-CLASS\n\s+inspect esmtp SITE-ESMTP\n/);
    expect(check.stdout).not.toMatch(/class inspection_default\n(?:\s+inspect (?!esmtp).*\n)*\s+inspect esmtp/);

    // before: the replay's drops are at diagnose's packets
    const before = path.join(tmp, 'before.jsonl');
    const r0 = cli('replay', CAPTURE, '--policy', RUNNING, '-o', path.join(tmp, 'before.pcap'), '--verdicts', before, '--client-interface', 'outside', '--server-interface', 'dmz');
    expect(r0.status, r0.stderr).toBe(0);
    const drops0 = verdicts(before).filter((v) => v.action === 'drop-connection').map((v) => [v.packet, v.rule]);
    expect(drops0).toEqual(report.sessions.flatMap((s) => s.findings.filter((f) => f.severity === 'breaks').map((f) => [f.packet, f.rule])));
    expect(verdicts(before).find((v) => v.packet === 15 && v.action === 'drop-connection')?.syslog).toMatch(/^%ASA-4-108004: .* outside:198\.51\.100\.7\/40015 .*dmz:192\.168\.20\.25\/25/);

    const out = path.join(tmp, 'out.pcap');
    const v = path.join(tmp, 'v.jsonl');
    const ann = path.join(tmp, 'a.pcapng');
    const r1 = cli('replay', CAPTURE, '--policy', fixed, '-o', out, '--verdicts', v, '--annotate', ann, '--summary', '--check', '--client-interface', 'outside', '--server-interface', 'dmz');
    expect(r1.status, r1.stderr).toBe(0);
    expect(r1.stdout + r1.stderr).toContain('3 on inspected ports, 1 inspected, 2 exempted');
    expect(r1.stdout + r1.stderr).toContain('packets in: 63 = 63 forwarded + 0 dropped');
    const vs = verdicts(v).filter((x) => x.rule !== 'connection');
    expect(vs.some((x) => x.action === 'drop-connection')).toBe(false);
    // the inside host's session is still inspected; the gateway's are untouched
    expect(new Set(vs.map((x) => x.client))).toEqual(new Set(['10.1.1.50:40002']));
    expect(vs.map((x) => x.rule)).toContain('mask-banner');

    if (haveTool('tshark')) {
      const payloads = (f: string) => tshark(['-r', f, '-T', 'fields', '-e', 'ip.src', '-e', 'ip.dst', '-e', 'tcp.payload']).trim().split('\n');
      const inP = payloads(CAPTURE);
      const outP = payloads(out);
      expect(outP.length).toBe(inP.length);
      const differing = inP.map((l, i) => (l === outP[i] ? null : l.split('\t').slice(0, 2).join(' '))).filter((x) => x !== null);
      expect(differing.length).toBeGreaterThan(0);
      for (const d of differing) expect(d).toBe('203.0.113.60 10.1.1.50'); // only the server's replies to the inside host are masked
      // the annotated capture names the rule at the same packet as the verdicts
      const banner = vs.find((x) => x.rule === 'mask-banner');
      const comment = tshark(['-r', ann, '-Y', `frame.number==${banner?.packet}`, '-T', 'fields', '-e', 'frame.comment']);
      expect(comment).toContain('mask-banner');
    }

    // the fixed site as a regression case (interfaces as the site names them)
    const suite = path.join(tmp, 'suite');
    const kase = path.join(suite, 'mail-gateway-exempt');
    fs.mkdirSync(kase, { recursive: true });
    fs.copyFileSync(CAPTURE, path.join(kase, 'capture.pcap'));
    fs.copyFileSync(fixed, path.join(kase, 'policy.txt'));
    fs.writeFileSync(path.join(kase, 'case.json'), JSON.stringify({ description: 'ESA exempted from ESMTP inspection', clientInterface: 'outside', serverInterface: 'dmz' }));
    const up = cli('regress', suite, '--update');
    expect(up.status, up.stdout + up.stderr).toBe(0);
    const again = cli('regress', suite);
    expect(again.status, again.stdout + again.stderr).toBe(0);
    expect(fs.readFileSync(path.join(kase, 'expected.verdicts.jsonl'), 'utf8')).toContain('dmz:203.0.113.60/25');
    // the fix undone (the admin's config reverted): regress fails and names the rule that came back
    fs.copyFileSync(RUNNING, path.join(kase, 'policy.txt'));
    const broken = cli('regress', suite);
    expect(broken.status).toBe(1);
    expect(broken.stdout + broken.stderr).toContain('match header line length gt 998');
  });
});
