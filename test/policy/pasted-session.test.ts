/**
 * A configuration pasted from a terminal session, each command after its ASA CLI prompt
 * (`mailfw(config-pmap-p)# allow-tls action log`), as Cisco's configuration guides print every
 * example and as admins paste their change records. Before, every prompted line was one unknown
 * global command: the whole session was ignored and the factory default silently applied.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PolicyError } from '../../src/errors.js';
import { compilePolicyText } from '../../src/policy/load.js';
import type { FlowTuple } from '../../src/policy/types.js';
import { GENERATED_DIR, REPO_ROOT, haveShared } from '../helpers/shared.js';
import { readVerdicts, replayToTemp } from '../replay/helpers.js';

const fixture = (name: string) => readFileSync(path.join(REPO_ROOT, 'test/policy/fixtures/realistic', name), 'utf8');
const flow = (serverIp: string, serverPort = 25): FlowTuple => ({ ipVersion: 4, clientIp: '198.51.100.7', clientPort: 40000, serverIp, serverPort, ingressInterface: 'outside' });

function errorOf(text: string): PolicyError {
  try {
    compilePolicyText(text, 's.txt');
  } catch (e) {
    if (e instanceof PolicyError) return e;
    throw e;
  }
  throw new Error('no error');
}

describe('a pasted CLI session (prompts before the commands)', () => {
  it('is read command by command: the ACL class inspects with SMTP-MAP, inspection_default no longer inspects esmtp', () => {
    const p = compilePolicyText(fixture('pasted-session-prompts.txt'), 'session.txt');
    // `write memory` prints "Cryptochecksum: xxxxxxxx ..." after the commands: not a running-config printout
    expect(p.layering).toMatchObject({ mode: 'merge' });
    const m = p.classify(flow('10.0.0.25')).esmtp;
    expect(m?.name).toBe('SMTP-MAP');
    expect(m?.parameters).toMatchObject({ maskBanner: false });
    expect(m?.matches.map((x) => x.text)).toEqual(['match sender-address regex BADSENDER', 'match cmd RCPT count gt 50']);
    expect(p.classify(flow('10.0.0.26')).esmtp).toBeNull();
    // the service policy stays: nothing here says the text is a whole running config
    expect(p.normalized()).toContain('service-policy global_policy global\n');
    expect(p.warnings.some((w) => w.level === 'note' && /24 line\(s\) start with an ASA CLI prompt.*3 line\(s\) at an exec prompt/.test(w.message))).toBe(true);
    expect(p.warnings.filter((w) => w.level === 'warning')).toEqual([]);
  });

  it('an error on a prompted line points at the file column (the prompt counted)', () => {
    const e = errorOf('asa(config)# policy-map type inspect esmtp M\nasa(config-pmap)# match cmd line length lt 512\n');
    expect(e.code).toBe('E_POLICY_SYNTAX');
    expect(e.describe()).toContain('s.txt:2:41: expected "gt", got "lt"');
  });

  it('an unknown word typed at a sub-mode prompt is an error, as the ASA refused it', () => {
    const e = errorOf('hostname(config)# policy-map type inspect esmtp M\nhostname(config-pmap)# match cmd line length gt 600\nhostname(config-pmap-c)# drop-conection log\n');
    expect(e.describe()).toMatch(/s\.txt:3:26: expected one of "drop-connection"/);
  });

  it('takes prompts without the blank, with context and failover parts, and a "hostname" typed at the prompt is no printout', () => {
    const p = compilePolicyText(
      'ciscoasa(config)# hostname FW2\nFW2/pri/act(config)#policy-map type inspect esmtp _default_esmtp_map\nFW2/pri/act(config-pmap)#parameters\nFW2/pri/act(config-pmap-p)#allow-tls\nFW2/pri/act(config-pmap-p)#exit\n',
      's.txt',
    );
    expect(p.layering).toMatchObject({ mode: 'merge' });
    const m = p.classify(flow('10.0.0.25')).esmtp;
    expect(m?.name).toBe('_default_esmtp_map');
    expect(m?.parameters).toMatchObject({ allowTls: { log: false }, maskBanner: true });
  });

  it('show, do, packet-tracer and help requests (?) at a configuration prompt are no configuration and keep the mode', () => {
    const p = compilePolicyText(
      [
        'asa(config)# policy-map type inspect esmtp M',
        'asa(config-pmap)# show running-config policy-map type inspect esmtp',
        'asa(config-pmap)# match cmd ?',
        'asa(config-pmap)# ?',
        'asa(config-pmap)# match cmd RCPT count gt 5',
        'asa(config-pmap-c)# do show run policy-map',
        'asa(config-pmap-c)# packet-tracer input outside tcp 198.51.100.7 1234 10.0.0.25 25',
        'asa(config-pmap-c)# drop-connection',
        'asa(config-pmap-c)# pa',
        'asa(config-pmap-p)# allow-tls',
        'asa(config)# regex Q colou?',
        '',
      ].join('\n'),
      's.txt',
    );
    const m = p.esmtpMaps.get('M');
    expect(m?.matches.map((x) => [x.text, x.actions.primary])).toEqual([['match cmd RCPT count gt 5', 'drop-connection']]);
    expect(m?.parameters).toMatchObject({ allowTls: { log: false } });
    expect(p.ignored.map((x) => x.line)).toEqual([2, 3, 4, 6, 7]);
  });

  it('exec lines (show, write, copy) are ignored whatever their length; the printout after "show running-config" is read', () => {
    const p = compilePolicyText(
      'asa# show running-config policy-map type inspect esmtp\n!\npolicy-map type inspect esmtp _default_esmtp_map\n description Default ESMTP policy-map\n parameters\n  mask-banner\n  no mail-relay\n  no special-character\n  allow-tls\n match cmd line length gt 512\n  drop-connection log\n!\nasa# \n',
      's.txt',
    );
    expect(p.layering).toMatchObject({ mode: 'snapshot' });
    expect(p.classify(flow('10.0.0.25')).esmtp?.matches.map((x) => x.text)).toEqual(['match cmd line length gt 512']);
  });
});

describe('write memory output after a typed excerpt', () => {
  it('"Cryptochecksum: xxxxxxxx xxxxxxxx ..." (write memory) is no running-config trailer: the excerpt merges, the service policy stays', () => {
    const p = compilePolicyText(
      'policy-map type inspect esmtp _default_esmtp_map\n parameters\n  allow-tls\nwrite memory\nBuilding configuration...\nCryptochecksum: 3c1d2d8c 9e1f4e2a 77b3a0c1 5d0e9f11\n\n3541 bytes copied in 0.230 secs\n[OK]\n',
      's.txt',
    );
    expect(p.layering).toMatchObject({ mode: 'merge' });
    expect(p.classify(flow('10.0.0.25')).esmtp?.parameters).toMatchObject({ allowTls: { log: false } });
  });

  it('the show running-config trailer "Cryptochecksum:<hex>" still marks a whole running config', () => {
    const p = compilePolicyText('policy-map type inspect esmtp M\n match cmd RCPT count gt 5\n  drop-connection\nCryptochecksum:a1d62628ba6d9e5af3ebffb781b6f968\n', 's.txt');
    expect(p.layering).toMatchObject({ mode: 'snapshot' });
  });
});

describe.skipIf(!haveShared)('a pasted session on a real capture', () => {
  it('the session\'s sender regex drops 02 (alice@example.test) and its "no mask-banner" leaves the banner', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'session-'));
    const policy = path.join(dir, 'session.txt');
    writeFileSync(
      policy,
      'fw# conf t\nfw(config)# regex FROM_EXAMPLE "@example\\.test"\nfw(config)# policy-map type inspect esmtp _default_esmtp_map\nfw(config-pmap)# parameters\nfw(config-pmap-p)# no mask-banner\nfw(config-pmap-p)# match sender-address regex FROM_EXAMPLE\nfw(config-pmap-c)# drop-connection log\nfw(config-pmap-c)# end\nfw# wr mem\n',
    );
    const r = await replayToTemp(path.join(GENERATED_DIR, '02-ehlo-basic.pcap'), { policy });
    expect(r.summary.connections.dropped).toBe(1);
    const v = readVerdicts(r.verdicts);
    expect(v.find((x) => x.action === 'drop-connection')?.syslog).toMatch(/sender-address regex FROM_EXAMPLE/);
    expect(v.some((x) => x.rule === 'mask-banner')).toBe(false);
  });
});

describe('a pasted session with the ASA\'s error messages (pasted-session-errors.txt)', () => {
  // Before: the `^` marker line under the refused word was read as a sub-command and refused the
  // whole file (`got "^"`); without it, the refused `allow-tls action lg` refused the file, and the
  // two-line ERROR after a refused `inspect esmtp` opened an ignored block that swallowed the
  // `no inspect esmtp` / `inspect esmtp` typed after it at sub-mode prompts.
  it('the ASA\'s messages are no configuration, and the commands it refused are not applied (with a warning each)', () => {
    const p = compilePolicyText(fixture('pasted-session-errors.txt'), 'session.txt');
    const m = p.classify(flow('10.0.0.25')).esmtp;
    expect(m?.name).toBe('SMTP-MAP');
    expect(m?.parameters.allowTls).toMatchObject({ log: true });
    expect(m?.matches.map((x) => x.text)).toEqual(['match cmd line length gt 1000']);
    const refused = p.warnings.filter((w) => w.level === 'warning' && /was refused by the ASA in this pasted session/.test(w.message));
    expect(refused.map((w) => w.line)).toEqual([4, 15]);
    expect(refused[1]?.message).toContain('line 16: "ERROR: Inspect configuration of this type exists');
    // nothing else to warn about: no lost lines, no replacement of an existing inspect
    expect(p.warnings.filter((w) => w.level === 'warning')).toHaveLength(2);
    const ignored = p.ignored.filter((x) => /ASA message in a pasted session/.test(x.reason ?? '')).map((x) => x.line);
    expect(ignored).toEqual([5, 6, 16, 17]);
  });

  it('a console syslog line (%ASA-…) after a command is dropped but does not mark the command refused; "% Invalid input" does', () => {
    const text = 'fw(config)# policy-map type inspect esmtp M\nfw(config-pmap)# parameters\nfw(config-pmap-p)# mask-banner\n%ASA-5-111008: User \'enable_15\' executed the \'mask-banner\' command.\nfw(config-pmap-p)# allow-tls\n% Invalid input detected at \'^\' marker.\n';
    const p = compilePolicyText(text, 's.txt');
    const m = p.esmtpMaps.get('M');
    expect(p.warnings.filter((w) => /was refused by the ASA/.test(w.message)).map((w) => w.line)).toEqual([5]);
    expect(p.ignored.filter((x) => /ASA message in a pasted session/.test(x.reason ?? '')).map((x) => x.line)).toEqual([4, 6]);
    expect(m?.parameters.maskBanner).toBe(true);
    expect(m?.parameters.allowTls).toBeFalsy();
  });

  it('the listing a "?" printed (the mode\'s commands with their help text) is no configuration', () => {
    // before: "Parameters configuration commands:" was read as `parameters configuration …` (an error)
    // and each indented "  allow-tls          Allow TLS" as a sub-command
    const text = 'fw(config)# policy-map type inspect esmtp M\nfw(config-pmap)# parameters\nfw(config-pmap-p)# ?\n\nParameters configuration commands:\n  allow-tls          Allow TLS\n  exit               Exit from parameters configuration mode\n  mask-banner        Mask out server banner\n  no                 Negate or set default values of a command\nfw(config-pmap-p)# mask-banner\nfw(config-pmap-p)# match cmd ?\n\nmpf-policy-map-class mode commands/options:\n  RCPT     Recipient count\n  line     Command line\n  verb     Command verb\nfw(config-pmap-p)# match cmd line length gt 700\nfw(config-pmap-c)# log\n';
    const p = compilePolicyText(text, 's.txt');
    const m = p.esmtpMaps.get('M');
    expect(m?.parameters.maskBanner).toBe(true);
    expect(m?.parameters.allowTls).toBeFalsy();
    expect(m?.matches.map((x) => x.text)).toEqual(['match cmd line length gt 700']);
    expect(p.ignored.filter((x) => /ASA help output/.test(x.reason ?? '')).map((x) => x.line)).toEqual([5, 6, 7, 8, 9, 13, 14, 15, 16]);
    expect(p.warnings.filter((w) => w.level === 'warning')).toEqual([]);
  });

  it('a session without the messages still refuses the bad line (the error is the file\'s)', () => {
    const text = fixture('pasted-session-errors.txt').split('\n').filter((l) => !/^\s*\^\s*$|^ERROR|^that configuration/.test(l)).join('\n');
    expect(errorOf(text)).toMatchObject({ code: 'E_POLICY_SYNTAX', line: 4 });
  });
});
