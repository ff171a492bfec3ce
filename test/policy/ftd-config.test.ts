/**
 * A Firepower Threat Defense `show running-config` (test/policy/fixtures/realistic/
 * ftd72-running-config.txt, shaped like FTD 7.x output: `NGFW Version`, the access-control policy
 * as `access-list CSM_FW_ACL_ advanced … rule-id N event-log …` entries with `trust` and
 * `ifc NAME`). FTD runs the same ESMTP inspection, and its admins paste this. Before, the first
 * `ifc` was an E_POLICY_SYNTAX error and the whole file was refused.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compilePolicyText } from '../../src/policy/load.js';
import type { FlowTuple } from '../../src/policy/types.js';
import { GENERATED_DIR, REPO_ROOT, haveShared } from '../helpers/shared.js';
import { replayToTemp } from '../replay/helpers.js';

const TEXT = readFileSync(path.join(REPO_ROOT, 'test/policy/fixtures/realistic/ftd72-running-config.txt'), 'utf8');
const flow = (serverIp: string, ingressInterface = 'outside', egressInterface = 'inside'): FlowTuple => ({
  ipVersion: 4,
  clientIp: '198.51.100.7',
  clientPort: 40000,
  serverIp,
  serverPort: 25,
  ingressInterface,
  egressInterface,
});

describe('FTD running config', () => {
  it('compiles as a whole running config; the MPF class selects the mail server for connections entering outside', () => {
    const p = compilePolicyText(TEXT, 'ftd.txt');
    expect(p.layering).toMatchObject({ mode: 'snapshot' });
    expect(p.classify(flow('10.0.0.25')).esmtp?.name).toBe('MAILMAP');
    // `ifc outside`: the same connection entering by dmz is not selected by that entry
    const dmz = p.classify(flow('10.0.0.25', 'dmz'));
    expect(dmz.esmtp?.name).toBe('_default_esmtp_map');
    expect(dmz.reason).toMatch(/class inspection_default/);
    // without esmtp in inspection_default, the reason names the entry whose interface did not match
    // (before: "implicit deny" alone, which reads as an address mismatch)
    const only = compilePolicyText(TEXT.replace('  inspect esmtp \n', ''), 'ftd.txt');
    expect(only.classify(flow('10.0.0.25', 'dmz')).reason).toContain(
      'class MAIL of global_policy: no line of access-list MAIL_MPF permits it (implicit deny); line 1 (config line 29) holds its addresses and ports but names ifc outside before its source (the connection enters by dmz)',
    );
    // a case-only difference (nameif outside vs --client-interface Outside) reads the same way
    expect(only.classify(flow('10.0.0.25', 'Outside')).reason).toContain('names ifc outside before its source (the connection enters by Outside)');
    // another server: no such hint
    expect(only.classify(flow('10.0.0.26', 'dmz')).reason).not.toContain('holds its addresses');
    expect(p.normalized()).toContain('access-list MAIL_MPF advanced permit tcp ifc outside any object MAILSRV eq smtp\n');
  });

  it('trust is a permit; ifc before the destination is the egress interface; ifc any is no constraint; the printout reads back', () => {
    const text = `object network MAILSRV
 host 10.0.0.25
access-list MAIL advanced trust tcp ifc dmz any ifc inside object MAILSRV eq smtp rule-id 5 event-log both
access-list MAIL advanced deny tcp ifc any any any eq smtp rule-id 6
class-map MAILC
 match access-list MAIL
policy-map global_policy
 class inspection_default
  no inspect esmtp
 class MAILC
  inspect esmtp
`;
    const p = compilePolicyText(text, 'x.txt');
    expect(p.classify(flow('10.0.0.25', 'dmz', 'inside')).esmtp).not.toBeNull();
    expect(p.classify(flow('10.0.0.25', 'dmz', 'web')).esmtp).toBeNull();
    expect(p.classify(flow('10.0.0.25', 'outside', 'inside')).reason).toMatch(/line 2 \(config line 4\) denies it/);
    const out = p.normalized();
    expect(out).toContain('access-list MAIL advanced trust tcp ifc dmz any ifc inside object MAILSRV eq smtp\n');
    const back = compilePolicyText(out, 'back.txt');
    expect(back.classify(flow('10.0.0.25', 'dmz', 'inside')).esmtp).not.toBeNull();
    expect(back.classify(flow('10.0.0.25', 'dmz', 'web')).esmtp).toBeNull();
  });

  it('ifc, trust, rule-id and event-log stay errors in an extended entry', () => {
    expect(() => compilePolicyText('access-list A extended permit tcp ifc outside any any\nclass-map C\n match access-list A\n', 'x.txt')).toThrow(expect.objectContaining({ line: 1, column: 35, message: expect.stringMatching(/expected an address .*got "ifc"/) }));
    expect(() => compilePolicyText('access-list A extended trust tcp any any\nclass-map C\n match access-list A\n', 'x.txt')).toThrow(/got "trust"/);
    expect(() => compilePolicyText('access-list A extended permit tcp any any rule-id 5\nclass-map C\n match access-list A\n', 'x.txt')).toThrow(/got "rule-id"/);
  });
});

describe.skipIf(!haveShared)('FTD running config on a real capture (02: 127.0.0.1 -> 127.0.0.1:25)', () => {
  it('an "ifc outside" class inspects with its map when the clients are on outside, not when they are on dmz', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ftd-'));
    const policy = path.join(dir, 'ftd.txt');
    writeFileSync(policy, TEXT.replace(' host 10.0.0.25', ' host 127.0.0.1').replace('policy-map type inspect esmtp MAILMAP\n parameters\n  no mask-banner', 'regex FROM_EXAMPLE "@example\\.test"\npolicy-map type inspect esmtp MAILMAP\n parameters\n  no mask-banner\n match sender-address regex FROM_EXAMPLE\n  drop-connection log'));
    const out = await replayToTemp(path.join(GENERATED_DIR, '02-ehlo-basic.pcap'), { policy, clientInterface: 'outside' });
    expect(out.summary.connections).toMatchObject({ inspected: 1, dropped: 1 });
    const dmz = await replayToTemp(path.join(GENERATED_DIR, '02-ehlo-basic.pcap'), { policy, clientInterface: 'dmz' });
    expect(dmz.summary.connections).toMatchObject({ inspected: 1, dropped: 0 });
  });
});
