import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PolicyError } from '../../src/errors.js';
import { CRITERIA } from '../../src/policy/criteria.js';
import { DEFAULT_POLICY_TEXT } from '../../src/policy/default-policy.js';
import { compilePolicyText, defaultPolicy, loadPolicy } from '../../src/policy/load.js';
import type { EsmtpMap } from '../../src/policy/types.js';
import { REPO_ROOT } from '../helpers/shared.js';

const FIXTURE = path.join(REPO_ROOT, 'test/policy/fixtures/asa-running-config.txt');

/** Compiles and returns the thrown PolicyError as "line:col code". */
function errorOf(text: string): { where: string; code: string; message: string } {
  try {
    compilePolicyText(text, 'p.cfg');
  } catch (e) {
    expect(e).toBeInstanceOf(PolicyError);
    const pe = e as PolicyError;
    expect(pe.file).toBe('p.cfg');
    return { where: `${pe.line}:${pe.column}`, code: pe.code, message: pe.message };
  }
  throw new Error('expected a PolicyError');
}

function mapOf(text: string, name = 'm'): EsmtpMap {
  const map = compilePolicyText(text, 'p.cfg').esmtpMaps.get(name);
  if (!map) throw new Error(`no map ${name}`);
  return map;
}

describe('the default policy', () => {
  it('compiles to the 7 matches of _default_esmtp_map with Class 1..7 and mask-banner', () => {
    const p = defaultPolicy();
    const m = p.esmtpMaps.get('_default_esmtp_map') as EsmtpMap;
    expect(m.description).toBe('Default ESMTP policy-map');
    expect(m.parameters).toEqual({ maskBanner: true, mailRelay: null, specialCharacter: null, allowTls: null });
    expect(m.matches.map((x) => [x.classId, x.text, x.criterionText])).toEqual([
      [1, 'match cmd line length gt 512', 'cmd line length gt 512'],
      [2, 'match cmd RCPT count gt 100', 'cmd RCPT count gt 100'],
      [3, 'match body line length gt 998', 'body line length gt 998'],
      [4, 'match header line length gt 998', 'header line length gt 998'],
      [5, 'match sender-address length gt 320', 'sender-address length gt 320'],
      [6, 'match MIME filename length gt 255', 'MIME filename length gt 255'],
      [7, 'match ehlo-reply-parameter others', 'ehlo-reply-parameter others'],
    ]);
    expect(m.matches.map((x) => x.criterion)).toEqual([
      { kind: 'cmd-line-length', gt: 512 },
      { kind: 'cmd-rcpt-count', gt: 100 },
      { kind: 'body-line-length', gt: 998 },
      { kind: 'header-line-length', gt: 998 },
      { kind: 'sender-address-length', gt: 320 },
      { kind: 'mime-filename-length', gt: 255 },
      { kind: 'ehlo-reply-parameter', parameters: ['others'] },
    ]);
    const dc = { primary: 'drop-connection', log: true, rateLimit: null };
    expect(m.matches.map((x) => x.actions)).toEqual([dc, dc, { primary: null, log: true, rateLimit: null }, dc, dc, dc, { primary: 'mask', log: false, rateLimit: null }]);
    expect(p.ignored).toEqual([]);
    expect(p.source).toBe('<default>');
  });

  it('is kept as policy text and a bare "inspect esmtp" means _default_esmtp_map (B-14)', () => {
    expect(DEFAULT_POLICY_TEXT).toContain('policy-map type inspect esmtp _default_esmtp_map');
    const p = compilePolicyText('policy-map global_policy\n class inspection_default\n  inspect esmtp\n', 'p.cfg');
    const d = p.classify({ ipVersion: 4, clientIp: '1.1.1.1', clientPort: 1000, serverIp: '2.2.2.2', serverPort: 25 });
    expect(d.esmtp?.name).toBe('_default_esmtp_map');
    expect(p.esmtpMaps.has('_default_esmtp_map')).toBe(true);
  });

  it('an empty file means the factory default', () => {
    const p = compilePolicyText('', 'empty.cfg');
    expect(p.normalized().split('\n').slice(2).join('\n')).toBe(defaultPolicy().normalized().split('\n').slice(1).join('\n'));
  });
});

describe('every criterion, parameter and action parses', () => {
  const text = `regex R1 "@example\\.com"
regex R2 ^application/pdf
class-map type regex match-any RC
 match regex R1
 match regex R2
policy-map type inspect esmtp m
 description every criterion
 parameters
  no mask-banner
  mail-relay Example.NET action drop-connection
  special-character action log
  allow-tls action log
 match body length gt 1000000
  reset log
 match body line length gt 998
  log
 match cmd verb VRFY expn-is-not-here
`;
  it('rejects an unknown verb with its column', () => {
    const e = errorOf(text);
    expect(e).toMatchObject({ where: '17:22', code: 'E_POLICY_VALUE' });
  });

  it('parses all 15 criteria, match not, and every action form', () => {
    const full = `${text.replace(' expn-is-not-here', ' expn'.replace('expn', 'etrn'))}  mask log
 match cmd line length gt 512
  drop-connection
 match cmd RCPT count gt 100
  rate-limit 5
  log
 match not ehlo-reply-parameter auth SIZE others
  mask
 match header length gt 4096
  drop-connection log
 match header line length gt 998
  log
 match header to-fields count gt 3
  reset
 match invalid-recipients count gt 10
  log
 match mime filetype regex R2
  drop-connection log
 match MIME filetype class RC
  log
 match mime filename length gt 255
  drop-connection log
 match mime encoding base64 quoted-printable 7bit 8bit binary others
  log
 match sender-address regex R1
  log
 match not sender-address regex class RC
  reset log
 match sender-address length gt 320
  drop-connection log
`;
    const m = mapOf(full);
    expect(m.description).toBe('every criterion');
    expect(m.parameters).toEqual({
      maskBanner: false,
      mailRelay: { domain: 'example.net', action: 'drop-connection' },
      specialCharacter: { action: 'log', log: true },
      allowTls: { log: true },
    });
    const kinds = new Set(m.matches.map((x) => x.criterion.kind));
    expect([...kinds].sort()).toEqual(CRITERIA.map((c) => c.kind).sort());
    expect(m.matches.map((x) => x.classId)).toEqual(m.matches.map((_, k) => k + 1));
    const byText = new Map(m.matches.map((x) => [x.text, x]));
    expect(byText.get('match cmd verb VRFY etrn')?.criterion).toEqual({ kind: 'cmd-verb', verbs: ['VRFY', 'ETRN'] });
    expect(byText.get('match cmd verb VRFY etrn')?.actions).toEqual({ primary: 'mask', log: true, rateLimit: null });
    expect(byText.get('match cmd RCPT count gt 100')?.actions).toEqual({ primary: null, log: true, rateLimit: 5 });
    const ehlo = byText.get('match not ehlo-reply-parameter auth SIZE others');
    expect(ehlo?.not).toBe(true);
    expect(ehlo?.criterionText).toBe('ehlo-reply-parameter auth SIZE others');
    expect(ehlo?.criterion).toEqual({ kind: 'ehlo-reply-parameter', parameters: ['auth', 'size', 'others'] });
    expect(byText.get('match mime encoding base64 quoted-printable 7bit 8bit binary others')?.criterion).toEqual({
      kind: 'mime-encoding',
      encodings: ['base64', 'quoted-printable', '7bit', '8bit', 'binary', 'others'],
    });
    // Cisco's `regex class NAME`; the bare `class NAME` is read as the same thing and printed the Cisco way
    const cls = byText.get('match not sender-address regex class RC');
    expect(cls?.criterion.kind).toBe('sender-address');
    expect(cls?.criterionText).toBe('sender-address regex class RC');
    expect(byText.get('match MIME filetype regex class RC')?.criterion.kind).toBe('mime-filetype');
    if (cls?.criterion.kind === 'sender-address') {
      expect(cls.criterion.matcher.source).toBe('regex class RC');
      expect(cls.criterion.matcher.test(Buffer.from('joe@example.com'))).toBe(true);
      expect(cls.criterion.matcher.test(Buffer.from('application/pdf'))).toBe(true);
      expect(cls.criterion.matcher.test(Buffer.from('joe@example.org'))).toBe(false);
    }
    const ft = byText.get('match mime filetype regex R2');
    if (ft?.criterion.kind === 'mime-filetype') {
      expect(ft.criterion.matcher.source).toBe('regex R2');
      expect(ft.criterion.matcher.test(Buffer.from('application/pdf'))).toBe(true);
      expect(ft.criterion.matcher.test(Buffer.from('x application/pdf'))).toBe(false);
    } else throw new Error('mime filetype missing');
    expect(byText.get('match header to-fields count gt 3')?.line).toBe(30);
  });

  it('parameters: drop-connection forms, no forms and defaults', () => {
    const m = mapOf(`policy-map type inspect esmtp m
 parameters
  mask-banner
  special-character action drop-connection
  mail-relay example.org action log
  allow-tls
  no mail-relay
`);
    expect(m.parameters).toEqual({ maskBanner: true, mailRelay: null, specialCharacter: { action: 'drop-connection', log: false }, allowTls: { log: false } });
    const m2 = mapOf('policy-map type inspect esmtp m\n parameters\n  special-character action drop-connection log\n');
    expect(m2.parameters.specialCharacter).toEqual({ action: 'drop-connection', log: true });
  });

  it('is indentation-insensitive (sub-modes as on the ASA CLI)', () => {
    const m = mapOf('policy-map type inspect esmtp m\nparameters\nmask-banner\nmatch cmd line length gt 10\nlog\nmatch cmd RCPT count gt 5\ndrop-connection\n');
    expect(m.parameters.maskBanner).toBe(true);
    expect(m.matches.map((x) => [x.text, x.actions.primary, x.actions.log])).toEqual([
      ['match cmd line length gt 10', null, true],
      ['match cmd RCPT count gt 5', 'drop-connection', false],
    ]);
  });
});

describe('errors point at line:column and say what was expected', () => {
  const cases: Array<[string, string, string, RegExp]> = [
    ['policy-map type inspect esmtp m\n match cmd line length lt 5\n', '2:24', 'E_POLICY_SYNTAX', /expected "gt", got "lt"/],
    ['policy-map type inspect esmtp m\n match cmd lines length gt 5\n', '2:12', 'E_POLICY_SYNTAX', /expected one of "verb", "line", "RCPT", got "lines"/],
    ['policy-map type inspect esmtp m\n match frobnicate\n', '2:8', 'E_POLICY_SYNTAX', /expected a match criterion/],
    ['policy-map type inspect esmtp m\n match body length gt -1\n', '2:23', 'E_POLICY_SYNTAX', /expected the value/],
    ['policy-map type inspect esmtp m\n match body length gt 99999999999\n', '2:23', 'E_POLICY_VALUE', /must be 0-2147483647/],
    ['policy-map type inspect esmtp m\n match body length gt 5 extra\n', '2:25', 'E_POLICY_SYNTAX', /expected end of line, got "extra"/],
    ['policy-map type inspect esmtp m\n match header line length gt 998\n  mask\n', '3:3', 'E_POLICY_VALUE', /"mask" is not available.*expected one of drop-connection, reset, log, rate-limit/],
    ['policy-map type inspect esmtp m\n match cmd verb HELO\n  drop-connection\n  reset\n', '4:3', 'E_POLICY_VALUE', /already has the action "drop-connection"/],
    ['policy-map type inspect esmtp m\n match cmd verb HELO\n  drop-connection logg\n', '3:19', 'E_POLICY_SYNTAX', /expected "log", got "logg"/],
    ['policy-map type inspect esmtp m\n match mime encoding base65\n', '2:22', 'E_POLICY_VALUE', /expected one of 7bit 8bit base64/],
    ['policy-map type inspect esmtp m\n match sender-address regex NOPE\n', '2:29', 'E_POLICY_REFERENCE', /regex "NOPE" is not defined/],
    ['policy-map type inspect esmtp m\n match sender-address class NOPE\n', '2:29', 'E_POLICY_REFERENCE', /class-map type regex match-any "NOPE"/],
    ['policy-map type inspect esmtp m\n match mime filetype regex class NOPE\n', '2:34', 'E_POLICY_REFERENCE', /class-map type regex match-any "NOPE" is not defined/],
    ['policy-map type inspect esmtp m\n match sender-address pattern X\n', '2:23', 'E_POLICY_SYNTAX', /expected one of "regex", "class"/],
    ['policy-map type inspect esmtp m\n parameters\n  mail-relay example.com\n', '3:25', 'E_POLICY_SYNTAX', /expected "action", got end of line/],
    ['policy-map type inspect esmtp m\n parameters\n  special-character action reset\n', '3:28', 'E_POLICY_SYNTAX', /expected one of "drop-connection", "log"/],
    ['policy-map type inspect esmtp m\n parameters\n  allow-tls action drop\n', '3:20', 'E_POLICY_SYNTAX', /expected "log"/],
    ['policy-map type inspect esmtp m\n  matchh cmd verb HELO\n', '2:3', 'E_POLICY_SYNTAX', /expected one of "description", "parameters", "match"/],
    ['class-map type inspect esmtp match-all X\n match sender-address length gt 5\n', '1:24', 'E_POLICY_SYNTAX', /class-map type inspect esmtp does not exist.*B-13/],
    ['policy-map type inspect esmtp m\n class X\n', '2:2', 'E_POLICY_SYNTAX', /take match commands directly/],
    ['policy-map global_policy\n class NOPE\n  inspect esmtp\n', '2:8', 'E_POLICY_REFERENCE', /class-map "NOPE" is not defined/],
    ['policy-map global_policy\n class inspection_default\n  inspect esmtp nomap\n', '3:17', 'E_POLICY_REFERENCE', /policy-map type inspect esmtp "nomap" is not defined/],
    ['service-policy nopm interface outside\n', '1:16', 'E_POLICY_REFERENCE', /policy-map "nopm" is not defined/],
    ['no service-policy global_policy global\npolicy-map a\npolicy-map b\nservice-policy a global\nservice-policy b global\n', '5:16', 'E_POLICY_VALUE', /already set \(policy-map a, line 4\)/],
    // the factory default's global policy is in place until removed, as on the ASA
    ['policy-map a\nservice-policy a global\n', '2:16', 'E_POLICY_VALUE', /already set \(policy-map global_policy, the factory default\); remove it first with "no service-policy global_policy global"/],
    ['class-map c\n match access-list NOACL\n', '2:20', 'E_POLICY_REFERENCE', /access-list "NOACL" is not defined/],
    ['class-map c\n match port tcp lt 25\n', '2:17', 'E_POLICY_SYNTAX', /expected "eq" or "range"/],
    ['class-map c\n match port tcp eq 25\n match any\n', '3:8', 'E_POLICY_SYNTAX', /already has a match command/],
    ['class-map c\n match port tcp eq smpt\n', '2:20', 'E_POLICY_VALUE', /ASA tcp port name/],
    ['access-list A extended permit tcp any host 10.0.0.300 eq smtp\nclass-map c\n match access-list A\n', '1:44', 'E_POLICY_VALUE', /expected a host address/],
    ['access-list A extended permit tcp any 10.0.0.0 255.0.255.0\nclass-map c\n match access-list A\n', '1:48', 'E_POLICY_VALUE', /contiguous subnet mask/],
    ['access-list A extended permit tcp any object nobj\nclass-map c\n match access-list A\n', '1:46', 'E_POLICY_REFERENCE', /object network "nobj" is not defined/],
    ['access-list A extended permit tcp any any eq smtp loq\nclass-map c\n match access-list A\n', '1:51', 'E_POLICY_SYNTAX', /expected "log", "time-range", "inactive" or end of line/],
    ['access-list A extended allow tcp any any\nclass-map c\n match access-list A\n', '1:24', 'E_POLICY_SYNTAX', /expected one of "permit", "deny"/],
    ['access-list A extended permit tcp any any range 30 20\nclass-map c\n match access-list A\n', '1:52', 'E_POLICY_VALUE', /range end >= 30/],
    ['access-list A extended permit tcp any 2001:db8::/129\nclass-map c\n match access-list A\n', '1:39', 'E_POLICY_VALUE', /IPv6 prefix/],
    ['object network o\n host 1.2.3.4\nobject-group network g\n network-object object nope\n', '4:24', 'E_POLICY_REFERENCE', /object network "nope"/],
    ['object-group service s\n port-object eq 25\n', '2:2', 'E_POLICY_SYNTAX', /port-object needs a protocol/],
    ['object-group network g\n group-object g\n', '2:15', 'E_POLICY_REFERENCE', /cannot contain itself/],
    [`regex ${'x'.repeat(41)} abc\n`, '1:7', 'E_POLICY_VALUE', /at most 40 characters \(this one has 41\)/],
    [`regex r ${'a'.repeat(101)}\n`, '1:9', 'E_POLICY_VALUE', /at most 100 characters/],
    ['regex r "abc(d"\n', '1:13', 'E_POLICY_VALUE', /bad regular expression: expected "\)" to close the group/],
    ['regex r (a{200}){200}\n', '1:9', 'E_POLICY_VALUE', /too many states/],
    ['regex r abc\\x4g\n', '1:12', 'E_POLICY_VALUE', /two hex digits/],
    ['class-map type regex match-any rc\n match regex nope\n', '2:14', 'E_POLICY_REFERENCE', /regex "nope" is not defined/],
    ['policy-map p\n class class-default\n  set connection conn-max 3000000\n', '3:27', 'E_POLICY_VALUE', /conn-max must be 0-2000000/],
    ['policy-map p\n class class-default\n  set connection max 3\n', '3:18', 'E_POLICY_SYNTAX', /expected one of "conn-max"/],
    ['policy-map type inspect esmtp m\n match cmd verb HELO\n  rate-limit 0\n', '3:14', 'E_POLICY_VALUE', /message rate must be 1-/],
    ['hostname x\nbanner motd \u0001hi\n', '2:13', 'E_POLICY_SYNTAX', /control character 0x01/],
  ];
  for (const [text, where, code, re] of cases) {
    it(`${JSON.stringify(text.split('\n').find((l) => l.startsWith('access-list')) ?? text.split('\n').slice(-2, -1)[0])} → ${where} ${code}`, () => {
      const e = errorOf(text);
      expect(`${e.where} ${e.code}`).toBe(`${where} ${code}`);
      expect(e.message).toMatch(re);
    });
  }

  it('describe() gives file:line:col: message [code]', () => {
    try {
      compilePolicyText('policy-map type inspect esmtp m\n match cmd line length lt 5\n', 'pol.cfg');
    } catch (e) {
      expect((e as PolicyError).describe()).toBe('pol.cfg:2:24: expected "gt", got "lt" [E_POLICY_SYNTAX]');
      return;
    }
    throw new Error('no error');
  });
});

describe('a realistic ASA 9.x running config', () => {
  const text = readFileSync(FIXTURE, 'utf8');
  const p = compilePolicyText(text, FIXTURE);
  const lines = text.split('\n');

  it('parses with only the expected lines ignored', () => {
    // read off the fixture: device/interface/logging/NAT/crypto/... lines, ACL remarks, the standard
    // ACL, the icmp-type group, the dns inspect policy-map block, set connection timeout,
    // user-statistics and the call-home block (line 40, clock timezone, is modelled: time-ranges read it)
    const ranges = '6,8-11,13-14,17-20,22-25,27-31,33-37,39,41-45,58,84-87,94-95,100-137,151-155,194,198,205-213';
    const expected = ranges.split(',').flatMap((r) => {
      const [a, b] = r.split('-').map(Number) as [number, number | undefined];
      return Array.from({ length: (b ?? a) - a + 1 }, (_, k) => a + k);
    });
    expect(p.ignored.map((i) => i.line)).toEqual(expected);
    for (const i of p.ignored) expect(lines[i.line - 1]?.trim(), `line ${i.line}`).toBe(i.text);
    // nothing we model is among them
    const modelled = /^(access-list \S+ extended|object (network|service)|object-group (network|service|protocol)|regex|class-map (?!type inspect)|policy-map (?!type inspect dns)|service-policy|name )/;
    for (const i of p.ignored) expect(i.text, `line ${i.line}`).not.toMatch(modelled);
    expect(p.ignored.find((i) => i.line === 87)?.reason).toBe('access-list remark');
  });

  it('records the ESMTP maps, other inspects and limits', () => {
    expect([...p.esmtpMaps.keys()]).toEqual(['_default_esmtp_map', 'strict_esmtp_map']);
    const strict = p.esmtpMaps.get('strict_esmtp_map') as EsmtpMap;
    expect(strict.matches.map((m) => m.classId)).toEqual([1, 2, 3, 4, 5]);
    expect(strict.parameters.mailRelay).toEqual({ domain: 'example.net', action: 'log' });
    const n = p.normalized();
    expect(n).toContain(' class inspection_default\n  inspect dns preset_dns_map\n  inspect ftp\n');
    expect(n).not.toMatch(/class inspection_default\n(  inspect (?!esmtp).*\n)*  inspect esmtp/);
    expect(n).toContain('  set connection conn-max 50 embryonic-conn-max 100 per-client-max 10 per-client-embryonic-max 5\n');
    expect(n).toContain('access-list ESMTP-INSPECT extended deny tcp host 192.0.2.25 any eq smtp\n');
    expect(n).toContain('service-policy inside-policy interface inside\n');
  });

  it('loadPolicy reads the file; a missing file is a usage error', async () => {
    const q = await loadPolicy(FIXTURE);
    expect(q.normalized()).toBe(p.normalized());
    await expect(loadPolicy('/nonexistent/x.cfg')).rejects.toMatchObject({ code: 'E_USAGE', file: '/nonexistent/x.cfg' });
    expect((await loadPolicy(null)).source).toBe('<default>');
  });
});

describe('normalized()', () => {
  it('parses back to the same policy (idempotent)', () => {
    const strip = (s: string) => s.split('\n').filter((l) => !l.startsWith('!')).join('\n');
    for (const text of [readFileSync(FIXTURE, 'utf8'), DEFAULT_POLICY_TEXT, 'policy-map global_policy\n class inspection_default\n  no inspect esmtp\n']) {
      const once = compilePolicyText(text, 'a').normalized();
      const twice = compilePolicyText(once, 'a').normalized();
      expect(strip(twice)).toBe(strip(once));
    }
  });

  it('canonicalises case and spacing and makes defaults explicit', () => {
    const n = compilePolicyText(
      'policy-map type inspect esmtp m\n   match   MIME   Filename  LENGTH gt 10\n  DROP-CONNECTION   LOG\npolicy-map global_policy\n class inspection_default\n  inspect smtp m\n',
      'x',
    ).normalized();
    expect(n).toContain(' parameters\n  no mask-banner\n  no mail-relay\n  no special-character\n  no allow-tls\n ! Class 1\n match mime filename length gt 10\n  drop-connection log\n');
    expect(n).toContain('  inspect esmtp m\n');
  });
});
