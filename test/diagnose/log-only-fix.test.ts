/**
 * A match whose action only logs (mail-relay … action log, special-character log, a match with
 * `log` alone) changes nothing on the wire, so diagnose proposes no fix for it. Before, each such
 * finding carried "fix: exempt the mail gateway …" — on a site config with mail-relay logging, the
 * same fix line about a hundred times in one delivering session, for mail that was never harmed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDiagnose } from '../../src/diagnose/run.js';
import { GENERATED_DIR, haveShared } from '../helpers/shared.js';

describe.skipIf(!haveShared)('log-only findings get no fix', () => {
  it('mail-relay … action log on a real session: logged, no fix; masking findings keep theirs', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'log-only-'));
    const policy = path.join(dir, 'relay.txt');
    fs.writeFileSync(policy, 'policy-map type inspect esmtp _default_esmtp_map\n parameters\n  mail-relay example.com action log\n');
    const r = await runDiagnose(path.join(GENERATED_DIR, '02-ehlo-basic.pcap'), { policyPath: policy });
    const findings = r.sessions.flatMap((s) => s.findings);
    const relay = findings.filter((f) => f.rule.startsWith('mail-relay'));
    expect(relay.length).toBeGreaterThan(0);
    for (const f of relay) {
      expect(f.severity).toBe('logged');
      expect(f.fix).toBeNull();
    }
    // the STARTTLS mask still gets its fix
    expect(findings.find((f) => f.rule === 'allow-tls')?.fix).not.toBeNull();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
