/**
 * Access-lists no class-map uses, with ASA syntax not modelled here: identity firewall
 * (`object-group-user`, `user CORP\name`), TrustSec (`security-group name X`). A running config
 * carries them for its access-groups; only class-map access-lists select inspection. Before, the
 * first such entry was an E_POLICY_SYNTAX error and the whole running config was refused.
 * test/policy/fixtures/realistic/asa912-idfw-trustsec.txt is shaped like a 9.12 running config.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compilePolicyText } from '../../src/policy/load.js';
import type { FlowTuple } from '../../src/policy/types.js';
import { GENERATED_DIR, REPO_ROOT, haveShared } from '../helpers/shared.js';
import { replayToTemp } from '../replay/helpers.js';

const TEXT = readFileSync(path.join(REPO_ROOT, 'test/policy/fixtures/realistic/asa912-idfw-trustsec.txt'), 'utf8');
const flow = (serverIp: string): FlowTuple => ({ ipVersion: 4, clientIp: '198.51.100.7', clientPort: 40000, serverIp, serverPort: 25, ingressInterface: 'outside' });

describe('access-list entries not understood', () => {
  it('in access-lists no class-map uses: ignored with one note, the class-map access-list selects as written', () => {
    const p = compilePolicyText(TEXT, 'fw.txt');
    expect(p.classify(flow('10.0.0.25')).esmtp?.name).toBe('EXCH_MAP');
    expect(p.classify(flow('10.0.0.26')).esmtp).toBeNull();
    const note = p.warnings.find((w) => w.level === 'note' && /entries not understood in access-list\(s\) inside_access_in that select no esmtp inspection/.test(w.message));
    expect(note?.line).toBe(29);
    expect(note?.message).toContain('got "object-group-user"');
    expect(p.ignored.filter((x) => /access-list entry not understood/.test(x.reason ?? '')).map((x) => x.line)).toEqual([29, 30, 31]);
    // the entry after them is read: the access-list keeps what it understood
    expect(p.warnings.filter((w) => w.level === 'warning')).toEqual([]);
  });

  it('in an access-list a class-map uses: the error it is, at its line:column', () => {
    const text = TEXT.replace(' match access-list SMTP_INSPECT', ' match access-list inside_access_in');
    expect(() => compilePolicyText(text, 'fw.txt')).toThrow(
      expect.objectContaining({ code: 'E_POLICY_SYNTAX', line: 29, column: 50, message: expect.stringMatching(/got "object-group-user" \(access-list inside_access_in is used by class-map SMTP_CLASS, class SMTP_CLASS of policy-map global_policy inspects esmtp\)$/) }),
    );
  });

  it('in an access-list only a QoS class-map uses (police, no inspect esmtp, no set connection): a note, the policy is read', () => {
    // Cisco's IDFW guide lists service policies among the uses of user-based access-lists: a
    // per-user rate limit is a class-map on an identity ACL with `police`, in its own policy-map
    const qos = TEXT.replace('class-map inspection_default', 'class-map HELPDESK_QOS\n match access-list inside_access_in\nclass-map inspection_default')
      .replace('service-policy global_policy global', 'policy-map INSIDE_QOS\n class HELPDESK_QOS\n  police output 2000000\nservice-policy global_policy global\nservice-policy INSIDE_QOS interface inside');
    const p = compilePolicyText(qos, 'fw.txt');
    expect(p.classify(flow('10.0.0.25')).esmtp?.name).toBe('EXCH_MAP');
    const note = p.warnings.find((w) => w.level === 'note' && /entries not understood in access-list\(s\) inside_access_in that select no esmtp inspection/.test(w.message));
    expect(note?.message).toContain('class-map HELPDESK_QOS: class HELPDESK_QOS of INSIDE_QOS');
    // the same class-map with `set connection` selects connection limits: an error
    const limits = qos.replace('  police output 2000000', '  set connection conn-max 100');
    expect(() => compilePolicyText(limits, 'fw.txt')).toThrow(expect.objectContaining({ code: 'E_POLICY_SYNTAX', line: 29, message: expect.stringMatching(/class HELPDESK_QOS of policy-map INSIDE_QOS sets connection limits\)$/) }));
  });

  it('an undefined object in an unused access-list is a note too; used, an E_POLICY_REFERENCE error', () => {
    const unused = compilePolicyText('access-list X extended permit tcp any object-group NOPE eq smtp\n', 'x.txt');
    expect(unused.warnings.some((w) => /entries not understood in access-list\(s\) X/.test(w.message) && /object-group "NOPE" is not defined/.test(w.message))).toBe(true);
    expect(() => compilePolicyText('access-list X extended permit tcp any object-group NOPE eq smtp\nclass-map C\n match access-list X\n', 'x.txt')).toThrow(expect.objectContaining({ code: 'E_POLICY_REFERENCE', line: 1, column: 52 }));
  });
});

describe.skipIf(!haveShared)('the identity-firewall running config on a real capture (02: alice@example.test)', () => {
  it('is applied: the class-map access-list selects the session and EXCH_MAP drops it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'idfw-'));
    const policy = path.join(dir, 'fw.txt');
    writeFileSync(policy, TEXT.replace(' host 10.0.0.25', ' host 127.0.0.1'));
    const r = await replayToTemp(path.join(GENERATED_DIR, '02-ehlo-basic.pcap'), { policy });
    expect(r.summary.connections).toMatchObject({ inspected: 1, dropped: 1 });
  });
});
