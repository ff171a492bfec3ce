/**
 * `policy check` warns when a class's `inspect esmtp` can never apply: an earlier class of the same
 * policy-map that matches on the port alone already inspects esmtp there, and the ASA matches a
 * connection to the first class with an inspect action. The classic mistake: a class for tcp/25
 * added to global_policy while inspection_default still inspects esmtp — it compiles, nothing warns,
 * and replay keeps reporting "inspected by class inspection_default". The decision itself was
 * already right; these tests hold the warning and the decisions together.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compilePolicyText } from '../../src/policy/load.js';
import { GENERATED_DIR, haveShared } from '../helpers/shared.js';
import { executeReplay } from '../../src/cli/replay.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';

const ADDED = 'class-map SMTP\n match port tcp eq 25\npolicy-map type inspect esmtp STRICT\n parameters\n  no mask-banner\npolicy-map global_policy\n class SMTP\n  inspect esmtp STRICT\n';

const shadowWarnings = (text: string) => compilePolicyText(text, 'p.txt').warnings.filter((w) => w.message.includes('comes first and already inspects esmtp'));

describe('a class shadowed by an earlier inspecting class', () => {
  it('class SMTP (tcp/25) after inspection_default: warned, at its class line; inspection_default decides', () => {
    const ws = shadowWarnings(ADDED);
    expect(ws).toHaveLength(1);
    expect(ws[0]!.level).toBe('warning');
    expect(ws[0]!.line).toBe(7);
    expect(ws[0]!.message).toContain('class SMTP in policy-map global_policy inspects esmtp (STRICT), but class inspection_default comes first and already inspects esmtp on tcp/25');
    const d = compilePolicyText(ADDED, 'p.txt').classify({ ipVersion: 4, clientIp: '192.0.2.1', clientPort: 40000, serverIp: '198.51.100.2', serverPort: 25, ingressInterface: 'outside', egressInterface: 'inside' });
    expect(d.className).toBe('inspection_default');
  });

  it('with "no inspect esmtp" under inspection_default: no warning, class SMTP decides', () => {
    const fixed = ADDED.replace('policy-map global_policy\n', 'policy-map global_policy\n class inspection_default\n  no inspect esmtp\n');
    expect(shadowWarnings(fixed)).toHaveLength(0);
    const d = compilePolicyText(fixed, 'p.txt').classify({ ipVersion: 4, clientIp: '192.0.2.1', clientPort: 40000, serverIp: '198.51.100.2', serverPort: 25, ingressInterface: 'outside', egressInterface: 'inside' });
    expect(d.className).toBe('SMTP');
  });

  it('a class on another port (tcp/2525) is not shadowed; one on 25 and 2525 is, for tcp/25 only', () => {
    expect(shadowWarnings(ADDED.replace('eq 25', 'eq 2525'))).toHaveLength(0);
    const both = ADDED.replace(' match port tcp eq 25\n', ' match port tcp range 25 25\n').replace('class-map SMTP\n', 'access-list A extended permit tcp any any eq 25\naccess-list A extended permit tcp any any eq 2525\nclass-map SMTP\n');
    // an access-list class: port-specific but address-aware, still shadowed on the ports the earlier class takes
    const acl = ADDED.replace(' match port tcp eq 25\n', ' match access-list A\n').replace('class-map SMTP\n', 'access-list A extended permit tcp any any eq 25\naccess-list A extended permit tcp any any eq 2525\nclass-map SMTP\n');
    expect(shadowWarnings(both)).toHaveLength(1);
    const w = shadowWarnings(acl);
    expect(w).toHaveLength(1);
    expect(w[0]!.message).toContain('on tcp/25:');
  });

  it('an earlier access-list class does not shadow (it may not match every address)', () => {
    const text = 'access-list GW extended permit tcp any host 198.51.100.2 eq 25\nclass-map GW\n match access-list GW\nclass-map SMTP\n match port tcp eq 25\npolicy-map global_policy\n class inspection_default\n  no inspect esmtp\n class GW\n  inspect esmtp\n class SMTP\n  inspect esmtp\n';
    expect(shadowWarnings(text)).toHaveLength(0);
  });
});

describe.skipIf(!haveShared)('the shadowed class on a real capture', () => {
  it('replay: 12-unknown-commands is inspected by inspection_default (banner masked), as the ASA would', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'shadowed-'));
    const policy = path.join(dir, 'p.txt');
    writeFileSync(policy, ADDED);
    const r = await executeReplay(path.join(GENERATED_DIR, '12-unknown-commands.pcap'), { policy, checksum: 'incremental', set: [], clientInterface: 'outside', serverInterface: 'inside', asaOoo: true });
    expect(r.summary.connections.inspected).toBe(1);
    expect(r.summary.servicePolicy).toMatch(/Class-map: inspection_default[\s\S]*mask-banner, count 1/);
  });
});
