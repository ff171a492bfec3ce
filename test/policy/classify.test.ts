import { describe, expect, it } from 'vitest';
import { compilePolicyText, defaultPolicy } from '../../src/policy/load.js';
import type { FlowTuple } from '../../src/policy/types.js';

const flow = (clientIp: string, serverIp: string, serverPort = 25, ingressInterface?: string): FlowTuple => ({
  ipVersion: clientIp.includes(':') ? 6 : 4,
  clientIp,
  clientPort: 40000,
  serverIp,
  serverPort,
  ...(ingressInterface ? { ingressInterface } : {}),
});

/** The exemption of the seed article / ASA-ESMTP.md §4.3, pasted over the factory default. */
const EXEMPT_ESA = `access-list ESMTP-INSPECT extended deny   tcp any host 192.0.2.25 eq smtp
access-list ESMTP-INSPECT extended deny   tcp host 192.0.2.25 any eq smtp
access-list ESMTP-INSPECT extended permit tcp any any eq smtp
class-map ESMTP-CLASS
 match access-list ESMTP-INSPECT
policy-map global_policy
 class inspection_default
  no inspect esmtp
 class ESMTP-CLASS
  inspect esmtp
`;

describe('classify() with the default policy', () => {
  const p = defaultPolicy();
  it('inspects tcp/25 with _default_esmtp_map, not 2525', () => {
    const d = p.classify(flow('198.51.100.7', '192.0.2.25'));
    expect(d).toMatchObject({ scope: 'global', policyMap: 'global_policy', className: 'inspection_default', limits: null });
    expect(d.esmtp?.name).toBe('_default_esmtp_map');
    const n = p.classify(flow('198.51.100.7', '192.0.2.25', 2525));
    expect(n.esmtp).toBeNull();
    expect(n.className).toBe('');
    expect(n.reason).toMatch(/server port is 2525/);
    expect(p.esmtpPorts()).toEqual([25]);
  });
  it('works for IPv6 connections too', () => {
    expect(p.classify(flow('2001:db8::1', '2001:db8::25')).esmtp?.name).toBe('_default_esmtp_map');
  });
});

describe("the seed article's exemption", () => {
  const p = compilePolicyText(EXEMPT_ESA, 'exempt.cfg');
  it('leaves the mail gateway uninspected in both directions', () => {
    const inbound = p.classify(flow('203.0.113.9', '192.0.2.25', 25, 'outside'));
    expect(inbound.esmtp).toBeNull();
    expect(inbound.reason).toMatch(/access-list ESMTP-INSPECT line 1 \(config line 1\) denies/);
    const outbound = p.classify(flow('192.0.2.25', '203.0.113.9', 25, 'inside'));
    expect(outbound.esmtp).toBeNull();
    expect(outbound.reason).toMatch(/access-list ESMTP-INSPECT line 2 \(config line 2\) denies/);
  });
  it('still inspects everyone else, with the default map', () => {
    const other = p.classify(flow('203.0.113.9', '192.0.2.26'));
    expect(other.className).toBe('ESMTP-CLASS');
    expect(other.esmtp?.name).toBe('_default_esmtp_map');
    expect(p.esmtpPorts()).toEqual([25]);
  });
  it('a neighbouring address or another port is not exempted by accident', () => {
    expect(p.classify(flow('192.0.2.24', '203.0.113.9')).esmtp).not.toBeNull();
    expect(p.classify(flow('203.0.113.9', '192.0.2.25', 587)).esmtp).toBeNull(); // not selected at all
  });
});

describe('a class without inspect esmtp does not exempt (ASA-ESMTP.md §4.3)', () => {
  it('inspection_default still inspects the ESA', () => {
    const p = compilePolicyText(
      `access-list ESA extended permit tcp any host 192.0.2.25
class-map ESA-CLASS
 match access-list ESA
policy-map global_policy
 class ESA-CLASS
  set connection conn-max 10
 class inspection_default
  inspect esmtp
`,
      'x.cfg',
    );
    const d = p.classify(flow('203.0.113.9', '192.0.2.25'));
    expect(d.className).toBe('inspection_default');
    expect(d.esmtp?.name).toBe('_default_esmtp_map');
    // its connection limits still come from the first matching class with set connection
    expect(d.limits).toEqual({ connMax: 10, embryonicConnMax: 0, perClientMax: 0, perClientEmbryonicMax: 0 });
  });
  it('an ACE deny in a class that does not inspect has no effect either', () => {
    const p = compilePolicyText(
      `access-list NOT-ESA extended deny tcp any host 192.0.2.25
access-list NOT-ESA extended permit tcp any any
class-map C
 match access-list NOT-ESA
policy-map global_policy
 class C
  inspect ftp
 class inspection_default
  inspect esmtp
`,
      'x.cfg',
    );
    expect(p.classify(flow('203.0.113.9', '192.0.2.25')).esmtp?.name).toBe('_default_esmtp_map');
  });
  it('the first class that matches and inspects esmtp wins over later ones (a snapshot keeps the order written)', () => {
    const p = compilePolicyText(
      `ASA Version 9.12(4)
policy-map type inspect esmtp strict
 match cmd RCPT count gt 5
  drop-connection log
class-map PORT25
 match port tcp eq smtp
policy-map global_policy
 class PORT25
  inspect esmtp strict
 class inspection_default
  inspect esmtp
service-policy global_policy global
`,
      'x.cfg',
    );
    expect(p.classify(flow('1.1.1.1', '2.2.2.2')).esmtp?.name).toBe('strict');
  });
  it('typed over the default, a new class goes after inspection_default, which still inspects first', () => {
    const text = `policy-map type inspect esmtp strict
 match cmd RCPT count gt 5
  drop-connection log
class-map PORT25
 match port tcp eq smtp
policy-map global_policy
 class PORT25
  inspect esmtp strict
`;
    const d = compilePolicyText(text, 'x.cfg').classify(flow('1.1.1.1', '2.2.2.2'));
    expect(d).toMatchObject({ className: 'inspection_default' });
    expect(d.esmtp?.name).toBe('_default_esmtp_map');
    // with inspection_default's inspect removed, the new class decides
    const fixed = compilePolicyText(`${text}policy-map global_policy\n class inspection_default\n  no inspect esmtp\n`, 'x.cfg');
    expect(fixed.classify(flow('1.1.1.1', '2.2.2.2')).esmtp?.name).toBe('strict');
  });
});

describe('interface service-policy precedence', () => {
  const text = `policy-map type inspect esmtp inside_map
 parameters
  allow-tls
access-list INSIDE-MAIL extended permit tcp 10.0.0.0 255.255.255.0 any eq smtp
class-map INSIDE-MAIL
 match access-list INSIDE-MAIL
policy-map inside-policy
 class INSIDE-MAIL
  inspect esmtp inside_map
  set connection per-client-max 20
service-policy inside-policy interface inside
service-policy global_policy global
`;
  it('the interface policy decides for traffic entering that interface', () => {
    const p = compilePolicyText(text, 'x.cfg');
    const d = p.classify(flow('10.0.0.7', '203.0.113.9', 25, 'inside'));
    expect(d).toMatchObject({ scope: 'inside', policyMap: 'inside-policy', className: 'INSIDE-MAIL' });
    expect(d.esmtp?.name).toBe('inside_map');
    expect(d.limits?.perClientMax).toBe(20);
    // other interfaces: the global policy
    const o = p.classify(flow('10.0.0.7', '203.0.113.9', 25, 'outside'));
    expect(o).toMatchObject({ scope: 'global', className: 'inspection_default' });
    expect(o.limits).toBeNull();
  });
  it('per-flow (default): traffic on the interface the interface policy does not select falls back to global', () => {
    const p = compilePolicyText(text, 'x.cfg');
    const d = p.classify(flow('172.16.0.9', '203.0.113.9', 25, 'inside'));
    expect(d.scope).toBe('global');
    expect(d.esmtp?.name).toBe('_default_esmtp_map');
  });
  it('an interface policy is bidirectional: it also decides for connections leaving through its interface', () => {
    // Cisco "Feature Directionality": application inspection and connection limits on a single
    // interface apply to traffic entering or exiting it; the global policy at ingress only
    const p = compilePolicyText(text, 'x.cfg');
    const d = p.classify({ ...flow('10.0.0.7', '203.0.113.9'), ingressInterface: 'outside', egressInterface: 'inside' });
    expect(d).toMatchObject({ scope: 'inside', policyMap: 'inside-policy', className: 'INSIDE-MAIL' });
    expect(d.esmtp?.name).toBe('inside_map');
    expect(d.limits?.perClientMax).toBe(20);
    // neither interface has a policy: global
    const g = p.classify({ ...flow('10.0.0.7', '203.0.113.9'), ingressInterface: 'outside', egressInterface: 'dmz' });
    expect(g.scope).toBe('global');
  });
  it('the ingress interface policy is tried before the egress one', () => {
    const both = `${text}policy-map outside-policy
 class inspection_default
  inspect esmtp
service-policy outside-policy interface outside
`;
    const p = compilePolicyText(both, 'x.cfg');
    const inbound = p.classify({ ...flow('10.0.0.7', '203.0.113.9'), ingressInterface: 'outside', egressInterface: 'inside' });
    expect(inbound).toMatchObject({ scope: 'outside', policyMap: 'outside-policy' });
    const outbound = p.classify({ ...flow('10.0.0.7', '203.0.113.9'), ingressInterface: 'inside', egressInterface: 'outside' });
    expect(outbound).toMatchObject({ scope: 'inside', policyMap: 'inside-policy' });
  });
  it('an interface policy alone (global removed) inspects a server on that interface (the reviewer case)', () => {
    const p = compilePolicyText(
      'class-map C\n match port tcp eq smtp\npolicy-map P\n class C\n  inspect esmtp\nservice-policy P interface inside\nno service-policy global_policy global\n',
      'c10.txt',
    );
    const toInside = p.classify({ ...flow('198.51.100.7', '10.0.0.25'), ingressInterface: 'outside', egressInterface: 'inside' });
    expect(toInside).toMatchObject({ scope: 'inside', policyMap: 'P', className: 'C' });
    const elsewhere = p.classify({ ...flow('198.51.100.7', '10.0.0.25'), ingressInterface: 'outside', egressInterface: 'dmz' });
    expect(elsewhere.esmtp).toBeNull();
  });
  it('per-feature: an interface policy that inspects esmtp hides the global one on that interface', () => {
    const p = compilePolicyText(text, 'x.cfg', { interfacePrecedence: 'per-feature' });
    const d = p.classify(flow('172.16.0.9', '203.0.113.9', 25, 'inside'));
    expect(d.esmtp).toBeNull();
    expect(d.scope).toBe('inside');
    expect(d.reason).toMatch(/per-feature/);
  });
});

describe('class-map matches and esmtpPorts()', () => {
  const wrap = (classMap: string, extra = '') => `${extra}class-map MAIL
${classMap}
policy-map global_policy
 class inspection_default
  no inspect esmtp
 class MAIL
  inspect esmtp
`;
  it('match port tcp range (both spellings)', () => {
    for (const m of [' match port tcp range 2525 2527', ' match port tcp range 2525-2527']) {
      const p = compilePolicyText(wrap(m), 'x');
      expect(p.esmtpPorts()).toEqual([2525, 2526, 2527]);
      expect(p.classify(flow('1.1.1.1', '2.2.2.2', 2526)).esmtp).not.toBeNull();
      expect(p.classify(flow('1.1.1.1', '2.2.2.2', 25)).esmtp).toBeNull();
    }
  });
  it('match any is port-agnostic', () => {
    const p = compilePolicyText(wrap(' match any'), 'x');
    expect(p.esmtpPorts()).toBeNull();
    expect(p.classify(flow('1.1.1.1', '2.2.2.2', 8025)).esmtp).not.toBeNull();
  });
  it('an ACL with port objects, object-groups and ranges selects exactly its permitted ports', () => {
    const acl = `object network GW
 host 192.0.2.25
object-group network GWS
 network-object object GW
 network-object 198.51.100.0 255.255.255.0
object-group service MAILPORTS tcp
 port-object eq smtp
 port-object range 2525 2526
object service SUBMISSION
 service tcp destination eq 587
access-list A extended deny tcp any object GW eq 2525
access-list A extended permit tcp any object-group GWS object-group MAILPORTS
access-list A extended permit object SUBMISSION any any
`;
    const p = compilePolicyText(wrap(' match access-list A', acl), 'x');
    expect(p.esmtpPorts()).toEqual([25, 587, 2525, 2526]);
    expect(p.classify(flow('1.1.1.1', '192.0.2.25', 25)).esmtp).not.toBeNull();
    expect(p.classify(flow('1.1.1.1', '192.0.2.25', 2525)).esmtp).toBeNull(); // the deny line
    expect(p.classify(flow('1.1.1.1', '198.51.100.9', 2525)).esmtp).not.toBeNull();
    expect(p.classify(flow('1.1.1.1', '203.0.113.1', 25)).esmtp).toBeNull(); // implicit deny
    expect(p.classify(flow('1.1.1.1', '203.0.113.1', 587)).esmtp).not.toBeNull();
  });
  it('an ACL permitting tcp without a destination port, or ip, is port-agnostic', () => {
    expect(compilePolicyText(wrap(' match access-list A', 'access-list A extended permit tcp any host 192.0.2.25\n'), 'x').esmtpPorts()).toBeNull();
    expect(compilePolicyText(wrap(' match access-list A', 'access-list A extended permit ip any any\n'), 'x').esmtpPorts()).toBeNull();
    expect(compilePolicyText(wrap(' match access-list A', 'access-list A extended permit tcp any any gt 1024\n'), 'x').esmtpPorts()).toBeNull();
  });
  it('udp, icmp and inactive ACEs never select a TCP connection', () => {
    const p = compilePolicyText(
      wrap(
        ' match access-list A',
        'access-list A extended permit udp any any eq 25\naccess-list A extended permit icmp any any echo-reply\naccess-list A extended permit tcp any any eq smtp inactive\n',
      ),
      'x',
    );
    expect(p.classify(flow('1.1.1.1', '2.2.2.2')).esmtp).toBeNull();
    expect(p.esmtpPorts()).toEqual([]);
  });
  it('source ports, IPv6 prefixes, any4/any6, ranges and names', () => {
    const p = compilePolicyText(
      wrap(
        ' match access-list A',
        `name 192.0.2.99 relay
object network R
 range 10.0.0.10 10.0.0.20
access-list A extended deny tcp host relay any
access-list A extended permit tcp any6 2001:db8:25::/64 eq smtp
access-list A extended permit tcp object R range 1024 65535 any4 eq smtp
`,
      ),
      'x',
    );
    expect(p.classify(flow('2001:db8::1', '2001:db8:25::9')).esmtp).not.toBeNull();
    expect(p.classify(flow('2001:db8::1', '2001:db8:26::9')).esmtp).toBeNull();
    expect(p.classify(flow('10.0.0.15', '2.2.2.2')).esmtp).not.toBeNull();
    expect(p.classify(flow('10.0.0.21', '2.2.2.2')).esmtp).toBeNull();
    expect(p.classify(flow('192.0.2.99', '2.2.2.2')).esmtp).toBeNull();
    expect(p.classify({ ...flow('10.0.0.15', '2.2.2.2'), clientPort: 1000 }).esmtp).toBeNull();
  });
  it('default-inspection-traffic narrowed by an access-list', () => {
    const p = compilePolicyText(wrap(' match default-inspection-traffic\n match access-list A', 'access-list A extended permit tcp 10.0.0.0 255.0.0.0 any\n'), 'x');
    expect(p.classify(flow('10.1.1.1', '2.2.2.2')).esmtp).not.toBeNull();
    expect(p.classify(flow('10.1.1.1', '2.2.2.2', 2525)).esmtp).toBeNull();
    expect(p.classify(flow('11.1.1.1', '2.2.2.2')).esmtp).toBeNull();
    expect(p.esmtpPorts()).toEqual([25]);
  });
  it('an unmodelled class-map match never matches and is listed as ignored', () => {
    const p = compilePolicyText(wrap(' match dscp af11'), 'x');
    expect(p.classify(flow('1.1.1.1', '2.2.2.2')).esmtp).toBeNull();
    expect(p.ignored.map((i) => i.line)).toEqual([2]);
  });
  it('an excerpt adds to the default global_policy (layering = merge): its inspect esmtp stays', () => {
    const p = compilePolicyText('policy-map global_policy\n class inspection_default\n  inspect dns\n  inspect ftp\n', 'x');
    expect(p.classify(flow('1.1.1.1', '2.2.2.2')).esmtp?.name).toBe('_default_esmtp_map');
    expect(p.esmtpPorts()).toEqual([25]);
  });
  it('a pasted show running-config replaces it (layering = snapshot): printed without inspect esmtp, it has none', () => {
    for (const head of [': Saved\n:\nASA Version 9.8(4)20\n', 'ASA Version 9.12(4)\n!\n']) {
      const p = compilePolicyText(`${head}policy-map global_policy\n class inspection_default\n  inspect dns\n  inspect ftp\n`, 'x');
      expect(p.classify(flow('1.1.1.1', '2.2.2.2')).esmtp).toBeNull();
      expect(p.esmtpPorts()).toEqual([]);
    }
  });
  it('no service-policy at all: nothing is inspected', () => {
    const p = compilePolicyText('no service-policy global_policy global\n', 'x');
    const d = p.classify(flow('1.1.1.1', '2.2.2.2'));
    expect(d).toMatchObject({ scope: 'none', policyMap: '', className: '', esmtp: null });
    expect(p.esmtpPorts()).toEqual([]);
  });
  it('set connection limits: all four and class-default', () => {
    const p = compilePolicyText(
      `policy-map global_policy
 class class-default
  set connection conn-max 100 embryonic-conn-max 50 per-client-max 5 per-client-embryonic-max 2 random-sequence-number disable
 class inspection_default
  inspect esmtp
`,
      'x',
    );
    expect(p.classify(flow('1.1.1.1', '2.2.2.2', 80)).limits).toEqual({ connMax: 100, embryonicConnMax: 50, perClientMax: 5, perClientEmbryonicMax: 2 });
    expect(p.classify(flow('1.1.1.1', '2.2.2.2', 25)).esmtp?.name).toBe('_default_esmtp_map');
  });
});
