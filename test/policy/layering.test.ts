/**
 * Layering over the factory default as on the ASA: an excerpt is configuration commands typed on
 * a device that has the default (existing objects are extended, `no` lines remove, the same line
 * twice is one line); a pasted `show running-config` is a snapshot whose objects replace the
 * default's (native-notes "layering").
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PolicyError } from '../../src/errors.js';
import { DEFAULT_POLICY_TEXT } from '../../src/policy/default-policy.js';
import { compilePolicyText, defaultPolicy } from '../../src/policy/load.js';
import type { CompiledPolicy, EsmtpMap, FlowTuple } from '../../src/policy/types.js';
import { REPO_ROOT } from '../helpers/shared.js';

const flow: FlowTuple = { ipVersion: 4, clientIp: '198.51.100.7', clientPort: 40000, serverIp: '192.0.2.25', serverPort: 25 };
const defaultMap = (p: CompiledPolicy): EsmtpMap => p.esmtpMaps.get('_default_esmtp_map') as EsmtpMap;
const lines = (m: EsmtpMap) => m.matches.map((x) => `${x.classId} ${x.text} -> ${x.actions.primary ?? ''}${x.actions.log ? ' log' : ''}`);
const body = (p: CompiledPolicy) => p.normalized().split('\n').filter((l) => !l.startsWith('! ')).join('\n');

describe('an excerpt that only changes _default_esmtp_map adds to it', () => {
  it('allow-tls alone keeps mask-banner and the 7 default matches (the reviewer case)', () => {
    const p = compilePolicyText('policy-map type inspect esmtp _default_esmtp_map\n parameters\n  allow-tls\n', 'a.txt');
    const m = defaultMap(p);
    expect(m.parameters).toEqual({ maskBanner: true, mailRelay: null, specialCharacter: null, allowTls: { log: false } });
    expect(lines(m)).toEqual(lines(defaultMap(defaultPolicy())));
    expect(m.matches.map((x) => x.criterionText)).toContain('cmd RCPT count gt 100');
    expect(m.description).toBe('Default ESMTP policy-map');
    expect(p.classify(flow).esmtp).toBe(m);
  });

  it('no match removes one line, a new match is appended, Class N renumbered', () => {
    const p = compilePolicyText(
      `policy-map type inspect esmtp _default_esmtp_map
 no match cmd RCPT count gt 100
 match cmd RCPT count gt 500
  drop-connection log
`,
      'a.txt',
    );
    const m = defaultMap(p);
    expect(m.matches.map((x) => x.criterionText)).toEqual([
      'cmd line length gt 512',
      'body line length gt 998',
      'header line length gt 998',
      'sender-address length gt 320',
      'MIME filename length gt 255',
      'ehlo-reply-parameter others',
      'cmd RCPT count gt 500',
    ]);
    expect(m.matches.map((x) => x.classId)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(p.warnings).toEqual([]);
  });

  it('keywords compare case-insensitively: "no match mime filename ..." removes the default "match MIME filename ..."', () => {
    const m = defaultMap(compilePolicyText('policy-map type inspect esmtp _default_esmtp_map\n no match mime filename length gt 255\n', 'a'));
    expect(m.matches).toHaveLength(6);
    expect(m.matches.some((x) => x.criterion.kind === 'mime-filename-length')).toBe(false);
  });

  it('re-entering a default match with an action replaces its actions; no ACTION removes one', () => {
    const m = defaultMap(
      compilePolicyText(
        `policy-map type inspect esmtp _default_esmtp_map
 match cmd line length gt 512
  reset log
 match header line length gt 998
  no drop-connection
 match ehlo-reply-parameter others
  log
`,
        'a',
      ),
    );
    const byText = new Map(m.matches.map((x) => [x.criterionText, x.actions]));
    expect(byText.get('cmd line length gt 512')).toEqual({ primary: 'reset', log: true, rateLimit: null });
    expect(byText.get('header line length gt 998')).toEqual({ primary: null, log: true, rateLimit: null });
    // the replacement of inherited actions happens once: a second action line adds to the first
    expect(byText.get('ehlo-reply-parameter others')).toEqual({ primary: null, log: true, rateLimit: null });
    expect(m.matches).toHaveLength(7);
  });

  it('the same lines twice are one line (idempotent), in a map, a class-map, an ACL and a policy-map', () => {
    const once = `access-list A extended permit tcp any any eq 2525
class-map C
 match access-list A
policy-map type inspect esmtp M
 match cmd verb VRFY
  mask log
policy-map global_policy
 class C
  inspect esmtp M
policy-map type inspect esmtp _default_esmtp_map
 parameters
  allow-tls
 match cmd line length gt 512
  drop-connection log
`;
    const a = compilePolicyText(once, 'a');
    const b = compilePolicyText(once + once, 'a');
    expect(body(b)).toBe(body(a));
    expect(b.esmtpMaps.get('M')?.matches).toHaveLength(1);
    expect(defaultMap(b).matches).toHaveLength(7);
  });

  it('a class added to global_policy goes after inspection_default; no class removes it again', () => {
    const add = 'class-map C\n match port tcp eq 2525\npolicy-map global_policy\n class C\n  inspect esmtp\n';
    const p = compilePolicyText(add, 'a');
    expect(p.esmtpPorts()).toEqual([25, 2525]);
    expect(p.classify(flow).className).toBe('inspection_default');
    expect(p.classify({ ...flow, serverPort: 2525 }).className).toBe('C');
    const q = compilePolicyText(`${add}policy-map global_policy\n no class C\nno class-map C\n`, 'a');
    expect(q.esmtpPorts()).toEqual([25]);
    expect(body(q)).toBe(body(defaultPolicy()));
  });

  it('no on a missing line is a warning, not an error (the policy still compiles)', () => {
    const p = compilePolicyText(
      'policy-map type inspect esmtp _default_esmtp_map\n no match body length gt 5\npolicy-map global_policy\n no class NOPE\nno service-policy other global\n',
      'w.txt',
    );
    expect(p.warnings.map((w) => [w.line, w.level])).toEqual([
      [2, 'warning'],
      [4, 'warning'],
      [5, 'warning'],
    ]);
    expect(p.warnings[0]?.message).toMatch(/removed nothing: policy-map type inspect esmtp _default_esmtp_map has no such match/);
    expect(p.classify(flow).esmtp?.name).toBe('_default_esmtp_map');
  });

  it('switching inspection_default to another map without "no inspect esmtp" first is warned about (the ASA rejects it)', () => {
    const map = 'policy-map type inspect esmtp M\n match cmd verb VRFY\n  mask\n';
    const bad = compilePolicyText(`${map}policy-map global_policy\n class inspection_default\n  inspect esmtp M\n`, 'a');
    expect(bad.warnings).toHaveLength(1);
    expect(bad.warnings[0]).toMatchObject({ line: 6, level: 'warning' });
    expect(bad.warnings[0]?.message).toMatch(/already inspects esmtp _default_esmtp_map: the ASA rejects this line/);
    const good = compilePolicyText(`${map}policy-map global_policy\n class inspection_default\n  no inspect esmtp\n  inspect esmtp M\n`, 'a');
    expect(good.warnings).toEqual([]);
    expect(good.classify(flow).esmtp?.name).toBe('M');
    // the same map again is no change and no warning
    expect(compilePolicyText('policy-map global_policy\n class inspection_default\n  inspect esmtp\n', 'a').warnings).toEqual([]);
  });

  it('objects in use cannot be removed, as on the ASA', () => {
    for (const [text, re] of [
      ['no policy-map type inspect esmtp _default_esmtp_map\n', /in use by class inspection_default of policy-map global_policy/],
      ['no class-map inspection_default\n', /in use by policy-map global_policy/],
      ['no policy-map global_policy\n', /in use by service-policy global_policy global/],
    ] as const) {
      let err: unknown;
      try {
        compilePolicyText(text, 'x.txt');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(PolicyError);
      expect((err as PolicyError).code).toBe('E_POLICY_REFERENCE');
      expect((err as PolicyError).message).toMatch(re);
    }
    // once unused, they go
    const p = compilePolicyText('no service-policy global_policy global\nno policy-map global_policy\n', 'x');
    expect(p.normalized()).not.toMatch(/policy-map global_policy/);
  });
});

describe('a pasted show running-config is a snapshot', () => {
  const head = ': Saved\n:\n: Serial Number: JAD0000\nASA Version 9.8(4)20\n!\nhostname fw\n';
  it('the full default map pasted back gives exactly the default', () => {
    const p = compilePolicyText(head + DEFAULT_POLICY_TEXT, 'run.txt');
    expect(body(p)).toBe(body(defaultPolicy()));
  });
  it('a changed value replaces the default line instead of adding a second one', () => {
    const changed = DEFAULT_POLICY_TEXT.replace('match cmd RCPT count gt 100', 'match cmd RCPT count gt 500');
    const m = defaultMap(compilePolicyText(head + changed, 'run.txt'));
    expect(m.matches.map((x) => x.criterionText)).toContain('cmd RCPT count gt 500');
    expect(m.matches.map((x) => x.criterionText)).not.toContain('cmd RCPT count gt 100');
    expect(m.matches).toHaveLength(7);
    // without the header, the printed description still makes it a (section) printout
    const section = compilePolicyText(changed, 'section.txt');
    expect(section.layering).toMatchObject({ requested: 'auto', mode: 'snapshot' });
    expect(defaultMap(section).matches).toHaveLength(7);
    // merged as commands on purpose, the same text adds (`no match` is how to remove on the ASA), with a warning
    const typed = compilePolicyText(changed, 'typed.txt', { mode: 'merge' });
    expect(defaultMap(typed).matches).toHaveLength(8);
    const line = changed.split('\n').indexOf(' match cmd RCPT count gt 500') + 1;
    expect(typed.warnings).toContainEqual(expect.objectContaining({ line, level: 'warning', message: expect.stringContaining('--policy-mode snapshot') }));
  });
  it('the test fixture (a real-format running config) keeps its own global_policy', () => {
    const text = readFileSync(path.join(REPO_ROOT, 'test/policy/fixtures/asa-running-config.txt'), 'utf8');
    const p = compilePolicyText(text, 'fixture');
    // inspection_default has `no inspect esmtp` in that config: the exemption class decides
    const d = p.classify({ ...flow, serverIp: '203.0.113.50', ingressInterface: 'dmz' });
    expect(d.className).toBe('ESMTP-CLASS');
    expect(d.esmtp?.name).toBe('_default_esmtp_map');
    // and the ESA it exempts is not inspected
    expect(p.classify({ ...flow, ingressInterface: 'dmz' }).esmtp).toBeNull();
  });
  it('the normalised text is a snapshot too: it parses back to itself', () => {
    const p = compilePolicyText('policy-map global_policy\n class inspection_default\n  no inspect esmtp\n', 'a');
    expect(p.classify(flow).esmtp).toBeNull();
    const again = compilePolicyText(p.normalized(), 'a');
    expect(again.classify(flow).esmtp).toBeNull();
    expect(body(again)).toBe(body(p));
  });
});
