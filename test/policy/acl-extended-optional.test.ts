/**
 * `access-list ID [line N] [extended] {deny | permit} …`: the `extended` keyword is optional when
 * typed (PIX 7.x / ASA syntax; the ASA stores and prints the entry with `extended`). Older guides
 * and admins' excerpts write `access-list OUTSIDE_IN permit tcp any host X eq smtp`; before, that
 * line was an E_POLICY_SYNTAX error and the whole policy was refused.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compilePolicyText } from '../../src/policy/load.js';
import type { FlowTuple } from '../../src/policy/types.js';
import { GENERATED_DIR, haveShared } from '../helpers/shared.js';
import { readVerdicts, replayToTemp } from '../replay/helpers.js';

const flow = (clientIp: string, serverIp: string): FlowTuple => ({ ipVersion: 4, clientIp, clientPort: 40000, serverIp, serverPort: 25, ingressInterface: 'outside' });

const EXEMPT = `access-list SMTP permit tcp any host 10.0.0.25 eq smtp
access-list SMTP line 1 deny tcp host 10.9.9.9 any eq smtp
class-map SMTPC
 match access-list SMTP
policy-map global_policy
 class inspection_default
  no inspect esmtp
 class SMTPC
  inspect esmtp
`;

describe('access-list without "extended"', () => {
  it('is an extended entry: printed with "extended", line N inserts, the first matching entry decides', () => {
    const p = compilePolicyText(EXEMPT, 'x.txt');
    expect(p.normalized()).toContain('access-list SMTP extended deny tcp host 10.9.9.9 any eq smtp\naccess-list SMTP extended permit tcp any host 10.0.0.25 eq smtp\n');
    expect(p.classify(flow('198.51.100.1', '10.0.0.25')).esmtp?.name).toBe('_default_esmtp_map');
    expect(p.classify(flow('10.9.9.9', '10.0.0.25')).esmtp).toBeNull();
  });

  it('abbreviated (perm, d) and removed by "no access-list" with or without "extended"', () => {
    const p = compilePolicyText(
      'access-list A perm tcp any host 10.0.0.25 eq smtp\naccess-list A d tcp any any\nno access-list A extended permit tcp any host 10.0.0.25 eq smtp\naccess-list B permit tcp any any eq 25\nno access-list B permit tcp any any eq smtp\n',
      'x.txt',
    );
    const out = p.normalized();
    expect(out).not.toContain('permit tcp any host 10.0.0.25');
    expect(p.warnings.filter((w) => /removed nothing/.test(w.message))).toEqual([]);
  });

  it('another word there is still an error at its column', () => {
    expect(() => compilePolicyText('access-list SMTP lt tcp any any\nclass-map C\n match access-list SMTP\n', 'x.txt')).toThrow(/expected "extended", "permit", "deny", "standard" or "remark", got "lt"/);
  });
});

describe.skipIf(!haveShared)('access-list without "extended" on a real capture', () => {
  it('a deny for the server exempts 02 from inspection (no banner mask), where the default inspects it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'acl-ext-'));
    const policy = path.join(dir, 'p.txt');
    writeFileSync(policy, EXEMPT.replace('access-list SMTP line 1 deny tcp host 10.9.9.9 any eq smtp', 'access-list SMTP line 1 deny tcp any host 127.0.0.1 eq smtp'));
    const r = await replayToTemp(path.join(GENERATED_DIR, '02-ehlo-basic.pcap'), { policy });
    expect(r.summary.connections.inspected).toBe(0);
    expect(readVerdicts(r.verdicts).some((x) => x.rule === 'mask-banner')).toBe(false);
    const d = await replayToTemp(path.join(GENERATED_DIR, '02-ehlo-basic.pcap'));
    expect(d.summary.connections.inspected).toBe(1);
  });
});
