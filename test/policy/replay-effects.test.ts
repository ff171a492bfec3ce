/**
 * The policy fixes seen through a replay of real Postfix/swaks captures: the verdict changes (or
 * must not change) exactly as a real ASA's would with that configuration.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GENERATED_DIR, REPO_ROOT, haveShared } from '../helpers/shared.js';
import { readVerdicts, replayToTemp } from '../replay/helpers.js';

const cap = (name: string) => path.join(GENERATED_DIR, name);

function policyFile(text: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'policy-replay-'));
  const file = path.join(dir, 'policy.txt');
  writeFileSync(file, text);
  return file;
}

describe.skipIf(!haveShared)('policy fixes on real captures', () => {
  it('match sender-address regex class NAME drops the session whose MAIL FROM matches (02: alice@example.test)', async () => {
    const policy = policyFile(`regex from_example "@example\\.test"
regex from_other "@spammer\\.example"
class-map type regex match-any BAD_SENDERS
 match regex from_other
 match regex from_example
policy-map type inspect esmtp _default_esmtp_map
 match sender-address regex class BAD_SENDERS
  drop-connection log
`);
    const r = await replayToTemp(cap('02-ehlo-basic.pcap'), { policy });
    expect(r.summary.connections.dropped).toBe(1);
    const v = readVerdicts(r.verdicts);
    const drop = v.find((x) => x.action === 'drop-connection');
    expect(drop?.syslog).toMatch(/matched Class 8: sender-address regex class BAD_SENDERS/);
    // the default map's own lines are still there: the banner is masked
    expect(v.some((x) => x.rule === 'mask-banner')).toBe(true);
    // the default alone lets the same session through
    const d = await replayToTemp(cap('02-ehlo-basic.pcap'));
    expect(d.summary.connections.dropped).toBe(0);
  });

  it('an excerpt adding allow-tls to _default_esmtp_map keeps its limits and banner mask (07a: RCPT 101 still dropped)', async () => {
    const policy = policyFile('policy-map type inspect esmtp _default_esmtp_map\n parameters\n  allow-tls\n');
    const r = await replayToTemp(cap('07a-rcpt-120.pcap'), { policy });
    expect(r.summary.connections).toMatchObject({ inspected: 1, dropped: 1 });
    const v = readVerdicts(r.verdicts);
    expect(v.some((x) => x.rule === 'mask-banner')).toBe(true);
    expect(v.find((x) => x.action === 'drop-connection')?.syslog).toMatch(/cmd RCPT count gt 100/);
    // and allow-tls itself took effect: STARTTLS is no longer masked in 04
    const tls = await replayToTemp(cap('04-starttls.pcap'), { policy });
    expect(readVerdicts(tls.verdicts).some((x) => x.rule === 'allow-tls' && x.action === 'mask')).toBe(false);
    const def = await replayToTemp(cap('04-starttls.pcap'));
    expect(readVerdicts(def.verdicts).some((x) => x.rule === 'allow-tls' && x.action === 'mask')).toBe(true);
  });

  it('an interface policy on the server side inspects (02: the server is on inside)', async () => {
    const policy = policyFile(
      'class-map C\n match port tcp eq smtp\npolicy-map P\n class C\n  inspect esmtp\nservice-policy P interface inside\nno service-policy global_policy global\n',
    );
    const r = await replayToTemp(cap('02-ehlo-basic.pcap'), { policy });
    expect(r.summary.connections).toMatchObject({ inspected: 1, exempted: 0 });
    const built = readVerdicts(r.verdicts).find((x) => x.rule === 'connection');
    expect(built?.detail).toMatch(/class C \(policy-map P/);
    // servers on another interface: not inspected
    const dmz = await replayToTemp(cap('02-ehlo-basic.pcap'), { policy, serverInterface: 'dmz' });
    expect(dmz.summary.connections).toMatchObject({ inspected: 0, exempted: 1 });
  });

  it('a running config pasted with pager prompts still inspects (02; the prompt broke ESMTP-CLASS, the only class inspecting esmtp)', async () => {
    const fixture = readFileSync(path.join(REPO_ROOT, 'test/policy/fixtures/asa-running-config.txt'), 'utf8');
    const text = fixture.replace('\n  inspect esmtp _default_esmtp_map\n', '\n<--- More --->\r              \r  inspect esmtp _default_esmtp_map\n');
    expect(text).not.toBe(fixture);
    const policy = policyFile(text);
    const r = await replayToTemp(cap('02-ehlo-basic.pcap'), { policy, clientInterface: 'dmz', serverInterface: 'dmz2' });
    expect(r.summary.connections.inspected).toBe(1);
  });
});
