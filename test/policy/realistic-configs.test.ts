/**
 * Running configs as admins paste them (ASA 9.12 with CRLF line ends and trailing blanks, an 8.4
 * ASDM-made one with DM_INLINE groups and `name` lines, a `show running-config policy-map` with
 * the prompt lines around it): what they select, what they print, what they ignore.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compilePolicyText } from '../../src/policy/load.js';
import type { FlowTuple } from '../../src/policy/types.js';
import { REPO_ROOT } from '../helpers/shared.js';

const load = (name: string) => compilePolicyText(readFileSync(path.join(REPO_ROOT, 'test/policy/fixtures/realistic', name), 'utf8'), name);
const flow = (clientIp: string, serverIp: string, serverPort = 25): FlowTuple => ({ ipVersion: 4, clientIp, clientPort: 40000, serverIp, serverPort, ingressInterface: 'outside' });

describe('realistic running configs', () => {
  it('9.12, CRLF: the ESA cluster (nested object-group) is exempt both ways, other mail gets the strict map', () => {
    const p = load('asa912-esa-cluster-crlf.txt');
    expect(p.layering).toMatchObject({ mode: 'snapshot' });
    expect(p.classify(flow('198.51.100.77', '172.16.25.10')).esmtp).toBeNull();
    expect(p.classify(flow('172.16.25.11', '10.10.5.20')).esmtp).toBeNull();
    expect(p.classify(flow('198.51.100.77', '10.10.5.20')).esmtp?.name).toBe('ESMTP_STRICT');
    expect(p.classify(flow('198.51.100.77', '10.10.5.20', 587)).esmtp).toBeNull();
    const out = p.normalized();
    // both h323 inspections of the factory list are kept (one per sub-protocol, as on the ASA)
    expect(out).toContain('  inspect h323 h225\n  inspect h323 ras\n');
    expect(out).toContain(' match invalid-recipients count gt 20\n  reset log\n');
    expect(p.warnings.filter((w) => w.level === 'warning')).toEqual([]);
  });

  it('8.4 ASDM config: names in object-groups, eq 25 printed as smtp, allow-tls action log', () => {
    const p = load('asa84-asdm-inline-groups.txt');
    expect(p.classify(flow('203.0.113.9', '192.168.10.26')).esmtp?.name).toBe('esmtp-map');
    expect(p.classify(flow('192.168.10.25', '203.0.113.9')).esmtp?.name).toBe('esmtp-map');
    expect(p.classify(flow('203.0.113.9', '192.168.10.99')).esmtp).toBeNull();
    // an 8.4 access-list is IPv4 only: its `any` is printed as any4 (test/policy/older-releases.test.ts)
    expect(p.normalized()).toContain('access-list global_mpc extended permit tcp object-group DM_INLINE_NETWORK_2 any4 eq smtp\n');
    expect(p.normalized()).toContain('  allow-tls action log\n');
  });

  it('show running-config policy-map between prompt lines: a section printout, the printed map replaces', () => {
    const p = load('show-run-policy-map-prompt.txt');
    expect(p.layering).toMatchObject({ mode: 'snapshot' });
    const m = p.classify(flow('198.51.100.1', '10.0.0.25')).esmtp;
    expect(m?.name).toBe('ESMTP-EXCH');
    expect(m?.parameters).toMatchObject({ maskBanner: false });
    expect(m?.matches.map((x) => x.text)).toContain('match not mime encoding 7bit 8bit base64 quoted-printable');
  });
});
