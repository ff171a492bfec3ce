/**
 * Policy-map class lines of running configs that select nothing for ESMTP but must not refuse the
 * configuration: `set connection syn-cookie-mss N` (ASA 8.4+/9.x) and a nested `service-policy NAME`
 * (hierarchical QoS: `class class-default` / `shape average N` / `service-policy CHILD`). Before,
 * the first was an E_POLICY_SYNTAX error and the second was read as a global service-policy
 * without its `global | interface` and refused.
 */
import { describe, expect, it } from 'vitest';
import { compilePolicyText } from '../../src/policy/load.js';
import type { FlowTuple } from '../../src/policy/types.js';

const flow: FlowTuple = { ipVersion: 4, clientIp: '198.51.100.7', clientPort: 40000, serverIp: '10.0.0.25', serverPort: 25, ingressInterface: 'outside' };

const TEXT = `class-map C
 match port tcp eq 25
policy-map CHILD
 class class-default
  priority
policy-map P
 class C
  set connection syn-cookie-mss 1380
  set connection conn-max 100 syn-cookie-mss 536 per-client-max 20
  inspect esmtp
 class class-default
  shape average 1000000
  service-policy CHILD
no service-policy global_policy global
service-policy P global
`;

describe('class lines that select nothing for ESMTP', () => {
  it('syn-cookie-mss (alone or among the limits) and a nested service-policy are read; the limits and the service-policy stay', () => {
    const p = compilePolicyText(TEXT, 'x.txt');
    const d = p.classify(flow);
    expect(d.className).toBe('C');
    expect(d.limits).toMatchObject({ connMax: 100, perClientMax: 20 });
    expect(p.ignored.map((x) => [x.line, x.reason])).toEqual([
      [5, 'class action priority not modelled'],
      [8, 'set connection syn-cookie-mss not modelled'],
      [12, 'class action shape not modelled'],
      [13, 'nested service-policy (hierarchical QoS) not modelled'],
    ]);
    expect(p.normalized()).toContain('service-policy P global\n');
  });

  it('syn-cookie-mss takes 48-65535', () => {
    expect(() => compilePolicyText('policy-map P\n class class-default\n  set connection conn-max 5 syn-cookie-mss 20\n', 'x.txt')).toThrow(expect.objectContaining({ line: 3, column: 44 }));
  });

  it('match port sctp (ASA 9.5+, M3UA/Diameter) is read: its class never holds a TCP connection', () => {
    const p = compilePolicyText('class-map M3UA\n match port sctp eq 2905\nclass-map VPN\n match tunnel-group L2L\n match flow ip destination-address\npolicy-map global_policy\n class M3UA\n  inspect esmtp\n', 'x.txt');
    expect(p.ignored.find((x) => x.line === 2)?.reason).toMatch(/match port sctp selects SCTP, never a TCP connection/);
    expect(p.classify({ ...flow, serverPort: 2905 }).esmtp).toBeNull();
  });
});
