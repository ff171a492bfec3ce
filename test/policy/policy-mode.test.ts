/**
 * `--policy-mode auto|merge|snapshot` (native-notes "layering"), auto-detection of printouts,
 * `clear configure ...`, a complete snapshot without service-policy, and pager-erase blanks. The
 * fixtures are ASA `show running-config` printouts copied without their header
 * (running-config-no-header.txt), `show running-config policy-map` (show-run-policy-map.txt) and
 * the default ESMTP map printed with one changed value (show-run-default-esmtp-map.txt).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PolicyError } from '../../src/errors.js';
import { DEFAULT_POLICY_TEXT } from '../../src/policy/default-policy.js';
import { chooseLayering } from '../../src/policy/detect.js';
import { compilePolicyText } from '../../src/policy/load.js';
import type { CompiledPolicy, EsmtpMap, FlowTuple } from '../../src/policy/types.js';
import { REPO_ROOT } from '../helpers/shared.js';

const fixture = (name: string) => readFileSync(path.join(REPO_ROOT, 'test/policy/fixtures', name), 'utf8');
const flow: FlowTuple = { ipVersion: 4, clientIp: '198.51.100.7', clientPort: 40000, serverIp: '192.0.2.25', serverPort: 25 };
const defaultMap = (p: CompiledPolicy): EsmtpMap => p.esmtpMaps.get('_default_esmtp_map') as EsmtpMap;
const rcptLimits = (p: CompiledPolicy) => defaultMap(p).matches.filter((m) => m.criterion.kind === 'cmd-rcpt-count').map((m) => m.text);
const warningsOf = (p: CompiledPolicy) => p.warnings.filter((w) => w.level === 'warning');

const SEED_EXEMPTION = `access-list ESMTP-INSPECT extended deny   tcp any host 192.0.2.25 eq smtp
access-list ESMTP-INSPECT extended permit tcp any any eq smtp
class-map ESMTP-CLASS
 match access-list ESMTP-INSPECT
policy-map global_policy
 class inspection_default
  no inspect esmtp
 class ESMTP-CLASS
  inspect esmtp _default_esmtp_map
`;

describe('auto-detection of show running-config printouts', () => {
  it('a running config copied without ": Saved"/"ASA Version" is a snapshot: the inspection the admin removed stays removed', () => {
    const text = fixture('running-config-no-header.txt');
    const p = compilePolicyText(text, 'nover.txt');
    expect(p.layering).toMatchObject({ requested: 'auto', mode: 'snapshot' });
    expect(p.layering?.reason).toMatch(/line 43: "Cryptochecksum:" line/);
    expect(p.classify(flow).esmtp).toBeNull();
    expect(p.normalized()).toMatch(/^! layering: snapshot \(auto\)/m);
    // merged on purpose, the default inspect esmtp comes back, and the admin is told which line looks printed
    const merged = compilePolicyText(text, 'nover.txt', { mode: 'merge' });
    expect(merged.classify(flow).esmtp?.name).toBe('_default_esmtp_map');
    const first = text.split('\n').findIndex((l) => l.startsWith('  inspect dns preset_dns_map')) + 1;
    expect(warningsOf(merged)).toEqual([
      expect.objectContaining({ line: first, message: expect.stringMatching(/class inspection_default of policy-map global_policy lists 13 inspect lines without "inspect esmtp".*--policy-mode snapshot/) }),
    ]);
  });

  it('"show running-config policy-map" output (no global lines at all) is a section snapshot, from its printed inspect list', () => {
    const p = compilePolicyText(fixture('show-run-policy-map.txt'), 'showrun.txt');
    expect(p.layering?.mode).toBe('snapshot');
    expect(p.layering?.reason).toMatch(/section printout/);
    expect(p.classify(flow).esmtp).toBeNull();
  });

  it('the printed _default_esmtp_map with a changed RCPT limit replaces the default limit (auto) instead of adding to it', () => {
    const text = fixture('show-run-default-esmtp-map.txt');
    const p = compilePolicyText(text, 'rcpt.txt');
    expect(p.layering?.reason).toMatch(/description Default ESMTP policy-map/);
    expect(rcptLimits(p)).toEqual(['match cmd RCPT count gt 500']);
    // a section printout shows no service-policy: the default binding stays, with a note
    expect(p.classify(flow).esmtp?.name).toBe('_default_esmtp_map');
    expect(p.warnings).toContainEqual(expect.objectContaining({ level: 'note', message: expect.stringContaining('factory default "service-policy global_policy global" is kept') }));
    const merged = compilePolicyText(text, 'rcpt.txt', { mode: 'merge' });
    expect(rcptLimits(merged)).toEqual(['match cmd RCPT count gt 100', 'match cmd RCPT count gt 500']);
    const line = text.split('\n').indexOf(' match cmd RCPT count gt 500') + 1;
    expect(warningsOf(merged)).toEqual([
      expect.objectContaining({ line, message: expect.stringContaining('next to the factory "match cmd RCPT count gt 100"') }),
    ]);
  });

  it('typed excerpts stay merged: allow-tls added to the default map, the seed exemption, the default text itself without description', () => {
    const tls = compilePolicyText('!\npolicy-map type inspect esmtp _default_esmtp_map\n parameters\n  allow-tls\n!\n', 'tls.txt');
    expect(tls.layering?.mode).toBe('merge');
    expect(defaultMap(tls).matches).toHaveLength(7);
    expect(defaultMap(tls).parameters.allowTls).toEqual({ log: false });
    expect(warningsOf(tls)).toEqual([]);
    const seed = compilePolicyText(SEED_EXEMPTION, 'seed.txt');
    expect(seed.layering?.mode).toBe('merge');
    expect(warningsOf(seed)).toEqual([]);
    expect(chooseLayering('policy-map global_policy\n class inspection_default\n  inspect dns\n  inspect ftp\n').mode).toBe('merge');
  });

  it('printout signs with a typed command line: merge, and the reason says which line decided', () => {
    const text = `${fixture('show-run-policy-map.txt')}policy-map global_policy\n class inspection_default\n  no inspect esmtp\n`;
    const c = chooseLayering(text);
    expect(c.mode).toBe('merge');
    expect(c.reason).toMatch(/a "no" command \("no inspect esmtp"\) is typed/);
    expect(compilePolicyText(text, 'x.txt').classify(flow).esmtp).toBeNull();
  });

  it('the seed exemption works in both modes (merge typed; snapshot inside a running config)', () => {
    const gw = { ...flow };
    const other = { ...flow, serverIp: '192.0.2.99' };
    const merged = compilePolicyText(SEED_EXEMPTION, 'seed.txt');
    expect(merged.classify(gw).esmtp).toBeNull();
    expect(merged.classify(other).esmtp?.name).toBe('_default_esmtp_map');
    const snap = compilePolicyText(SEED_EXEMPTION.replace(/  no inspect esmtp\n/, '  inspect ftp\n') + 'service-policy global_policy global\n', 'seed.txt', { mode: 'snapshot' });
    expect(snap.layering).toMatchObject({ requested: 'snapshot', mode: 'snapshot' });
    expect(snap.classify(gw).esmtp).toBeNull();
    expect(snap.classify(other).esmtp?.name).toBe('_default_esmtp_map');
  });
});

describe('a complete snapshot without service-policy', () => {
  it('applies nothing, with a warning (a show running-config prints every service-policy)', () => {
    const text = `: Saved\nASA Version 9.8(4)\n!\nhostname fw\n${DEFAULT_POLICY_TEXT.replace('service-policy global_policy global\n', '')}: end\n`;
    const p = compilePolicyText(text, 'snap.txt');
    expect(p.classify(flow).esmtp).toBeNull();
    expect(p.esmtpPorts()).toEqual([]);
    expect(warningsOf(p)).toEqual([expect.objectContaining({ message: expect.stringContaining('no service-policy in this running config: nothing is inspected') })]);
    // with its service-policy line, the same text inspects
    expect(compilePolicyText(text.replace(': end', 'service-policy global_policy global\n: end'), 'snap.txt').classify(flow).esmtp?.name).toBe('_default_esmtp_map');
  });
});

describe('clear configure', () => {
  it('clear configure policy-map global_policy, then a new global_policy without esmtp: nothing is inspected (the binding stays)', () => {
    const p = compilePolicyText('clear configure policy-map global_policy\npolicy-map global_policy\n class inspection_default\n  inspect dns\n', 'clear.txt');
    expect(p.classify(flow).esmtp).toBeNull();
    expect(p.normalized()).not.toMatch(/^\s+inspect esmtp/m);
    expect(p.normalized()).toMatch(/^service-policy global_policy global$/m);
  });

  it('without a name it clears every policy-map; _default_esmtp_map comes back with its factory settings', () => {
    const text = `policy-map type inspect esmtp _default_esmtp_map\n parameters\n  allow-tls\npolicy-map type inspect esmtp mine\n match cmd RCPT count gt 5\n  drop-connection\nno service-policy global_policy global\nclear configure policy-map\npolicy-map global_policy\n class inspection_default\n  inspect ftp\nservice-policy global_policy global\n`;
    const p = compilePolicyText(text, 'clear2.txt');
    expect([...p.esmtpMaps.keys()]).toEqual(['_default_esmtp_map']);
    expect(defaultMap(p).parameters.allowTls).toBeNull();
    expect(p.classify(flow).esmtp).toBeNull();
  });

  it('a cleared policy-map, class-map or access-list that is still referenced is an error at the clear line', () => {
    const err = (t: string) => {
      try {
        compilePolicyText(t, 'c.txt');
      } catch (e) {
        return e as PolicyError;
      }
      throw new Error('compiled');
    };
    expect(err('clear configure policy-map global_policy\n')).toMatchObject({ code: 'E_POLICY_REFERENCE', line: 1 });
    expect(err('!\nclear configure class-map inspection_default\n').message).toMatch(/class-map "inspection_default" is not defined/);
    expect(err('!\nclear configure class-map inspection_default\n')).toMatchObject({ line: 2 });
    expect(err(`${SEED_EXEMPTION}clear configure access-list ESMTP-INSPECT\n`).message).toMatch(/access-list "ESMTP-INSPECT" is not defined/);
    // redefined after the clear, it is replaced as a whole
    const p = compilePolicyText(`${SEED_EXEMPTION}clear configure access-list ESMTP-INSPECT\naccess-list ESMTP-INSPECT extended permit tcp any any eq smtp\n`, 'c.txt');
    expect(p.classify(flow).esmtp?.name).toBe('_default_esmtp_map');
  });

  it('clear configure service-policy removes the default binding: nothing is inspected', () => {
    expect(compilePolicyText('clear configure service-policy\n', 'c.txt').classify(flow).esmtp).toBeNull();
    expect(compilePolicyText('clear configure service-policy interface outside\n', 'c.txt').warnings).toEqual([
      expect.objectContaining({ level: 'warning', message: expect.stringContaining('removed nothing') }),
    ]);
  });

  it('objects and object-groups in use by an access-list stay (with a warning); unused ones go', () => {
    const text = `object network GW\n host 192.0.2.25\nobject network SPARE\n host 192.0.2.26\nobject-group network NETS\n network-object object GW\naccess-list ESMTP-INSPECT extended deny tcp any object-group NETS eq smtp\naccess-list ESMTP-INSPECT extended permit tcp any any eq smtp\nclass-map ESMTP-CLASS\n match access-list ESMTP-INSPECT\npolicy-map global_policy\n class inspection_default\n  no inspect esmtp\n class ESMTP-CLASS\n  inspect esmtp\nclear configure object\nclear configure object-group\n`;
    const p = compilePolicyText(text, 'o.txt');
    expect(p.classify(flow).esmtp).toBeNull(); // still exempted through NETS -> GW
    const w = warningsOf(p).map((x) => [x.line, x.message]);
    expect(w).toEqual([
      [16, expect.stringContaining('kept 1 object(s) still in use: GW (used by object-group NETS)')],
      [17, expect.stringContaining('kept 1 object-group(s) still in use: NETS (used by access-list ESMTP-INSPECT)')],
    ]);
  });

  it('clear configure regex / class-map type regex, and other clear lines warn instead of vanishing', () => {
    const p = compilePolicyText('regex R1 "x"\nclass-map type regex match-any RC\n match regex R1\nclear configure class-map type regex match-any RC\nclear configure regex\nclear configure all\nclear xlate\n', 'r.txt');
    expect(p.warnings.map((w) => w.line)).toEqual([6, 7]);
    expect(p.warnings[0]?.message).toMatch(/"clear configure all" is not modelled: ignored/);
    expect(p.warnings[1]?.message).toMatch(/not a configuration command/);
  });
});

describe('pager prompts', () => {
  it('the blanks that erased the prompt go with it: the next line is not taken as indented', () => {
    const text = 'class-map inspection_default\n match default-inspection-traffic\n<--- More --->              hpm topN enable\npolicy-map global_policy\n class inspection_default\n  no inspect esmtp\n';
    const p = compilePolicyText(text, 'pagerB.txt');
    expect(p.classify(flow).esmtp).toBeNull();
    expect(p.ignored).toContainEqual(expect.objectContaining({ line: 3, text: 'hpm topN enable' }));
    // with CR erasing (as captured by a terminal log), the same
    expect(compilePolicyText(text.replace('>              hpm', '>\r              \rhpm'), 'pagerA.txt').classify(flow).esmtp).toBeNull();
    // a line's own indentation after the erase blanks stays (here: an indented typo is still an error)
    expect(() => compilePolicyText('policy-map global_policy\n class inspection_default\n<--- More --->                bogus\n', 'p.txt')).toThrow(/got "bogus"/);
  });

  it('typed lines admins also type (interface, hostname) yield to a typed command: merge, inspection kept', () => {
    const text = 'interface GigabitEthernet0/1\n nameif dmz\npolicy-map type inspect esmtp mymap\n parameters\n  allow-tls\npolicy-map global_policy\n class inspection_default\n  no inspect esmtp\n  inspect esmtp mymap\n';
    const p = compilePolicyText(text, 'weak.txt');
    expect(p.layering).toMatchObject({ requested: 'auto', mode: 'merge' });
    expect(p.layering?.reason).toMatch(/"interface" block, but line 8/);
    expect(p.normalized()).toMatch(/^ {2}inspect esmtp mymap$/m);
  });
});
