/**
 * The interfaces and routes of a running-config (src/policy/interface-map.ts): which interface an
 * address is on (connected subnet, longest prefix; else the longest-prefix route; else the default
 * route; else none), read from the forms a `show running-config` prints and an admin pastes.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compilePolicyText, defaultPolicy } from '../../src/policy/load.js';
import { readInterfaceMap } from '../../src/policy/interface-map.js';
import { lexPolicy } from '../../src/policy/lexer.js';

const here = path.dirname(new URL(import.meta.url).pathname);
const GATEWAY = readFileSync(path.join(here, '../replay/fixtures/gateway-running-config.txt'), 'utf8');
const ESA = readFileSync(path.join(here, 'fixtures/realistic/asa912-esa-cluster-crlf.txt'), 'utf8');

const map = (text: string) => readInterfaceMap(lexPolicy(text, 'x.txt'));
const where = (text: string, ip: string) => map(text).interfaceOf(ip)?.name ?? null;

describe('interfaces and routes of a running-config', () => {
  it('places addresses by connected subnet, then route, then default route; levels as configured', () => {
    const p = compilePolicyText(GATEWAY, 'gw.txt');
    const r = p.interfaceRouting;
    expect(r?.usable).toBe(true);
    expect(r?.interfaceOf('192.168.20.25')).toEqual({ name: 'inside', securityLevel: 100, via: 'connected' });
    expect(r?.interfaceOf('203.0.113.9')).toEqual({ name: 'outside', securityLevel: 0, via: 'connected' });
    expect(r?.interfaceOf('203.0.113.50')).toEqual({ name: 'outside', securityLevel: 0, via: 'route' }); // /28 ends at .15: default route
    expect(r?.interfaceOf('10.20.3.4')).toEqual({ name: 'inside', securityLevel: 100, via: 'route' });
    expect(r?.interfaceOf('172.16.5.10')).toEqual({ name: 'dmz', securityLevel: 50, via: 'connected' });
    // the shut, unnamed interface adds nothing; the standby address is no second subnet
    expect(r?.describe()).toBe(
      'outside (security-level 0, 203.0.113.0/28, default route); inside (security-level 100, 192.168.20.0/24, route 10.20.0.0/16); dmz (security-level 50, 172.16.5.0/24); management (security-level 100, 10.255.0.0/24)',
    );
    // an address the config cannot place (IPv6 without ipv6 lines)
    expect(r?.interfaceOf('2001:db8::1')).toBeNull();
  });

  it('the interface lines stay ignored by the policy (no new warning, same normalised policy)', () => {
    const stripped = GATEWAY.split('\n').filter((l) => !/^(interface |route | nameif| security-level| ip address| shutdown| no (nameif|security-level|ip address)| management-only)/.test(l)).join('\n');
    const a = compilePolicyText(GATEWAY, 'gw.txt');
    const b = compilePolicyText(stripped, 'gw.txt');
    expect(a.normalized()).toBe(b.normalized());
    expect(a.warnings).toEqual(b.warnings);
    expect(b.interfaceRouting?.usable).toBe(false);
  });

  it('the factory default and configs without interface blocks yield no mapping', () => {
    expect(defaultPolicy().interfaceRouting).toBeUndefined();
    expect(compilePolicyText('policy-map global_policy\n class inspection_default\n  inspect esmtp\n', 'x').interfaceRouting?.usable).toBe(false);
    // routes alone place nothing: the admin's interfaces are unknown
    expect(map('route outside 0.0.0.0 0.0.0.0 203.0.113.1 1\n').usable).toBe(false);
  });

  it('a real CRLF running-config with mixed-case nameif (DMZ) and a default route', () => {
    const r = compilePolicyText(ESA, 'esa.txt').interfaceRouting;
    expect(r?.interfaceOf('10.10.200.7')?.name).toBe('inside');
    expect(r?.interfaceOf('172.16.25.30')).toEqual({ name: 'DMZ', securityLevel: 50, via: 'connected' });
    expect(r?.interfaceOf('8.8.8.8')?.name).toBe('outside');
  });

  it('a pasted session (config-if prompts) and a flat copy without indentation are read alike', () => {
    const session = [
      'mailfw(config)# interface GigabitEthernet0/1',
      'mailfw(config-if)# nameif inside',
      'INFO: Security level for "inside" set to 100 by default.',
      'mailfw(config-if)# ip address 192.168.20.1 255.255.255.0',
      'mailfw(config-if)# exit',
      'mailfw(config)# interface GigabitEthernet0/0',
      'mailfw(config-if)# nameif outside',
      'mailfw(config-if)# ip address 203.0.113.2 255.255.255.240',
      'mailfw(config-if)# route outside 0 0 203.0.113.1',
    ].join('\n');
    const s = map(session);
    expect(s.interfaceOf('192.168.20.9')).toEqual({ name: 'inside', securityLevel: 100, via: 'connected' });
    // no security-level line: the ASA's default, 100 for inside, 0 for the others
    expect(s.interfaceOf('198.51.100.1')).toEqual({ name: 'outside', securityLevel: 0, via: 'route' });
    const flat = 'interface GigabitEthernet0/1\nnameif inside\nsecurity-level 90\nip address 192.168.20.1 255.255.255.0\nroute inside 10.0.0.0 255.0.0.0 192.168.20.254 1\n';
    expect(map(flat).interfaceOf('10.1.2.3')).toEqual({ name: 'inside', securityLevel: 90, via: 'route' });
  });

  it('a flat copy of the real running-config reads every interface: description, vlan, management-only and no shutdown keep the block open', () => {
    // the gateway fixture with its indentation lost (pasted from a web page or a mail), plus the
    // lines a show running-config prints before nameif on other interfaces
    const flatGateway = GATEWAY.split(/\r?\n/).map((l) => l.trimStart()).join('\n');
    expect(map(flatGateway).describe()).toBe(map(GATEWAY).describe());
    const flat = [
      'interface GigabitEthernet1/5',
      'description Partner link',
      'speed 1000',
      'duplex full',
      'no shutdown',
      'mac-address 0000.5e00.0101 standby 0000.5e00.0102',
      'nameif partner',
      'security-level 20',
      'ip address 10.77.0.1 255.255.255.0',
      'interface GigabitEthernet1/6.30',
      'vlan 30',
      'nameif guest',
      'security-level 10',
      'ip address 10.30.0.1 255.255.255.0',
      'ipv6 enable',
      'ipv6 nd suppress-ra',
      'ospf cost 10',
      'ipv6 address 2001:db8:30::1/64',
      'no mac-address auto',
      'nameif stray',
      'ip address 10.99.0.1 255.255.255.0',
    ].join('\n');
    const m = map(flat);
    expect(m.interfaceOf('10.77.0.9')).toEqual({ name: 'partner', securityLevel: 20, via: 'connected' });
    expect(m.interfaceOf('10.30.0.9')).toEqual({ name: 'guest', securityLevel: 10, via: 'connected' });
    expect(m.interfaceOf('2001:db8:30::9')).toEqual({ name: 'guest', securityLevel: 10, via: 'connected' });
    // a global line ends the block: what follows it belongs to no interface
    expect(m.interfaceOf('10.99.0.9')).toBeNull();
  });

  it('an interface entered twice (a pasted session naming it first and addressing it later) is one interface', () => {
    const session = [
      'mailfw(config)# interface GigabitEthernet0/1',
      'mailfw(config-if)# nameif inside',
      'INFO: Security level for "inside" set to 100 by default.',
      'mailfw(config-if)# exit',
      'mailfw(config)# interface GigabitEthernet0/0',
      'mailfw(config-if)# nameif outside',
      'mailfw(config-if)# exit',
      'mailfw(config)# interface GigabitEthernet0/1',
      'mailfw(config-if)# ip address 192.168.20.1 255.255.255.0',
      'mailfw(config-if)# interface GigabitEthernet0/0',
      'mailfw(config-if)# ip address 203.0.113.2 255.255.255.240',
      'mailfw(config-if)# shutdown',
      'mailfw(config-if)# no shutdown',
    ].join('\n');
    const m = map(session);
    expect(m.interfaceOf('192.168.20.9')).toEqual({ name: 'inside', securityLevel: 100, via: 'connected' });
    expect(m.interfaceOf('203.0.113.9')).toEqual({ name: 'outside', securityLevel: 0, via: 'connected' });
    expect(m.describe()).toBe('inside (security-level 100, 192.168.20.0/24); outside (security-level 0, 203.0.113.0/28)');
  });

  it('a route whose network is a names alias (show running-config with names) places its addresses', () => {
    const withNames = GATEWAY.replace('names\n', 'names\nname 10.20.0.0 corp-net description branch offices\n').replace(
      'route inside 10.20.0.0 255.255.0.0 192.168.20.254 1',
      'route inside corp-net 255.255.0.0 192.168.20.254 1',
    );
    expect(withNames).toContain('route inside corp-net');
    // before: the route was dropped and 10.20.3.4 went out by the default route
    expect(map(withNames).interfaceOf('10.20.3.4')).toEqual({ name: 'inside', securityLevel: 100, via: 'route' });
    expect(map(withNames).describe()).toBe(map(GATEWAY).describe());
  });

  it('IPv6 addresses and routes; link-local and eui-64 forms; longest prefix wins', () => {
    const text = [
      'interface GigabitEthernet0/0',
      ' nameif outside',
      ' security-level 0',
      ' ipv6 address fe80::1 link-local',
      ' ipv6 address 2001:db8:0:1::2/64 standby 2001:db8:0:1::3',
      'interface GigabitEthernet0/1',
      ' nameif inside',
      ' security-level 100',
      ' ipv6 address 2001:db8:100::/64 eui-64',
      'ipv6 route outside ::/0 2001:db8:0:1::1',
      'ipv6 route inside 2001:db8:200::/48 2001:db8:100::fe',
      'ipv6 route outside 2001:db8:200:5::/64 2001:db8:0:1::9',
    ].join('\n');
    expect(where(text, '2001:db8:100::25')).toBe('inside');
    expect(where(text, '2001:db8:200:1::1')).toBe('inside');
    expect(where(text, '2001:db8:200:5::1')).toBe('outside'); // the /64 beats the /48
    expect(where(text, '2a00:1450::1')).toBe('outside');
    expect(where(text, 'fe80::1')).toBe('outside'); // link-local: only via the default route
    expect(where(text, '192.0.2.1')).toBeNull();
  });

  it('DHCP setroute gives the default route; null0 and tunneled routes place nothing; shutdown and no nameif drop an interface', () => {
    const dhcp = 'interface G0\n nameif outside\n security-level 0\n ip address dhcp setroute\ninterface G1\n nameif inside\n ip address 10.0.0.1 255.255.255.0\n';
    expect(where(dhcp, '198.51.100.1')).toBe('outside');
    const blackhole = 'interface G1\n nameif inside\n ip address 10.0.0.1 255.255.255.0\nroute null0 192.0.2.0 255.255.255.0\nroute inside 0.0.0.0 0.0.0.0 10.0.0.254 tunneled\n';
    expect(where(blackhole, '192.0.2.7')).toBeNull();
    expect(where(blackhole, '198.51.100.1')).toBeNull();
    const shut = 'interface G0\n nameif outside\n ip address 203.0.113.2 255.255.255.0\n shutdown\ninterface G1\n no nameif\n ip address 10.0.0.1 255.255.255.0\n';
    expect(map(shut).usable).toBe(false);
  });

  it('the interface-policy note says the config places connections, or that the nameif is missing', () => {
    const withIf = `${GATEWAY.replace('service-policy inside_policy interface inside', 'service-policy inside_policy interface dmz')}`;
    const n1 = compilePolicyText(withIf, 'gw.txt').warnings.find((w) => w.message.startsWith('service-policy inside_policy interface dmz'));
    expect(n1?.message).toContain("place each connection on the config's interfaces by its addresses");
    const typo = GATEWAY.replace('service-policy inside_policy interface inside', 'service-policy inside_policy interface DMZ');
    const n2 = compilePolicyText(typo, 'gw.txt').warnings.find((w) => w.message.startsWith('service-policy inside_policy interface DMZ'));
    expect(n2?.message).toContain('no interface of this config has nameif DMZ');
  });

  it('property: an address inside a connected /N subnet is placed there, whatever other routes say', () => {
    fc.assert(
      fc.property(fc.integer({ min: 8, max: 30 }), fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }), fc.integer({ min: 0, max: 0xffffffff }), (len, net, host) => {
        const base = ((((net[0] as number) << 24) | ((net[1] as number) << 16) | ((net[2] as number) << 8) | (net[3] as number)) >>> 0) & (len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0);
        const maskN = (0xffffffff << (32 - len)) >>> 0;
        const dotted = (x: number) => [x >>> 24, (x >>> 16) & 255, (x >>> 8) & 255, x & 255].join('.');
        const addr = (base | (host & ~maskN)) >>> 0;
        const text = `interface G1\n nameif inside\n ip address ${dotted(base)} ${dotted(maskN)}\ninterface G0\n nameif outside\n ip address 198.18.0.1 255.255.255.252\nroute outside 0.0.0.0 0.0.0.0 198.18.0.2\nroute outside ${dotted(addr)} 255.255.255.255 198.18.0.2\n`;
        const inside = !(addr >>> 2 === (0xc6120000 >>> 2)); // not inside 198.18.0.0/30 itself
        if (inside) expect(where(text, dotted(addr))).toBe('inside');
        // just outside the subnet: the host route (when it matches) or the default route
        const next = (base + 2 ** (32 - len)) >>> 0;
        const o = where(text, dotted(next));
        if (next >>> 2 !== 0xc6120000 >>> 2 && (next & maskN) !== base) expect(o).toBe('outside');
      }),
      { numRuns: 200 },
    );
  });
});
