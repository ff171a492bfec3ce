/**
 * Object-group hierarchies and access-list editing as the ASA does them: a circular group
 * hierarchy is refused at the group-object line that closes it; groups are flattened once at
 * compile time (shared subgroups cost nothing per connection, any depth matches); `line N`
 * inserts; `no access-list ...` and `no network-object ...` remove; time-ranges are checked.
 */
import { describe, expect, it } from 'vitest';
import { PolicyError } from '../../src/errors.js';
import { compilePolicyText } from '../../src/policy/load.js';
import type { CompiledPolicy, FlowTuple } from '../../src/policy/types.js';

const WRAP = `class-map T
 match access-list T
policy-map TP
 class T
  inspect esmtp
no service-policy global_policy global
service-policy TP global
`;

function errorOf(text: string): { where: string; code: string; message: string } {
  try {
    compilePolicyText(text + WRAP, 'p.cfg');
  } catch (e) {
    expect(e).toBeInstanceOf(PolicyError);
    const pe = e as PolicyError;
    return { where: `${pe.line}:${pe.column}`, code: pe.code, message: pe.message };
  }
  throw new Error('expected a PolicyError');
}

const policy = (text: string): CompiledPolicy => compilePolicyText(text + WRAP, 'p.cfg');

const flow = (clientIp: string, serverIp: string, serverPort = 25): FlowTuple => ({ ipVersion: 4, clientIp, clientPort: 40000, serverIp, serverPort });
const inspected = (p: CompiledPolicy, clientIp: string, serverIp: string, serverPort = 25): boolean => p.classify(flow(clientIp, serverIp, serverPort)).esmtp !== null;

describe('circular object-group hierarchies', () => {
  it('refuses G1 -> G2 -> G1 at the group-object line that closes the cycle', () => {
    const e = errorOf(`object-group network G1
 network-object host 10.0.0.1
object-group network G2
 group-object G1
object-group network G1
 group-object G2
access-list T extended permit tcp object-group G1 any eq smtp
`);
    expect(e.code).toBe('E_POLICY_REFERENCE');
    expect(e.where).toBe('6:15');
    expect(e.message).toContain('circular');
    expect(e.message).toContain('G2 -> G1');
  });

  it('refuses a cycle through a longer path and through service and protocol groups', () => {
    expect(
      errorOf(`object-group network A
 network-object host 10.0.0.1
object-group network B
 group-object A
object-group network C
 group-object B
object-group network A
 network-object host 10.0.0.2
 group-object C
`),
    ).toMatchObject({ code: 'E_POLICY_REFERENCE', where: '9:15' });
    expect(
      errorOf(`object-group service S1 tcp
 port-object eq 25
object-group service S2 tcp
 group-object S1
object-group service S1 tcp
 group-object S2
`),
    ).toMatchObject({ code: 'E_POLICY_REFERENCE', where: '6:15' });
    expect(
      errorOf(`object-group protocol P1
 protocol-object tcp
object-group protocol P2
 group-object P1
object-group protocol P1
 group-object P2
`),
    ).toMatchObject({ code: 'E_POLICY_REFERENCE', where: '6:15' });
  });

  it('accepts a diamond (two paths to one group is not a cycle)', () => {
    const p = policy(`object-group network D
 network-object host 10.0.0.1
object-group network L
 group-object D
object-group network R
 group-object D
object-group network TOP
 group-object L
 group-object R
access-list T extended permit tcp object-group TOP any eq smtp
`);
    expect(inspected(p, '10.0.0.1', '192.0.2.1')).toBe(true);
    expect(inspected(p, '10.0.0.2', '192.0.2.1')).toBe(false);
  });
});
