/**
 * diagnose on an IPv6 mail gateway: the symptom lines quote Postfix, which brackets the address
 * itself (`connect to mx.example[2001:db8::25]:25: Connection timed out`). The capture
 * (test/replay/fixtures/ipv6-gateway-overlap.pcap, from the real Postfix/swaks IPv6 session by
 * make-ipv6-gateway.sh) holds two simultaneous sessions; `set connection conn-max 1` refuses one.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDiagnose } from '../../src/diagnose/run.js';

const here = path.dirname(new URL(import.meta.url).pathname);
const CAPTURE = path.join(here, '../replay/fixtures/ipv6-gateway-overlap.pcap');

describe('diagnose wording for IPv6 endpoints', () => {
  it('a connection refused by conn-max quotes Postfix with one pair of brackets around the IPv6 address', async () => {
    const policy = path.join(mkdtempSync(path.join(tmpdir(), 'v6-diag-')), 'conn-max.txt');
    writeFileSync(policy, 'policy-map global_policy\n class inspection_default\n  set connection conn-max 1\n');
    const report = await runDiagnose(CAPTURE, { policyPath: policy });
    const refused = report.sessions.flatMap((s) => s.findings.map((f) => ({ s, f }))).filter(({ f }) => f.category === 'connection-limit');
    expect(refused).toHaveLength(1);
    const { s, f } = refused[0] as (typeof refused)[number];
    expect(s.server).toBe('[2001:db8::25]:25');
    // before: "connect to …[[2001:db8::25]]:…"
    expect(f.symptom.client).toContain('Postfix smtp: "connect to …[2001:db8::25]:…: Connection timed out" (the SYN is dropped), the mail is deferred and retried');
  });
});
