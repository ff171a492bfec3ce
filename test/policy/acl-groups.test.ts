/**
 * Object-group hierarchies and access-list editing as the ASA does them: a circular group
 * hierarchy is refused at the group-object line that closes it; groups are flattened once at
 * compile time (shared subgroups cost nothing per connection, any depth matches); `line N`
 * inserts; `no access-list ...` and `no network-object ...` remove; time-ranges are checked.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PolicyError } from '../../src/errors.js';
import { compilePolicyText } from '../../src/policy/load.js';
import type { CompiledPolicy, FlowTuple } from '../../src/policy/types.js';
import { EXTERNAL_PCAPS, haveShared } from '../helpers/shared.js';
import { replayToTemp } from '../replay/helpers.js';
import { WRAP } from './exempting-policy.js';

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

describe('flattened groups', () => {
  /** 26 levels of A_k and B_k, each including A_{k-1} and B_{k-1}: 2^26 paths to the leaves. */
  const diamond = (levels: number): string => {
    const out = ['object-group network A0', ' network-object host 10.99.99.99', 'object-group network B0', ' network-object host 10.99.99.98'];
    for (let k = 1; k <= levels; k++) for (const n of ['A', 'B']) out.push(`object-group network ${n}${k}`, ` group-object A${k - 1}`, ` group-object B${k - 1}`);
    return out.join('\n') + '\n';
  };

  it('a 26-level shared-subgroup hierarchy is matched without walking every path (the leaf and a miss)', () => {
    const p = policy(`${diamond(26)}access-list T extended deny tcp object-group A26 any eq smtp
access-list T extended permit tcp any object-group B26 eq smtp
access-list T extended permit tcp host 10.1.1.1 any eq smtp
`);
    // a miss must visit the whole hierarchy: 2^26 paths would not finish; the DAG is 54 nodes
    expect(inspected(p, '10.1.1.1', '192.0.2.1')).toBe(true);
    expect(inspected(p, '10.99.99.99', '192.0.2.1')).toBe(false); // deny by A26
    expect(inspected(p, '10.2.2.2', '10.99.99.98')).toBe(true); // permit by B26
    expect(inspected(p, '10.2.2.2', '192.0.2.1')).toBe(false);
  });

  it('nesting deeper than 64 levels matches (it silently never did)', () => {
    const out = ['object-group network L0', ' network-object 172.16.0.0 255.255.0.0'];
    for (let k = 1; k <= 200; k++) out.push(`object-group network L${k}`, ` network-object host 203.0.113.${k % 250}`, ` group-object L${k - 1}`);
    const p = policy(`${out.join('\n')}\naccess-list T extended permit tcp object-group L200 any eq smtp\n`);
    expect(inspected(p, '172.16.5.5', '192.0.2.1')).toBe(true);
    expect(inspected(p, '203.0.113.7', '192.0.2.1')).toBe(true);
    expect(inspected(p, '172.17.5.5', '192.0.2.1')).toBe(false);
    expect(inspected(p, '172.16.5.5', '192.0.2.1', 587)).toBe(false);
  });

  it('a chain of 15000 nested network groups compiles, matches and prints (no recursion per level)', () => {
    const out = ['object-group network L0', ' network-object host 10.0.0.1'];
    for (let k = 1; k <= 15000; k++) out.push(`object-group network L${k}`, ` network-object host 10.1.${(k >> 8) % 250}.${k % 250}`, ` group-object L${k - 1}`);
    const p = policy(`${out.join('\n')}\naccess-list T extended permit tcp object-group L15000 any eq smtp\n`);
    expect(inspected(p, '10.0.0.1', '192.0.2.1')).toBe(true);
    expect(inspected(p, '10.0.0.2', '192.0.2.1')).toBe(false);
    expect(p.normalized()).toContain('object-group network L0\n network-object host 10.0.0.1');
    // closing a cycle at the bottom of the chain is found through all of it
    const e = errorOf(`${out.join('\n')}\nobject-group network L0\n group-object L15000\n`);
    expect(e).toMatchObject({ code: 'E_POLICY_REFERENCE', where: `${out.length + 2}:15` });
    expect(e.message).toContain('(L15000 -> L14999 -> L14998 -> L14997 -> ... 14995 more ... -> L1 -> L0)');
  });

  it('nested service and protocol groups keep their ports, and ACE order decides', () => {
    const p = policy(`object-group service MAIL tcp
 port-object eq smtp
object-group service SUB tcp
 port-object eq 2525
object-group service TOP tcp
 group-object MAIL
 group-object SUB
object-group service SVC
 service-object tcp destination eq 587
object-group service SVC2
 group-object SVC
object-group protocol P
 protocol-object udp
object-group protocol PT
 group-object P
 protocol-object tcp
access-list T extended deny tcp host 10.0.0.9 any object-group TOP
access-list T extended permit tcp any any object-group TOP
access-list T extended permit object-group SVC2 any host 192.0.2.5
access-list T extended permit object-group PT any host 192.0.2.6
`);
    expect(p.esmtpPorts()).toBeNull(); // the protocol group permits every TCP port
    expect(inspected(p, '10.0.0.1', '192.0.2.1', 25)).toBe(true);
    expect(inspected(p, '10.0.0.1', '192.0.2.1', 2525)).toBe(true);
    expect(inspected(p, '10.0.0.9', '192.0.2.1', 2525)).toBe(false);
    expect(inspected(p, '10.0.0.1', '192.0.2.1', 587)).toBe(false);
    expect(inspected(p, '10.0.0.1', '192.0.2.5', 587)).toBe(true);
    expect(inspected(p, '10.0.0.1', '192.0.2.5', 25)).toBe(true); // line 2
    expect(inspected(p, '10.0.0.1', '192.0.2.5', 26)).toBe(false);
    expect(inspected(p, '10.0.0.1', '192.0.2.6', 26)).toBe(true);
  });
});

describe('access-list NAME line N', () => {
  const base = `access-list T extended permit tcp any any eq smtp
access-list T extended permit tcp any any eq 587
`;
  it('inserts at N (shifting later entries), so an inserted deny wins over the permit it precedes', () => {
    const p = policy(`${base}access-list T line 1 extended deny tcp host 10.10.1.4 any eq smtp
access-list T line 3 extended deny tcp host 10.10.1.5 any eq 587
`);
    expect(inspected(p, '10.10.1.4', '74.53.140.153')).toBe(false);
    expect(inspected(p, '10.10.1.6', '74.53.140.153')).toBe(true);
    // line 3 is now before "permit ... eq 587" (which moved to line 4 after the first insert)
    expect(inspected(p, '10.10.1.5', '74.53.140.153', 587)).toBe(false);
    expect(p.normalized()).toMatch(/deny tcp host 10\.10\.1\.4 any eq smtp\n.*permit tcp any any eq smtp\n.*deny tcp host 10\.10\.1\.5 any eq 587\n.*permit tcp any any eq 587/);
  });

  it('N beyond the end appends', () => {
    const p = policy(`${base}access-list T line 99 extended deny tcp host 10.10.1.4 any eq smtp
`);
    expect(inspected(p, '10.10.1.4', '74.53.140.153')).toBe(true);
  });
});

describe('no forms for access-list entries and object-group entries', () => {
  it('no access-list NAME extended ... removes that exact entry; a missing one is a warning', () => {
    const p = policy(`access-list T extended deny tcp host 10.10.1.4 any eq smtp
access-list T extended permit tcp any any eq smtp
no access-list T extended deny tcp host 10.10.1.4 any eq smtp
no access-list T extended deny tcp host 10.10.1.9 any eq smtp
`);
    expect(inspected(p, '10.10.1.4', '74.53.140.153')).toBe(true);
    expect(p.warnings.map((w) => [w.line, w.message])).toEqual([
      [4, '"no access-list T extended deny tcp host 10.10.1.9 any eq smtp" removed nothing: access-list T has no entry "deny tcp host 10.10.1.9 any eq smtp"'],
    ]);
  });

  it('an entry added twice is one entry: one no network-object removes it', () => {
    const p = policy(`object-group network G
 network-object host 10.10.1.4
 network-object host 10.10.1.4
 network-object host 10.10.1.5
 no network-object host 10.10.1.4
access-list T extended permit tcp object-group G any eq smtp
`);
    expect(inspected(p, '10.10.1.4', '74.53.140.153')).toBe(false);
    expect(inspected(p, '10.10.1.5', '74.53.140.153')).toBe(true);
  });

  it('no network-object / no group-object / no port-object / no service-object / no protocol-object remove, and the lines after them are read', () => {
    const p = policy(`object-group network SUB
 network-object host 10.10.1.7
object-group network G
 network-object host 10.10.1.4
 network-object 10.20.0.0 255.255.0.0
 group-object SUB
object-group service PORTS tcp
 port-object eq smtp
 port-object eq 2525
object-group service SVC
 service-object tcp destination eq 587
 service-object tcp destination eq 465
object-group protocol PR
 protocol-object tcp
 protocol-object udp
object-group network G
 no network-object host 10.10.1.4
 no group-object SUB
 no network-object host 10.10.1.99
 network-object host 10.10.1.8
object-group service PORTS tcp
 no port-object eq 2525
object-group service SVC
 no service-object tcp destination eq 587
object-group protocol PR
 no protocol-object tcp
access-list T extended permit tcp object-group G any object-group PORTS
access-list T extended permit object-group SVC host 10.10.1.8 any
access-list T extended permit object-group PR host 10.10.1.9 any
`);
    expect(inspected(p, '10.10.1.4', '74.53.140.153')).toBe(false);
    expect(inspected(p, '10.10.1.7', '74.53.140.153')).toBe(false);
    expect(inspected(p, '10.10.1.8', '74.53.140.153')).toBe(true); // added after the no lines
    expect(inspected(p, '10.20.3.3', '74.53.140.153')).toBe(true);
    expect(inspected(p, '10.20.3.3', '74.53.140.153', 2525)).toBe(false);
    expect(inspected(p, '10.10.1.8', '74.53.140.153', 587)).toBe(false);
    expect(inspected(p, '10.10.1.8', '74.53.140.153', 465)).toBe(true);
    expect(inspected(p, '10.10.1.9', '74.53.140.153', 8080)).toBe(false); // only udp left in PR
    expect(p.warnings.map((w) => [w.line, w.message])).toEqual([[19, '"no network-object host 10.10.1.99" removed nothing: object-group G has no such entry']]);
    expect(p.ignored).toEqual([]);
  });
});

describe('time-range on an access-list entry', () => {
  it('an undefined time-range is an E_POLICY_REFERENCE error at its name', () => {
    expect(errorOf('access-list T extended permit tcp any any eq smtp time-range WORKHOURS\n')).toMatchObject({ code: 'E_POLICY_REFERENCE', where: '1:62' });
  });

  it('a defined one (before or after the entry) is accepted and evaluated (test/policy/time-range.test.ts has the windows)', () => {
    const p = policy(`access-list T extended permit tcp any any eq smtp time-range WORKHOURS
time-range WORKHOURS
 periodic weekdays 8:00 to 18:00
`);
    // Monday 2024-01-08 09:00 UTC is inside, 19:00 is not
    expect(p.classify({ ...flow('10.10.1.4', '74.53.140.153'), startTimeSec: Date.UTC(2024, 0, 8, 9) / 1000 }).esmtp).not.toBeNull();
    expect(p.classify({ ...flow('10.10.1.4', '74.53.140.153'), startTimeSec: Date.UTC(2024, 0, 8, 19) / 1000 }).esmtp).toBeNull();
    expect(p.warnings.map((w) => w.message)).toEqual(['time-ranges are evaluated in UTC at each connection\'s first packet: no "clock timezone" line gives the ASA\'s local time']);
    expect(p.normalized()).toContain('eq smtp time-range WORKHOURS');
    expect(p.normalized()).toContain('time-range WORKHOURS\n periodic weekdays 08:00 to 18:00\n');
    // the printout reads back
    const body = (t: string) => t.split('\n').filter((l) => !l.startsWith('!')).join('\n');
    expect(body(compilePolicyText(p.normalized(), 'n.cfg').normalized())).toBe(body(p.normalized()));
  });
});

describe.skipIf(!haveShared)('replay of zeek-smtp.pcap (10.10.1.4 -> 74.53.140.153:25, 192.168.133.100 -> 192.168.133.102:25)', () => {
  const pcap = path.join(EXTERNAL_PCAPS, 'zeek-smtp.pcap');
  const run = async (acl: string) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'acl-groups-'));
    const file = path.join(dir, 'policy.txt');
    writeFileSync(file, acl + WRAP);
    return (await replayToTemp(pcap, { policy: file })).summary.connections;
  };

  it('an inserted line 1 deny, a removed entry and a removed network-object change the verdicts', async () => {
    const permitAll = 'access-list T extended permit tcp any any eq smtp\n';
    expect(await run(permitAll)).toMatchObject({ inspected: 2 });
    expect(await run(`${permitAll}access-list T line 1 extended deny tcp host 10.10.1.4 any eq smtp\n`)).toMatchObject({ inspected: 1 });
    expect(await run(`access-list T extended deny tcp host 10.10.1.4 any eq smtp\n${permitAll}no access-list T extended deny tcp host 10.10.1.4 any eq smtp\n`)).toMatchObject({ inspected: 2 });
    const grp = `object-group network G
 network-object host 10.10.1.4
 network-object host 192.168.133.100
 no network-object host 10.10.1.4
access-list T extended permit tcp object-group G any eq smtp
`;
    expect(await run(grp)).toMatchObject({ inspected: 1 });
  });
});
