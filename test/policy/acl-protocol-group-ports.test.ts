/**
 * A protocol object-group with ports: ASDM creates `object-group protocol TCPUDP` (udp, tcp) and
 * entries such as `access-list outside_access_in extended permit object-group TCPUDP any object
 * Guest-NAT eq www` or `… permit object-group TCPUDP NET MASK host X object-group SVC`; running
 * configs carry them by the dozen. Before, the port after such a group was an E_POLICY_SYNTAX
 * error and the whole configuration was refused.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compilePolicyText } from '../../src/policy/load.js';
import type { FlowTuple } from '../../src/policy/types.js';
import { GENERATED_DIR, haveShared } from '../helpers/shared.js';
import { replayToTemp } from '../replay/helpers.js';

const TEXT = `names
name 100.200.97.0 Net_100.200.97.0
object network MAILGW
 host 100.200.159.70
object-group protocol TCPUDP
 protocol-object udp
 protocol-object tcp
object-group service MAILPORTS tcp-udp
 port-object eq smtp
 port-object eq 587
object-group service ntpGroup udp
 port-object eq ntp
object-group network TimeSyncSources
 network-object host 100.200.1.1
access-list KSPD extended permit udp 10.100.110.0 255.255.255.0 object-group ntpGroup object-group TimeSyncSources object-group ntpGroup
access-list KSPD extended permit object-group TCPUDP Net_100.200.97.0 255.255.255.0 host 100.200.159.70 object-group MAILPORTS
access-list KSPD extended permit object-group TCPUDP any object MAILGW eq 2525
access-list KSPD extended permit object-group TCPUDP any object-group TimeSyncSources eq ntp
class-map MAIL
 match access-list KSPD
policy-map global_policy
 class inspection_default
  no inspect esmtp
 class MAIL
  inspect esmtp
`;
const flow = (clientIp: string, serverPort: number): FlowTuple => ({ ipVersion: 4, clientIp, clientPort: 40000, serverIp: '100.200.159.70', serverPort, ingressInterface: 'outside' });

describe('ports after a protocol object-group', () => {
  it('select TCP connections by the group\'s tcp member and the entry\'s ports (a port group or eq)', () => {
    const p = compilePolicyText(TEXT, 'x.txt');
    expect(p.classify(flow('100.200.97.5', 25)).reason).toMatch(/access-list KSPD line 2 \(config line 16\) permits it/);
    expect(p.classify(flow('100.200.97.5', 587)).esmtp).not.toBeNull();
    expect(p.classify(flow('100.200.97.5', 26)).esmtp).toBeNull();
    expect(p.classify(flow('100.200.98.5', 25)).esmtp).toBeNull();
    expect(p.classify(flow('198.51.100.1', 2525)).reason).toMatch(/line 3 \(config line 17\) permits it \(permit object-group TCPUDP any object MAILGW eq 2525\)/);
    // eq ntp (a UDP name, taken for the group's members) is 123 for its tcp member too
    expect(p.esmtpPorts()).toEqual([25, 123, 587, 2525]);
    expect(p.normalized()).toContain('access-list KSPD extended permit object-group TCPUDP 100.200.97.0 255.255.255.0 host 100.200.159.70 object-group MAILPORTS\n');
  });

  it('a protocol group without tcp selects nothing, even with a port', () => {
    const p = compilePolicyText('object-group protocol UDPONLY\n protocol-object udp\naccess-list A extended permit object-group UDPONLY any any eq 25\nclass-map C\n match access-list A\npolicy-map global_policy\n class inspection_default\n  no inspect esmtp\n class C\n  inspect esmtp\n', 'x.txt');
    expect(p.classify(flow('198.51.100.1', 25)).esmtp).toBeNull();
  });
});

describe.skipIf(!haveShared)('ports after a protocol object-group on a real capture (02: 127.0.0.1:25)', () => {
  it('the TCPUDP entry selects the session for inspection', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tcpudp-'));
    const policy = path.join(dir, 'p.txt');
    writeFileSync(policy, TEXT.replace(' host 100.200.159.70', ' host 127.0.0.1').replace('eq 2525', 'eq smtp'));
    const r = await replayToTemp(path.join(GENERATED_DIR, '02-ehlo-basic.pcap'), { policy });
    expect(r.summary.connections.inspected).toBe(1);
  });
});
