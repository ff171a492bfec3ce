/**
 * diagnose with an interface service-policy that inspects the mail (real swaks/Postfix capture
 * 07c, RCPT #101 at frame 211): the findings and fixes must name the class the replay used
 * (outside_policy / SMTP-PORT), and the exemption must also cover the global policy, which
 * inspects the session once the interface policy no longer does (per-flow precedence).
 */
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GENERATED_DIR, haveShared } from '../helpers/shared.js';
import { runDiagnose } from '../../src/diagnose/run.js';
import { replayInMemory } from '../../src/regress/replay-run.js';
import { compilePolicyText } from '../../src/policy/load.js';

const IFACE_POLICY = [
  'class-map SMTP-PORT',
  ' match port tcp eq smtp',
  'policy-map outside_policy',
  ' class SMTP-PORT',
  '  inspect esmtp',
  'service-policy outside_policy interface outside',
  '',
].join('\n');

describe.skipIf(!haveShared)('diagnose with an interface service-policy', () => {
  it('07c: the RCPT limit fix and the exemption target outside_policy and are verified', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diag-iface-'));
    try {
      const pol = path.join(dir, 'policy.txt');
      fs.writeFileSync(pol, IFACE_POLICY);
      const capture = path.join(GENERATED_DIR, '07c-rcpt-101.pcap');
      const r = await runDiagnose(capture, { policyPath: pol });
      const s = r.sessions[0]!;
      expect(s.inspected).toBe(true);
      expect(s.decision).toContain('SMTP-PORT');
      const drop = s.findings.find((f) => f.action === 'drop-connection')!;
      expect(drop).toMatchObject({ rule: 'match cmd RCPT count gt 100', packet: 211 });
      expect(drop.fix).toMatchObject({ kind: 'raise-limit', verified: true });
      expect(drop.fix!.config.slice(-4)).toEqual(['policy-map outside_policy', ' class SMTP-PORT', '  no inspect esmtp', '  inspect esmtp ESMTP-DIAG-MAP']);

      expect(r.recommended).toMatchObject({ kind: 'exempt-gateway', verified: true });
      expect(r.recommended!.config).toEqual([
        'access-list ESMTP-INSPECT extended deny tcp any host 127.0.0.1 eq smtp',
        'access-list ESMTP-INSPECT extended deny tcp host 127.0.0.1 any eq smtp',
        'access-list ESMTP-INSPECT extended permit tcp any any eq smtp',
        'class-map ESMTP-CLASS',
        ' match access-list ESMTP-INSPECT',
        'policy-map outside_policy',
        ' class SMTP-PORT',
        '  no inspect esmtp',
        ' class ESMTP-CLASS',
        '  inspect esmtp',
        'policy-map global_policy',
        ' class inspection_default',
        '  no inspect esmtp',
        ' class ESMTP-CLASS',
        '  inspect esmtp',
      ]);
      // independently: the policy plus the proposed lines leaves the session uninspected
      const fixed = compilePolicyText(`${IFACE_POLICY}${r.recommended!.config.join('\n')}\n`, 'fixed');
      const after = await replayInMemory(capture, fixed);
      expect(after.summary.connections).toMatchObject({ inspected: 0, exempted: 1 });
      expect(after.summary.packets.dropped).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
