/**
 * Running configs of releases before 9.0 and before 8.3 (test/policy/fixtures/realistic/
 * asa82-static-nat.txt, shaped like the 8.2 running configs admins post: `names`, `static`/`global`/
 * `nat (inside) 1` NAT, a class-map access-list naming the public address of the mail server):
 * - before 9.0 `any` in an access-list is IPv4 only (9.0 unified IPv4/IPv6 ACLs and migrated `any`
 *   to `any4`): an IPv6 connection is not selected by such an entry;
 * - before 8.3 an access-list names NAT mapped addresses: a warning at the static line.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compilePolicyText } from '../../src/policy/load.js';
import type { FlowTuple } from '../../src/policy/types.js';
import { GENERATED_DIR, REPO_ROOT, haveShared } from '../helpers/shared.js';
import { replayToTemp } from '../replay/helpers.js';

const TEXT = readFileSync(path.join(REPO_ROOT, 'test/policy/fixtures/realistic/asa82-static-nat.txt'), 'utf8');
const v4 = (serverIp: string): FlowTuple => ({ ipVersion: 4, clientIp: '198.51.100.9', clientPort: 40000, serverIp, serverPort: 25, ingressInterface: 'outside' });
const v6: FlowTuple = { ipVersion: 6, clientIp: '2001:db8::9', clientPort: 40000, serverIp: '2001:db8::25', serverPort: 25, ingressInterface: 'outside' };

describe('ASA 8.2 running config', () => {
  it('"any" is any4: IPv4 connections are selected by the access-list, IPv6 ones are not', () => {
    const p = compilePolicyText(TEXT, 'asa82.txt');
    expect(p.classify(v4('203.0.113.25')).esmtp?.name).toBe('EXCH_MAP');
    expect(p.classify(v4('192.168.10.25')).esmtp?.name).toBe('EXCH_MAP');
    const d = p.classify(v6);
    expect(d.esmtp).toBeNull();
    expect(d.reason).toMatch(/no line of access-list SMTP_INSPECT permits it/);
    expect(p.normalized()).toContain('access-list SMTP_INSPECT extended permit tcp any4 any4 eq smtp\n');
    const note = p.warnings.find((w) => w.level === 'note' && /ASA Version 8\.2\(5\): before 9\.0 an access-list is IPv4 only/.test(w.message));
    expect(note?.line).toBe(3);
  });

  it('warns at the static NAT line that the class-map access-list names mapped addresses', () => {
    const p = compilePolicyText(TEXT, 'asa82.txt');
    const w = p.warnings.filter((x) => x.level === 'warning' && /pre-8\.3 NAT/.test(x.message));
    expect(w).toHaveLength(1);
    expect(w[0]?.line).toBe(27);
    expect(w[0]?.message).toContain('"static (inside,outside) EXCH01-public EXCH01 netmask 255.255.255.255"');
    expect(w[0]?.message).toContain('class-map SMTP_CLASS: match access-list SMTP_INSPECT');
  });

  it('the same text as 9.1 with 8.3+ NAT: "any" covers IPv6 too, no note, no NAT warning', () => {
    const text = TEXT.replace('ASA Version 8.2(5)', 'ASA Version 9.1(7)')
      .replace(/^(global|nat|static) .*$/gm, '')
      .replace('access-group outside_access_in', 'object network EXCH01\n host 192.168.10.25\n nat (inside,outside) static 203.0.113.25\naccess-group outside_access_in');
    const p = compilePolicyText(text, 'asa91.txt');
    expect(p.classify(v6).esmtp?.name).toBe('EXCH_MAP');
    expect(p.warnings.filter((w) => /before 9\.0|pre-8\.3/.test(w.message))).toEqual([]);
  });

  it('an 8.x excerpt without the version line keeps "any" for both families (nothing says it is old)', () => {
    const p = compilePolicyText('access-list S extended permit tcp any any eq smtp\nclass-map C\n match access-list S\npolicy-map global_policy\n class C\n  inspect esmtp\n', 'x.txt');
    expect(p.normalized()).toContain('access-list S extended permit tcp any any eq smtp\n');
  });
});

describe('PIX 6.3 running config', () => {
  it('"fixup protocol smtp 25" gets a warning saying it is not modelled and how 7.0 expresses it; its access-list without "extended" is read', () => {
    const text = ': Saved\n:\nPIX Version 6.3(5)\nhostname pixfirewall\nfixup protocol ftp 21\nfixup protocol smtp 25\nnameif ethernet0 outside security0\naccess-list outside_in permit tcp any host 203.0.113.25 eq smtp\nstatic (inside,outside) 203.0.113.25 10.0.0.25 netmask 255.255.255.255 0 0\naccess-group outside_in in interface outside\nCryptochecksum:00000000000000000000000000000000\n: end\n';
    const p = compilePolicyText(text, 'pix.txt');
    const w = p.warnings.find((x) => x.level === 'warning' && /PIX 6\.x "fixup protocol smtp 25": SMTP fixup \(Mailguard\) is not modelled/.test(x.message));
    expect(w?.line).toBe(6);
    expect(w?.message).toContain('"inspect esmtp" under class inspection_default of policy-map global_policy');
    expect(p.classify(v4('203.0.113.25')).esmtp).toBeNull();
  });
});

describe('PIX 6.3 with SMTP fixup disabled', () => {
  it('"no fixup protocol smtp 25" is not called an enabled fixup: the warning says that PIX inspected no SMTP and how 7.0 expresses it', () => {
    // a section of a PIX printout (no ": Saved" header): the ASA factory default service policy is kept and inspects esmtp
    const text = 'PIX Version 6.3(5)\nhostname pixfirewall\nno fixup protocol smtp 25\naccess-list outside_in permit tcp any host 203.0.113.25 eq smtp\n';
    const p = compilePolicyText(text, 'pix.txt');
    const w = p.warnings.find((x) => x.level === 'warning' && /PIX 6\.x "no fixup protocol smtp 25"/.test(x.message));
    expect(w?.line).toBe(3);
    expect(w?.message).toContain('SMTP fixup (Mailguard) is disabled, so this PIX inspected no SMTP');
    expect(w?.message).toContain('"no inspect esmtp" under class inspection_default');
    expect(w?.message).not.toContain('an enabled SMTP fixup');
  });
});

describe.skipIf(!haveShared)('ASA 8.2 running config on a real IPv6 capture (17: ::1 -> ::1:25)', () => {
  it('8.2: the IPv6 session is not selected (inspected 0); as 9.1 the same policy drops it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'asa82-'));
    const old = path.join(dir, 'asa82.txt');
    writeFileSync(old, TEXT);
    const r = await replayToTemp(path.join(GENERATED_DIR, '17-ipv6-loopback.pcap'), { policy: old });
    expect(r.summary.connections.inspected).toBe(0);
    const nine = path.join(dir, 'asa91.txt');
    writeFileSync(nine, TEXT.replace('ASA Version 8.2(5)', 'ASA Version 9.1(7)'));
    const n = await replayToTemp(path.join(GENERATED_DIR, '17-ipv6-loopback.pcap'), { policy: nine });
    expect(n.summary.connections).toMatchObject({ inspected: 1, dropped: 1 });
  });
});
