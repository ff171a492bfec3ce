/**
 * Typed excerpts as admins paste them from the session that configured the ASA: `conf t`, keywords
 * abbreviated to their fewest unique characters (Cisco ASA configuration guides, "Command Line
 * Interface Conventions": "you can abbreviate most commands down to the fewest unique characters"),
 * `end`, `wr mem`. Before, every abbreviated word was taken for an unmodelled command and its block
 * silently ignored: the excerpt compiled to the factory default with exit 0.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PolicyError } from '../../src/errors.js';
import { compilePolicyText } from '../../src/policy/load.js';
import { GENERATED_DIR, REPO_ROOT, haveShared } from '../helpers/shared.js';
import { readVerdicts, replayToTemp } from '../replay/helpers.js';

const fixture = (name: string) => path.join(REPO_ROOT, 'test/policy/fixtures/typed', name);
const text = (name: string) => readFileSync(fixture(name), 'utf8');

function errorOf(src: string): PolicyError {
  try {
    compilePolicyText(src, 'typed.txt');
  } catch (e) {
    if (e instanceof PolicyError) return e;
    throw e;
  }
  throw new Error('no error');
}

describe('abbreviated keywords in a typed excerpt', () => {
  it('pol type insp esmtp / param / no mask-ban / drop-conn / insp: the map and its binding take effect', () => {
    const p = compilePolicyText(text('abbreviated-excerpt.txt'), 'abbreviated-excerpt.txt');
    const out = p.normalized();
    expect(out).toContain('policy-map type inspect esmtp MY_MAP\n parameters\n  no mask-banner\n');
    expect(out).toContain(' match cmd RCPT count gt 500\n  drop-connection log\n');
    expect(out).toContain(' class inspection_default\n  inspect esmtp MY_MAP\n');
    expect(p.ignored.map((i) => i.text)).toEqual(['configure terminal', 'end']);
  });

  it('every kind of keyword position, CRLF line ends (ACL, class-map match, ESMTP match criteria, parameters, actions, set connection)', () => {
    const p = compilePolicyText(text('abbreviated-full.txt'), 'abbreviated-full.txt');
    const out = p.normalized();
    for (const line of [
      'access-list ESMTP-ACL extended deny tcp any host 10.1.1.25 eq smtp',
      'access-list ESMTP-ACL extended permit tcp any any eq smtp',
      'class-map ESMTP-CLS\n match access-list ESMTP-ACL',
      ' description strict map\n parameters\n  mask-banner\n  mail-relay example.com action drop-connection\n  special-character action drop-connection log\n',
      ' match not sender-address regex BADSENDER\n  drop-connection log',
      ' match body length gt 1000000\n  reset log',
      ' match header to-fields count gt 25\n  log',
      ' match invalid-recipients count gt 5\n  log',
      ' match cmd verb VRFY HELP\n  mask',
      ' class inspection_default\n class ESMTP-CLS\n  inspect esmtp STRICT\n  set connection conn-max 200 embryonic-conn-max 0 per-client-max 20 per-client-embryonic-max 0',
    ])
      expect(out).toContain(line);
  });

  it('an abbreviation the ASA would call ambiguous is an error at its line:column', () => {
    const cases: Array<[string, number, number, RegExp]> = [
      ['serv global_policy global\n', 1, 1, /"serv".*"service-policy".*"service"/],
      ['obj network X\n host 10.0.0.1\n', 1, 1, /"obj".*"object".*"object-group"/],
      ['policy-map type inspect esmtp M\n match mime file length gt 3\n  log\n', 2, 13, /"file".*"filetype".*"filename"/],
      ['policy-map type inspect esmtp M\n match body length gt 3\n  r log\n', 3, 3, /"r".*"reset".*"rate-limit"/],
      ['policy-map global_policy\n class inspection_default\n  i esmtp\n', 3, 3, /"i".*"inspect".*"ips"/],
    ];
    for (const [src, line, column, msg] of cases) {
      const e = errorOf(src);
      expect(e.code).toBe('E_POLICY_SYNTAX');
      expect({ file: e.file, line: e.line, column: e.column }).toEqual({ file: 'typed.txt', line, column });
      expect(e.message).toMatch(msg);
    }
  });

  it('full words of unmodelled commands are never taken for abbreviations (ip after a class, names, class of a context)', () => {
    const p = compilePolicyText(
      'policy-map global_policy\n class inspection_default\n  inspect esmtp\nip local pool P 10.0.0.1-10.0.0.9\nnames\nname 10.0.0.25 MX\nno mac-address auto\n',
      'x.txt',
    );
    expect(p.ignored.map((i) => i.text)).toEqual(['ip local pool P 10.0.0.1-10.0.0.9', 'names', 'no mac-address auto']);
    // an indented abbreviation inside an unmodelled block stays part of that block
    const q = compilePolicyText('interface GigabitEthernet0/1\n nameif inside\n sec 100\n', 'y.txt');
    expect(q.ignored.map((i) => i.text)).toEqual(['interface GigabitEthernet0/1', 'nameif inside', 'sec 100']);
  });

  it('a map or regex whose name starts like a keyword stays a name', () => {
    const p = compilePolicyText('policy-map type inspect esmtp ty\n match cmd line length gt 100\n  log\npolicy-map t\n class inspection_default\n  inspect esmtp ty\nservice-policy t interface inside\nregex cl "x"\npolicy-map type inspect esmtp R\n match sender-address regex cl\n  log\n', 'n.txt');
    const out = p.normalized();
    expect(out).toContain('policy-map type inspect esmtp ty\n');
    expect(out).toContain('policy-map t\n class inspection_default\n  inspect esmtp ty\n');
    expect(out).toContain(' match sender-address regex cl\n');
  });
});

describe.skipIf(!haveShared)('abbreviated excerpt on a real capture', () => {
  it('07a (120 RCPT): the typed map raises the limit to 500 and unmasks the banner; the factory default drops at RCPT 101', async () => {
    const cap = path.join(GENERATED_DIR, '07a-rcpt-120.pcap');
    const r = await replayToTemp(cap, { policy: fixture('abbreviated-excerpt.txt') });
    expect(r.summary.connections).toMatchObject({ inspected: 1, dropped: 0 });
    const v = readVerdicts(r.verdicts);
    expect(v.some((x) => x.rule === 'mask-banner')).toBe(false);
    const d = await replayToTemp(cap);
    expect(d.summary.connections).toMatchObject({ inspected: 1, dropped: 1 });
  });
});
