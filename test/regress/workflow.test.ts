/**
 * regress as a QA engineer uses it on their own case folders: --update writes only what changed
 * (and says what), --case runs a subset, the annotation diff keeps order and duplicates, a digest
 * mismatch says what it means, and the hints are commands that work when pasted into a shell.
 * Cases are copies of the project's own (real captures) in temp folders.
 */
import { describe, it, expect, afterEach } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_CAPTURES } from '../helpers/shared.js';
import { runSuite } from '../../src/regress/run.js';
import { cli } from './run-cli.js';
import { spawnSync } from 'node:child_process';

const temps: string[] = [];
afterEach(() => {
  for (const d of temps.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  process.exitCode = 0;
});

/** A temp suite holding copies of project cases, each under the name given (folders created). */
function suite(cases: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'regress-wf-'));
  temps.push(dir);
  for (const [name, from] of Object.entries(cases)) fs.cpSync(path.join(PROJECT_CAPTURES, from), path.join(dir, name), { recursive: true });
  return dir;
}

async function run(dir: string, update = false, select: string[] = []) {
  const lines: string[] = [];
  const results = await runSuite(dir, { update, select, log: (l) => lines.push(l) });
  return { results, text: lines.join('\n') };
}

const EXPECTED = ['expected.verdicts.jsonl', 'expected.out.sha256', 'expected.annotated.sha256', 'expected.annotations.tsv', 'expected.summary.json'];
const OLD = new Date('2020-01-01T00:00:00Z');

describe('regress --update', () => {
  it('leaves files that would not change untouched (bytes and mtime) and names the files it rewrote', async () => {
    const dir = suite({ same: '02-ehlo-basic', changed: '08a-header-line-1500' });
    for (const c of ['same', 'changed']) for (const f of EXPECTED) fs.utimesSync(path.join(dir, c, f), OLD, OLD);
    const before = EXPECTED.map((f) => fs.readFileSync(path.join(dir, 'same', f)));
    // a policy change that turns the drop into a reset: verdicts, comments, counts and OUT change
    fs.writeFileSync(path.join(dir, 'changed', 'policy.txt'), 'policy-map type inspect esmtp _default_esmtp_map\n match header line length gt 998\n  reset log\n');
    const { results, text } = await run(dir, true);
    expect(results.map((r) => [r.name, r.status])).toEqual([
      ['changed', 'updated'],
      ['same', 'ok'],
    ]);
    EXPECTED.forEach((f, i) => {
      expect(fs.statSync(path.join(dir, 'same', f)).mtime.getTime(), f).toBe(OLD.getTime());
      expect(fs.readFileSync(path.join(dir, 'same', f)).equals(before[i]!), f).toBe(true);
    });
    // the annotated capture is the input's packets with comments: its comments changed too, all five were rewritten
    expect(text).toMatch(/^updated changed\n {2}wrote expected\.verdicts\.jsonl, expected\.out\.sha256, expected\.annotated\.sha256, expected\.annotations\.tsv, expected\.summary\.json$/m);
    // what was accepted is shown for review
    expect(text).toMatch(/expected: match header line length gt 998 -> drop-connection .*\n\s+got: {6}match header line length gt 998 -> reset/);
    // and an update after an update rewrites nothing
    for (const f of EXPECTED) fs.utimesSync(path.join(dir, 'changed', f), OLD, OLD);
    const again = await run(dir, true);
    expect(again.results.map((r) => r.status)).toEqual(['ok', 'ok']);
    for (const f of EXPECTED) expect(fs.statSync(path.join(dir, 'changed', f)).mtime.getTime()).toBe(OLD.getTime());
  }, 30_000);

  it('writes only the one expectation file that differs, and does not say "no expectations yet" while creating them', async () => {
    const dir = suite({ c: '01-plain-helo', fresh: '01-plain-helo' });
    fs.writeFileSync(path.join(dir, 'c', 'expected.summary.json'), '{}\n');
    for (const f of EXPECTED) fs.rmSync(path.join(dir, 'fresh', f));
    const { results, text } = await run(dir, true);
    expect(results.map((r) => r.status)).toEqual(['updated', 'updated']);
    expect(text).toMatch(/^updated c\n {2}wrote expected\.summary\.json\n {2}summary counts differ:/m);
    expect(text).toMatch(/^updated fresh\n {2}wrote expected\.verdicts\.jsonl, .*expected\.summary\.json$/m);
    expect(text).not.toContain('--update` creates');
  }, 30_000);

  it('the CLI summary says how many were updated and how many were already right', async () => {
    const dir = suite({ a: '01-plain-helo', b: '02-ehlo-basic' });
    fs.writeFileSync(path.join(dir, 'b', 'expected.annotations.tsv'), '');
    const { code, out } = await cli(['regress', dir, '--update']);
    expect(code).toBe(0);
    expect(out).toMatch(/^ok {6}a\nupdated b\n {2}wrote expected\.annotations\.tsv\n/);
    expect(out).toMatch(/^2 cases: 1 updated, 1 unchanged$/m);
  }, 30_000);
});

describe('regress --case', () => {
  it('runs the cases a name, a group or a wildcard selects, and says how many were left out', async () => {
    const dir = suite({ 'tls/starttls': '04-starttls', 'tls/allow': '04-starttls-allow-tls', 'limits/rcpt-101': '07c-rcpt-101', basic: '02-ehlo-basic' });
    const group = await cli(['regress', dir, '--case', 'tls']);
    expect(group.code).toBe(0);
    expect(group.out).toMatch(/^ok {6}tls\/allow\nok {6}tls\/starttls\n2 cases passed \(2 cases not selected by --case\)\n$/);
    const glob = await cli(['regress', dir, '--case', '**/*rcpt*', '--case', 'bas?c']);
    expect(glob.out).toMatch(/^ok {6}basic\nok {6}limits\/rcpt-101\n2 cases passed \(2 cases not selected by --case\)\n$/);
    // as a shell completes it: the suite folder in front
    const completed = await cli(['regress', dir, '--case', path.join(dir, 'limits') + '/']);
    expect(completed.out).toMatch(/^ok {6}limits\/rcpt-101\n1 case passed \(3 cases not selected by --case\)\n$/);
    // `*` stays within a folder: `*rcpt*` is not limits/rcpt-101
    const lines: string[] = [];
    await expect(runSuite(dir, { update: false, select: ['*rcpt*'], log: (l) => lines.push(l) })).rejects.toThrow(/--case '\*rcpt\*' selects no case \(cases: basic, limits\/rcpt-101, tls\/allow, tls\/starttls\)/);
    expect(lines).toEqual([]);
  }, 60_000);

  it('a pattern that selects nothing is a usage error (exit 2), not "0 cases passed"', async () => {
    const dir = suite({ basic: '02-ehlo-basic' });
    const r = await cli(['regress', dir, '--case', 'basic', '--case', 'bsaic']);
    expect(r.code).toBe(2);
    expect(r.out).not.toMatch(/passed/);
  }, 30_000);

  it('--update with --case rewrites only the selected cases', async () => {
    const dir = suite({ a: '01-plain-helo', b: '01-plain-helo' });
    for (const c of ['a', 'b']) fs.writeFileSync(path.join(dir, c, 'expected.summary.json'), '{}\n');
    const { results } = await run(dir, true, ['b']);
    expect(results.map((r) => [r.name, r.status])).toEqual([['b', 'updated']]);
    expect(fs.readFileSync(path.join(dir, 'a', 'expected.summary.json'), 'utf8')).toBe('{}\n');
  }, 30_000);
});

describe('regress differences, as read by a person', () => {
  it('a comment that appears once instead of twice (or moved) is a difference, in order', async () => {
    const dir = suite({ c: '02-ehlo-basic' });
    const tsv = path.join(dir, 'c', 'expected.annotations.tsv');
    const lines = fs.readFileSync(tsv, 'utf8').split('\n').filter(Boolean);
    // the expectations say packet 8's STARTTLS comment came twice; the run writes it once
    const dup = [...lines.slice(0, 3), lines[2]!, ...lines.slice(3)];
    fs.writeFileSync(tsv, dup.join('\n') + '\n');
    const { results, text } = await run(dir);
    expect(results[0]!.status).toBe('fail');
    expect(text).toMatch(/annotation comments differ \(1 expected line\(s\) not produced, 0 new\):\n {4}expected packet 8: allow-tls: mask \(EHLO keyword STARTTLS -> XXXXXXXA \(no allow-tls\)\)/);
    // two comments of one packet swapped
    const swapped = [...lines];
    [swapped[0], swapped[1]] = [swapped[1]!, swapped[0]!];
    fs.writeFileSync(tsv, swapped.join('\n') + '\n');
    expect((await run(dir)).results[0]!.status).toBe('fail');
  }, 30_000);

  it('an OUT digest mismatch with equal verdicts and counts says the written bytes differ, with both record counts', async () => {
    const dir = suite({ c: '02-ehlo-basic' });
    const f = path.join(dir, 'c', 'expected.out.sha256');
    fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace(/^[0-9a-f]{64}/, '0'.repeat(64)));
    const { text } = await run(dir);
    expect(text).toMatch(/output capture: records differ \(expected sha256 0{16}…, 21 records; got [0-9a-f]{16}…, 21 records\)\n {4}the verdicts and counts match: the bytes written differ/);
    // only the overall digest was changed: the records listed all match
    expect(text).toContain('    every record matches its listed digest: the interfaces (link types) differ, or the digest line was edited');
  }, 30_000);

  it('a rewrite that changes the bytes written (checksum=fix) names the first record that differs, and how', async () => {
    const dir = suite({ c: '02-ehlo-basic' });
    fs.writeFileSync(path.join(dir, 'c', 'case.json'), '{"checksum": "fix"}');
    const { results, text } = await run(dir);
    expect(results[0]!.status).toBe('fail');
    expect(text).not.toMatch(/verdicts: \d+ difference/);
    // the masked banner (packet 4) is the first packet whose checksum is recomputed
    expect(text).toMatch(/output capture: records differ .*\n {4}the verdicts and counts match: the bytes written differ.*\n {4}OUT first differs at record 4: expected records 4-\d+ there, got records 4-\d+\n {4}record 4 differs in: bytes \(same time and length\)/);
  }, 30_000);

  it('a capture edited after the expectations were made (one timestamp) is named as such', async () => {
    const dir = suite({ c: '02-ehlo-basic' });
    const cap = path.join(dir, 'c', 'capture.pcap');
    const b = fs.readFileSync(cap);
    // walk to record 10 (an ACK without a verdict) and move it by one microsecond
    let off = 24;
    for (let n = 1; n < 10; n++) off += 16 + b.readUInt32LE(off + 8);
    b.writeUInt32LE(b.readUInt32LE(off + 4) + 1, off + 4);
    fs.writeFileSync(cap, b);
    const { results, text } = await run(dir);
    expect(results[0]!.status).toBe('fail');
    expect(text).not.toMatch(/verdicts: \d+ difference/);
    expect(text).not.toContain('annotation comments differ');
    expect(text).toMatch(/annotated pcapng: records differ \(.*, 21 records; got .*, 21 records\)\n {4}the comments match expected\.annotations\.tsv: the packets differ \(as forwarded, like OUT, or as read: the capture was replaced or edited/);
    // the per-record listing names the record and what changed in it
    const t = `${b.readUInt32LE(off)}.${String((b.readUInt32LE(off + 4) - 1) * 1000).padStart(9, '0')}`;
    const t1 = `${b.readUInt32LE(off)}.${String(b.readUInt32LE(off + 4) * 1000).padStart(9, '0')}`;
    expect(text).toContain(`OUT first differs at record 10: expected record 10 there, got record 10\n    record 10 differs in: time ${t} -> ${t1}`);
    expect(text).toContain(`the annotated pcapng first differs at record 10: expected record 10 there, got record 10\n    record 10 differs in: time ${t} -> ${t1}`);
  }, 30_000);

  it('the --update hint is a command a shell runs as shown, for a folder with a space and a non-ASCII letter', async () => {
    const dir = suite({ "with space é's": '01-plain-helo' });
    for (const f of EXPECTED) fs.rmSync(path.join(dir, "with space é's", f));
    const { text } = await run(dir);
    const want = `'${path.join(dir, "with space é")}'\\''s'`;
    expect(text).toContain(`no expectations yet: \`smtp-inspect regress ${want} --update\``);
  }, 30_000);
});

/** A `show running-config` whose service policy is on an interface named as many sites do (nameif OUTSIDE). */
const RUNNING_CONFIG = `: Saved
ASA Version 9.16(4)
!
hostname fw
interface GigabitEthernet0/0
 nameif OUTSIDE
 security-level 0
 ip address 192.0.2.1 255.255.255.0
!
interface GigabitEthernet0/1
 nameif INSIDE
 security-level 100
 ip address 10.0.0.1 255.255.255.0
!
class-map MAIL
 match port tcp eq smtp
!
policy-map type inspect esmtp MAILMAP
 parameters
  mask-banner
!
policy-map OUTSIDE-POLICY
 class MAIL
  inspect esmtp MAILMAP
!
service-policy OUTSIDE-POLICY interface OUTSIDE
: end
`;

describe('case.json: the replay options a site configuration needs', () => {
  it('clientInterface/serverInterface name the interfaces, so an interface service-policy on OUTSIDE inspects', async () => {
    const dir = suite({ outside: '12-unknown-commands', plain: '12-unknown-commands' });
    for (const c of ['outside', 'plain']) fs.writeFileSync(path.join(dir, c, 'policy.txt'), RUNNING_CONFIG);
    fs.writeFileSync(path.join(dir, 'outside', 'case.json'), JSON.stringify({ clientInterface: 'OUTSIDE', serverInterface: 'INSIDE', policyMode: 'snapshot' }));
    await run(dir, true);
    const verdicts = (c: string) => fs.readFileSync(path.join(dir, c, 'expected.verdicts.jsonl'), 'utf8');
    // without the names the connection enters by "outside", which the OUTSIDE policy does not cover
    expect(verdicts('plain')).toMatch(/"detail":"built: not inspected/);
    expect(verdicts('outside')).toMatch(/"detail":"built: inspected by class MAIL \(policy-map OUTSIDE-POLICY, inspect esmtp MAILMAP\)"/);
    expect(verdicts('outside')).toMatch(/Built inbound TCP connection 1 for OUTSIDE:127\.0\.0\.1\/\d+ \(127\.0\.0\.1\/\d+\) to INSIDE:127\.0\.0\.1\/25/);
    expect(verdicts('outside')).toMatch(/"rule":"mask-banner","action":"mask"/);
    expect((await run(dir)).results.map((r) => r.status)).toEqual(['ok', 'ok']);
  }, 30_000);

  it('wrong values are errors at their line:column', async () => {
    const dir = suite({ c: '01-plain-helo' });
    fs.writeFileSync(path.join(dir, 'c', 'case.json'), '{\n  "clientInterface": "OUT SIDE"\n}\n');
    const { results, text } = await run(dir);
    expect(results[0]!.status).toBe('error');
    expect(text).toMatch(/case\.json:2:22: clientInterface: must be an ASA interface name \(nameif, one word\), not "OUT SIDE"/);
    fs.writeFileSync(path.join(dir, 'c', 'case.json'), '{"policyMode": "replace"}');
    expect((await run(dir)).text).toMatch(/case\.json:1:16: policyMode: must be one of "auto", "merge", "snapshot", not "replace"/);
    fs.writeFileSync(path.join(dir, 'c', 'case.json'), '{"maxHeld": 1.5}');
    expect((await run(dir)).text).toMatch(/case\.json:1:13: maxHeld: must be a whole number of packets, 1 or more, not 1\.5/);
  }, 30_000);
});

describe('expectations checked out with CR LF line ends (git core.autocrlf on Windows)', () => {
  it('pass as they are, and --update leaves them untouched', async () => {
    const dir = suite({ c: '02-ehlo-basic' });
    for (const f of EXPECTED) {
      const p = path.join(dir, 'c', f);
      fs.writeFileSync(p, fs.readFileSync(p, 'utf8').replace(/\n/g, '\r\n'));
      fs.utimesSync(p, OLD, OLD);
    }
    const { results, text } = await run(dir);
    expect(results[0]!.status, text).toBe('ok');
    expect((await run(dir, true)).results[0]!.status).toBe('ok');
    for (const f of EXPECTED) expect(fs.statSync(path.join(dir, 'c', f)).mtime.getTime()).toBe(OLD.getTime());
  }, 30_000);
});

describe('where the suite is run from', () => {
  it('`cd case && regress .` passes with the same expectations as the suite run (a "." is not a path to mask)', async () => {
    const dir = suite({ c: '02-ehlo-basic' });
    const before = fs.readFileSync(path.join(dir, 'c', 'expected.verdicts.jsonl'));
    const cwd = process.cwd();
    process.chdir(path.join(dir, 'c'));
    try {
      const { results, text } = await run('.');
      expect(results[0]!.status, text).toBe('ok');
      await run('.', true);
    } finally {
      process.chdir(cwd);
    }
    expect(fs.readFileSync(path.join(dir, 'c', 'expected.verdicts.jsonl')).equals(before)).toBe(true);
  }, 30_000);

  it('through a symbolic link and a relative path, the same expectations pass', async () => {
    const dir = suite({ 'grp/c': '02-ehlo-basic' });
    const link = path.join(dir, 'link');
    fs.symlinkSync(path.join(dir, 'grp'), link);
    expect((await run(link)).results.map((r) => r.status)).toEqual(['ok']);
    expect((await run(path.relative(process.cwd(), path.join(dir, 'grp')))).results.map((r) => r.status)).toEqual(['ok']);
  }, 30_000);
});

describe('--update when a file cannot be written', () => {
  // /proc/version is a regular file that no one can write (EIO), root included
  const unwritable = process.platform === 'linux' && fs.existsSync('/proc/version');
  it.skipIf(!unwritable)('names the file, exits 3, and still updates the other cases', async () => {
    const dir = suite({ a: '01-plain-helo', b: '02-ehlo-basic' });
    fs.rmSync(path.join(dir, 'a', 'expected.summary.json'));
    fs.symlinkSync('/proc/version', path.join(dir, 'a', 'expected.summary.json'));
    fs.writeFileSync(path.join(dir, 'b', 'expected.summary.json'), '{}\n');
    const { code, out } = await cli(['regress', dir, '--update']);
    expect(code).toBe(3);
    expect(out).toMatch(/^ERROR {3}a\n {2}cannot update: \S+a\/expected\.summary\.json: cannot write expectation file \(E[A-Z]+\) \[E_OUTPUT\]$/m);
    expect(out).toMatch(/^updated b\n {2}wrote expected\.summary\.json$/m);
    expect(out).toMatch(/^2 cases: 1 updated, 0 unchanged; 1 of 2 cases could not be written \(ERROR\): a$/m);
    expect(out).not.toContain('internal error');
  }, 30_000);
});

describe('an expectation file that cannot be read', () => {
  // /proc/self/mem is a regular file whose read fails (EIO), root included
  const unreadable = process.platform === 'linux' && fs.existsSync('/proc/self/mem');
  it.skipIf(!unreadable)('is that case\'s ERROR naming the file; the other cases still run', async () => {
    const dir = suite({ a: '01-plain-helo', b: '02-ehlo-basic' });
    fs.rmSync(path.join(dir, 'a', 'expected.annotations.tsv'));
    fs.symlinkSync('/proc/self/mem', path.join(dir, 'a', 'expected.annotations.tsv'));
    const { code, out } = await cli(['regress', dir]);
    expect(code).toBe(2);
    expect(out).toMatch(/^ERROR {3}a\n {2}cannot run: \S+a\/expected\.annotations\.tsv: cannot read expectation file \(E[A-Z]+\) \[E_USAGE\]$/m);
    expect(out).toMatch(/^ok {6}b$/m);
  }, 30_000);
});

describe('regress given a capture instead of a folder', () => {
  it('says what it takes and names the case folder that would run it', async () => {
    const dir = suite({ c: '01-plain-helo' });
    const r = await cli(['regress', path.join(dir, 'c', 'capture.pcap')]);
    expect(r.code).toBe(2);
    await expect(runSuite(path.join(dir, 'c', 'capture.pcap'), { update: false })).rejects.toThrow(
      `not a folder: regress takes a suite folder or a case folder; to run the case holding this capture: smtp-inspect regress ${path.join(dir, 'c')}`,
    );
  }, 30_000);
});

describe('a capture not yet in a case folder', () => {
  it('is an ERROR saying how to make it a case, never silently skipped while the other cases pass', async () => {
    const dir = suite({ ok: '01-plain-helo' });
    fs.mkdirSync(path.join(dir, 'new one'));
    fs.copyFileSync(path.join(PROJECT_CAPTURES, '01-plain-helo', 'capture.pcap'), path.join(dir, 'new one', 'relay test é.pcap'));
    fs.copyFileSync(path.join(PROJECT_CAPTURES, '18c-dumpcap-pcapng', 'capture.pcapng'), path.join(dir, 'loose.pcapng'));
    const { code, out } = await cli(['regress', dir]);
    expect(code).toBe(2);
    expect(out).toMatch(/^ERROR {3}loose\.pcapng\n {2}cannot run: \S+loose\.pcapng: is a capture outside a case folder: mkdir loose and move it there as capture\.pcapng/m);
    expect(out).toMatch(/^ERROR {3}new one\/relay test é\.pcap\n {2}cannot run: .*relay test é\.pcap: is a capture outside a case folder: rename it capture\.pcap/m);
    expect(out).toMatch(/^ok {6}ok$/m);
    expect(out).toMatch(/2 of 3 cases could not run \(ERROR\): loose\.pcapng, new one\/relay test é\.pcap$/m);
  }, 30_000);
});

describe('a failing case with a description', () => {
  it('prints the description first, so the failure reads without opening case.json', async () => {
    const dir = suite({ c: '07c-rcpt-101' });
    fs.writeFileSync(path.join(dir, 'c', 'case.json'), JSON.stringify({ description: 'RCPT limit: the 101st recipient\ndrops the session' }));
    fs.writeFileSync(path.join(dir, 'c', 'policy.txt'), 'policy-map type inspect esmtp _default_esmtp_map\n match cmd RCPT count gt 100\n  log\n');
    const { text } = await run(dir);
    expect(text).toMatch(/^FAIL {4}c\n {2}case: RCPT limit: the 101st recipient drops the session\n {2}verdicts: /);
  }, 30_000);
});

describe('--update of expectations that differ only in layout', () => {
  it('says the results are the same (old .sha256 without per-record lines, reordered JSON keys)', async () => {
    const dir = suite({ c: '02-ehlo-basic' });
    const sha = path.join(dir, 'c', 'expected.out.sha256');
    fs.writeFileSync(sha, fs.readFileSync(sha, 'utf8').split('\n')[0] + '\n');
    const v = path.join(dir, 'c', 'expected.verdicts.jsonl');
    const lines = fs.readFileSync(v, 'utf8').split('\n').filter(Boolean);
    const reordered = lines.map((l) => JSON.stringify(Object.fromEntries(Object.entries(JSON.parse(l) as Record<string, unknown>).reverse())));
    fs.writeFileSync(v, reordered.join('\n') + '\n');
    expect((await run(dir)).results[0]!.status).toBe('ok');
    const { text } = await run(dir, true);
    expect(text).toBe('updated c\n  wrote expected.verdicts.jsonl, expected.out.sha256\n  (the same results: only the files\' layout changed to what this version writes)');
  }, 30_000);
});

describe('one site policy shared by many cases (policy.txt as a symbolic link)', () => {
  it('runs with the shared policy, and a change to it shows in every case', async () => {
    const dir = suite({ 'cases/a': '07c-rcpt-101', 'cases/b': '07c-rcpt-101' });
    fs.writeFileSync(path.join(dir, 'site-policy.txt'), 'policy-map type inspect esmtp _default_esmtp_map\n match cmd RCPT count gt 100\n  drop-connection log\n');
    for (const c of ['a', 'b']) fs.symlinkSync('../../site-policy.txt', path.join(dir, 'cases', c, 'policy.txt'));
    expect((await run(dir)).results.map((r) => [r.name, r.status])).toEqual([
      ['cases/a', 'ok'],
      ['cases/b', 'ok'],
    ]);
    fs.writeFileSync(path.join(dir, 'site-policy.txt'), 'policy-map type inspect esmtp _default_esmtp_map\n match cmd RCPT count gt 100\n  log\n');
    expect((await run(dir)).results.map((r) => r.status)).toEqual(['fail', 'fail']);
  }, 30_000);
});

describe('--junit FILE (CI test reports)', () => {
  it('writes one testcase per case: FAIL as <failure>, ERROR as <error>, well-formed and the same on every run', async () => {
    const dir = suite({ 'grp/ok': '01-plain-helo', 'grp/a&b <x>': '07c-rcpt-101', broken: '01-plain-helo' });
    fs.writeFileSync(path.join(dir, 'grp', 'a&b <x>', 'policy.txt'), 'policy-map type inspect esmtp _default_esmtp_map\n match cmd RCPT count gt 100\n  log\n');
    fs.writeFileSync(path.join(dir, 'broken', 'case.json'), '{"profile": "fast"}');
    const report = path.join(dir, 'report.xml');
    const { code } = await cli(['regress', dir, '--junit', report]);
    expect(code).toBe(2);
    const x = fs.readFileSync(report, 'utf8');
    expect(x).toMatch(/^<\?xml version="1\.0" encoding="UTF-8"\?>\n<testsuites name="smtp-inspect regress" tests="3" failures="1" errors="1" skipped="0">/);
    expect(x).toContain('<testcase classname="regress" name="broken">\n      <error message="case cannot run" type="ERROR">cannot run: ');
    expect(x).toContain('case.json:1:13: profile: must be one of &quot;asa&quot;, &quot;analysis&quot;, not &quot;fast&quot; [E_USAGE]</error>');
    expect(x).toContain('<testcase classname="regress.grp" name="a&amp;b &lt;x&gt;">\n      <failure message="output differs from the expectations" type="FAIL">verdicts: ');
    expect(x).toContain('expected: match cmd RCPT count gt 100 -&gt; drop-connection');
    expect(x).toContain('<testcase classname="regress.grp" name="ok"/>');
    // nothing volatile: a second run writes the same bytes
    await cli(['regress', dir, '--junit', report]);
    expect(fs.readFileSync(report, 'utf8')).toBe(x);
  }, 60_000);

  const python = spawnSync('python3', ['-c', 'import xml.dom.minidom'], { encoding: 'utf8' }).status === 0;
  it.skipIf(!python)('the report parses as XML (python3 xml.dom.minidom), control characters and all', async () => {
    const { junitReport } = await import('../../src/regress/junit.js');
    const text = junitReport([{ name: 'g/c"\u0001', status: 'fail', ok: false, updated: false, problems: ['  bad \u0007 bell & <tag> \ud800 lone'] }], 'S');
    const r = spawnSync('python3', ['-c', 'import sys,xml.dom.minidom; d=xml.dom.minidom.parseString(sys.stdin.buffer.read()); print(d.getElementsByTagName("failure")[0].firstChild.data)'], { input: text, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('bad  bell & <tag>  lone\n');
  });

  it('a report that cannot be written is an output error (exit 3), found before any case runs', async () => {
    const dir = suite({ c: '01-plain-helo' });
    const { code, out } = await cli(['regress', dir, '--junit', path.join(dir, 'no-such-folder', 'r.xml')]);
    expect(code).toBe(3);
    // before, the whole suite ran first and only then failed on the report
    expect(out).not.toMatch(/\bok\b|FAIL|cases? passed/);
  }, 30_000);
});
