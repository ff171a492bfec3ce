/**
 * classify() keeps decisions per (ingress interface, server port) when no class-map looks at
 * addresses. Cached answers must equal a fresh policy's first answer for every tuple, and a
 * policy with an access-list must keep deciding per connection.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePolicyText, defaultPolicy } from '../../src/policy/load.js';
import type { FlowTuple } from '../../src/policy/types.js';

const PORTS = `class-map MAIL
 match port tcp range 2525 2527
policy-map global_policy
 class MAIL
  inspect esmtp
  set connection conn-max 10
`;
const ACL = `access-list ESMTP-INSPECT extended deny   tcp any host 192.0.2.25 eq smtp
access-list ESMTP-INSPECT extended permit tcp any any eq smtp
class-map ESMTP-CLASS
 match access-list ESMTP-INSPECT
policy-map global_policy
 class inspection_default
  no inspect esmtp
 class ESMTP-CLASS
  inspect esmtp
`;

const tuple = fc.record({
  a: fc.integer({ min: 0, max: 3 }),
  b: fc.integer({ min: 0, max: 3 }),
  clientPort: fc.integer({ min: 1, max: 65535 }),
  serverPort: fc.constantFrom(25, 587, 2525, 2526, 2528, 8025),
  iface: fc.constantFrom(undefined, 'outside', 'inside'),
});
const IPS = ['192.0.2.25', '192.0.2.26', '198.51.100.7', '2001:db8::25'];

function toFlow(t: { a: number; b: number; clientPort: number; serverPort: number; iface: string | undefined }): FlowTuple {
  const clientIp = IPS[t.a]!;
  const serverIp = IPS[t.b]!;
  return { ipVersion: clientIp.includes(':') ? 6 : 4, clientIp, clientPort: t.clientPort, serverIp, serverPort: t.serverPort, ...(t.iface ? { ingressInterface: t.iface } : {}) };
}

describe('classify() decision cache', () => {
  for (const [name, text] of [
    ['default policy', null],
    ['match port + set connection', PORTS],
    ['access-list (not cached)', ACL],
  ] as const) {
    it(`${name}: every answer equals a fresh policy's answer for the same tuple`, () => {
      const cached = text === null ? defaultPolicy() : compilePolicyText(text, 'x');
      fc.assert(
        fc.property(fc.array(tuple, { minLength: 1, maxLength: 30 }), (ts) => {
          for (const t of ts) {
            const f = toFlow(t);
            const fresh = text === null ? defaultPolicy() : compilePolicyText(text, 'x');
            expect(cached.classify(f)).toEqual(fresh.classify(f));
          }
        }),
        { numRuns: 40 },
      );
    });
  }

  it('the access-list policy still tells the exempted gateway from other servers on the same port', () => {
    const p = compilePolicyText(ACL, 'x');
    expect(p.classify(toFlow({ a: 2, b: 1, clientPort: 40000, serverPort: 25, iface: undefined })).esmtp).not.toBeNull();
    expect(p.classify(toFlow({ a: 2, b: 0, clientPort: 40000, serverPort: 25, iface: undefined })).esmtp).toBeNull();
    expect(p.classify(toFlow({ a: 2, b: 1, clientPort: 40001, serverPort: 25, iface: undefined })).esmtp).not.toBeNull();
  });
});
