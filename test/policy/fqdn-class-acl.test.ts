/**
 * An esmtp class whose access-list names an `fqdn` object (ASA 8.4(2)+: `object network EXO` /
 * `fqdn v4 mail.protection.outlook.com`, common for Exchange Online relays): a capture holds no
 * ASA DNS answers, so the object never matches and the connections it would select are not
 * inspected. Before, nothing said so (the reason: "no line permits it (implicit deny)"); now a
 * warning at the entry names the object and the group it is in.
 */
import { describe, expect, it } from 'vitest';
import { compilePolicyText } from '../../src/policy/load.js';
import type { FlowTuple } from '../../src/policy/types.js';

const TEXT = `object network EXO
 fqdn v4 contoso-com.mail.protection.outlook.com
object network MX1
 host 10.0.0.25
object-group network CLOUD
 network-object object EXO
object-group network RELAYS
 network-object object MX1
 group-object CLOUD
access-list SMTP_OUT extended permit tcp any object-group RELAYS eq smtp
access-list SMTP_OUT extended permit tcp any object EXO eq 587
access-list OTHER extended permit tcp any object EXO eq smtp
class-map SMTP
 match access-list SMTP_OUT
policy-map global_policy
 class inspection_default
  no inspect esmtp
 class SMTP
  inspect esmtp
`;
const flow = (serverIp: string): FlowTuple => ({ ipVersion: 4, clientIp: '10.0.0.7', clientPort: 40000, serverIp, serverPort: 25, ingressInterface: 'inside' });

describe('an fqdn object in an esmtp class access-list', () => {
  it('gets a warning per entry naming it (through nested groups too); the host entries still select', () => {
    const p = compilePolicyText(TEXT, 'fw.txt');
    const w = p.warnings.filter((x) => x.level === 'warning' && /cannot be evaluated on a capture/.test(x.message));
    expect(w.map((x) => x.line)).toEqual([10, 11]);
    expect(w[0]?.message).toContain('"object EXO (fqdn v4 contoso-com.mail.protection.outlook.com) in object-group CLOUD"');
    expect(w[1]?.message).toContain('"object EXO (fqdn v4 contoso-com.mail.protection.outlook.com)"');
    // OTHER selects no esmtp inspection: no warning for it
    expect(w.some((x) => x.message.includes('OTHER'))).toBe(false);
    expect(p.classify(flow('10.0.0.25')).esmtp).not.toBeNull();
    expect(p.classify(flow('52.101.0.1')).esmtp).toBeNull();
  });

  it('an access-list with host entries only gets none', () => {
    const p = compilePolicyText(TEXT.replace(' group-object CLOUD\n', '').replace('access-list SMTP_OUT extended permit tcp any object EXO eq 587\n', ''), 'fw.txt');
    expect(p.warnings.some((x) => /cannot be evaluated on a capture/.test(x.message))).toBe(false);
  });
});
