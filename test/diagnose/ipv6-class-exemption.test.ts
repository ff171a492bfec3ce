/**
 * diagnose's gateway exemption when ESMTP inspection sits in a class of its own that selects the
 * IPv6 gateway by ACL (`access-list GW-IN extended permit tcp any6 object MAILGW6 eq smtp`, no
 * `inspect esmtp` in inspection_default). The capture (test/replay/fixtures/ipv6-gateway-other.pcap,
 * from the real Postfix/swaks IPv6 session by make-ipv6-gateway.sh) holds a session to the gateway
 * 2001:db8::25, which the class's map resets at EHLO, and one from the same client to another server
 * 2001:db8::26, which the class never selected. The fix must exempt the first and leave the second
 * uninspected; before, its ACL ended in `permit tcp any any eq smtp` and the pasted fix reset the
 * second session, while diagnose called it VERIFIED.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDiagnose } from '../../src/diagnose/run.js';
import { selectedEntries } from '../../src/diagnose/fix.js';
import { compilePolicyText } from '../../src/policy/load.js';
import { readVerdicts, replayToTemp } from '../replay/helpers.js';

const fixtures = path.join(path.dirname(new URL(import.meta.url).pathname), '../replay/fixtures');
const CAPTURE = path.join(fixtures, 'ipv6-gateway-other.pcap');
const tmp = mkdtempSync(path.join(tmpdir(), 'v6-exempt-'));
// the gateway's class alone inspects: inspection_default loses its `inspect esmtp`
const CONFIG_TEXT = readFileSync(path.join(fixtures, 'ipv6-gateway-running-config.txt'), 'utf8').replace(' class inspection_default\n  inspect esmtp\n', '');
const CONFIG = path.join(tmp, 'gw-class-only.txt');
writeFileSync(CONFIG, CONFIG_TEXT);

const inspectedServers = (verdicts: string) =>
  readVerdicts(verdicts)
    .filter((v) => v.rule === 'connection' && v.detail.startsWith('built: inspected'))
    .map((v) => v.server);

describe("the gateway exemption keeps the inspecting class's own selection", () => {
  it('before the fix only the gateway session is inspected (and reset)', async () => {
    const r = await replayToTemp(CAPTURE, { policy: CONFIG });
    expect(inspectedServers(r.verdicts)).toEqual(['[2001:db8::25]:25']);
  });

  it("the proposed ACL copies the class's entries after the denies, and pasting it inspects nothing new", async () => {
    const report = await runDiagnose(CAPTURE, { policyPath: CONFIG });
    const fix = report.recommended;
    expect(fix?.kind).toBe('exempt-gateway');
    expect(fix?.config.filter((l) => l.startsWith('access-list '))).toEqual([
      'access-list ESMTP-INSPECT extended deny tcp any host 2001:db8::25 eq smtp',
      'access-list ESMTP-INSPECT extended deny tcp host 2001:db8::25 any eq smtp',
      'access-list ESMTP-INSPECT extended permit tcp any6 object MAILGW6 eq smtp',
    ]);
    const pasted = path.join(tmp, 'with-fix.txt');
    writeFileSync(pasted, `${CONFIG_TEXT.replace(/\s*$/, '')}\n${(fix?.config ?? []).join('\n')}\n`);
    const r = await replayToTemp(CAPTURE, { policy: pasted });
    expect(inspectedServers(r.verdicts)).toEqual([]);
    expect(readFileSync(r.syslog, 'utf8')).not.toContain('108004');
  });

  it('classes that match otherwise selected every connection to the port: any any stays', () => {
    const normalized = compilePolicyText(CONFIG_TEXT, 'x.txt').normalized();
    expect(selectedEntries(normalized, ['GW-IN'])).toEqual(['extended permit tcp any6 object MAILGW6 eq smtp']);
    expect(selectedEntries(normalized, ['inspection_default'])).toBeNull();
    expect(selectedEntries(normalized, ['GW-IN', 'inspection_default'])).toBeNull();
    expect(selectedEntries(normalized, ['no-such-class'])).toBeNull();
  });
});
