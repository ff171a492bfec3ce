/**
 * Interface service policies and the interface names a replay gives connections. A capture has no
 * interface names: replay, live and proxy take them from --client-interface / --server-interface
 * (outside / inside by default), compared case-sensitively as the ASA's `nameif` is. Running configs
 * often say `nameif OUTSIDE` and `service-policy P interface OUTSIDE`; before, such a policy was
 * silently unused ("no service-policy applies") with the default names.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compilePolicyText } from '../../src/policy/load.js';
import type { FlowTuple } from '../../src/policy/types.js';
import { GENERATED_DIR, haveShared } from '../helpers/shared.js';
import { readVerdicts, replayToTemp } from '../replay/helpers.js';

const TEXT = 'class-map C\n match port tcp eq 25\npolicy-map P\n class C\n  inspect esmtp\nservice-policy P interface OUTSIDE\nno service-policy global_policy global\n';
const flow = (ingressInterface: string, egressInterface = 'inside'): FlowTuple => ({ ipVersion: 4, clientIp: '198.51.100.7', clientPort: 40000, serverIp: '10.0.0.25', serverPort: 25, ingressInterface, egressInterface });

describe('interface names of interface service policies', () => {
  it('a note at the service-policy line says how to name the interface; none for outside / inside', () => {
    const p = compilePolicyText(TEXT, 'x.txt');
    const note = p.warnings.find((w) => w.level === 'note' && /service-policy P interface OUTSIDE inspects esmtp only for connections entering or leaving by "OUTSIDE"/.test(w.message));
    expect(note?.line).toBe(6);
    expect(note?.message).toContain('--client-interface OUTSIDE');
    const plain = compilePolicyText(TEXT.replace('OUTSIDE', 'outside'), 'x.txt');
    expect(plain.warnings.filter((w) => /inspects esmtp only for connections entering/.test(w.message))).toEqual([]);
  });

  it('a connection on other interfaces gets a reason naming the unused policy, and the case-only difference', () => {
    const p = compilePolicyText(TEXT, 'x.txt');
    const d = p.classify(flow('outside'));
    expect(d.esmtp).toBeNull();
    expect(d.reason).toBe(
      'no service-policy applies; service-policy P on interface OUTSIDE does not apply: this connection\'s interfaces are outside (ingress), inside (egress); interface names are case-sensitive ("OUTSIDE" is not "outside"): name them as the configuration does (--client-interface / --server-interface)',
    );
    expect(p.classify(flow('OUTSIDE')).esmtp?.name).toBe('_default_esmtp_map');
    // another name: the policy is named, no case remark
    expect(p.classify(flow('dmz')).reason).toMatch(/service-policy P on interface OUTSIDE does not apply: this connection's interfaces are dmz \(ingress\), inside \(egress\)$/);
  });
});

describe.skipIf(!haveShared)('interface names on a real capture (02)', () => {
  it('default names: exempted, and the verdict says why; --client-interface OUTSIDE: inspected', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ifname-'));
    const policy = path.join(dir, 'p.txt');
    writeFileSync(policy, TEXT);
    const r = await replayToTemp(path.join(GENERATED_DIR, '02-ehlo-basic.pcap'), { policy });
    expect(r.summary.connections.inspected).toBe(0);
    expect(readVerdicts(r.verdicts).some((v) => /"OUTSIDE" is not "outside"/.test(String(v.detail)))).toBe(true);
    const named = await replayToTemp(path.join(GENERATED_DIR, '02-ehlo-basic.pcap'), { policy, clientInterface: 'OUTSIDE' });
    expect(named.summary.connections.inspected).toBe(1);
  });
});
