/**
 * Case folders that cannot test what their author meant are ERRORs, never silently passed or
 * skipped: a strict case.json (unknown keys, wrong types and values, bad engine options, with
 * file:line:col and key path), a misnamed or doubled capture, a case folder inside a case. Grouped
 * case folders are found. Every case runs; the exit code is 2 when any errored, else 1 on a FAIL.
 * Built on temp copies of a real case of captures/.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { cli } from './run-cli.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_CAPTURES } from '../helpers/shared.js';
import { runSuite, suiteExitCode } from '../../src/regress/run.js';
import { discoverCases } from '../../src/regress/case.js';
import { loadCaseConfig } from '../../src/regress/case-config.js';
import { SmtpInspectError } from '../../src/errors.js';

const SOURCE = '01-plain-helo';
const temps: string[] = [];

function suite(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'regress-err-'));
  temps.push(dir);
  return dir;
}

/** A copy of the real case SOURCE at suite/rel. */
function addCase(root: string, rel: string): string {
  const dst = path.join(root, rel);
  fs.cpSync(path.join(PROJECT_CAPTURES, SOURCE), dst, { recursive: true });
  return dst;
}

async function run(dir: string) {
  const lines: string[] = [];
  const results = await runSuite(dir, { update: false, log: (l) => lines.push(l) });
  const status = Object.fromEntries(results.map((r) => [r.name, r.status]));
  return { results, status, text: lines.join('\n'), code: suiteExitCode(results) };
}

afterEach(() => {
  process.exitCode = 0;
  for (const d of temps.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** The error loadCaseConfig throws for this case.json text. */
function configError(text: string): SmtpInspectError {
  const dir = suite();
  const f = path.join(dir, 'case.json');
  fs.writeFileSync(f, text);
  try {
    loadCaseConfig(f);
  } catch (err) {
    if (err instanceof SmtpInspectError) return err;
    throw err;
  }
  throw new Error(`no error for ${text}`);
}

describe('case.json is validated strictly', () => {
  it('a misspelled key and a bogus profile: ERROR with file:line:col and the key, exit 2 (they passed before)', async () => {
    const root = suite();
    fs.writeFileSync(path.join(addCase(root, 'misspelled'), 'case.json'), '{\n  "description": "mask A",\n  "engineOption": ["banner-mask=A"]\n}\n');
    fs.writeFileSync(path.join(addCase(root, 'bogus-profile'), 'case.json'), '{"profile": "bogus"}');
    addCase(root, 'good');
    const { status, text, code } = await run(root);
    expect(status).toEqual({ 'bogus-profile': 'error', good: 'ok', misspelled: 'error' });
    expect(text).toMatch(/^ERROR +misspelled\n\s+cannot run: \S+misspelled\/case\.json:3:3: engineOption: unknown key \(known: description, engineOptions, profile, checksum, policyMode, clientInterface, serverInterface, maxHeld\); did you mean "engineOptions"\?/m);
    expect(text).toMatch(/^ERROR +bogus-profile\n\s+cannot run: \S+bogus-profile\/case\.json:1:13: profile: must be one of "asa", "analysis", not "bogus"/m);
    expect(code).toBe(2);
  }, 30_000);

  it('wrong types, duplicate keys, bad engine options and broken JSON name the key path and position', () => {
    const cases: Array<[string, RegExp, number, number]> = [
      ['{"description": 5}', /^description: must be a string$/, 1, 17],
      ['{"engineOptions": "banner-mask=A"}', /^engineOptions: must be an array/, 1, 19],
      ['{"engineOptions": ["banner-mask=A", 7]}', /^engineOptions\[1\]: must be a "name=value" string$/, 1, 37],
      ['{"engineOptions": [\n  "banner-mask=A",\n  "banner-mask=Q"\n]}', /^engineOptions\[1\]: engine option 'banner-mask': bad value 'Q'/, 3, 3],
      ['{"engineOptions": ["no-such-option=1"]}', /^engineOptions\[0\]: unknown engine option 'no-such-option'/, 1, 20],
      ['{"checksum": "recompute"}', /^checksum: must be one of "incremental", "fix", "keep", not "recompute"$/, 1, 14],
      ['{"profile": "asa", "profile": "analysis"}', /^profile: key given 2 times$/, 1, 20],
      ['["banner-mask=A"]', /^case\.json must hold an object/, 1, 1],
      ['{"profile": "asa",\n}', /^case\.json is not valid JSON/, 2, 1],
      ['{"engineOptions": [', /^case\.json is not valid JSON/, 1, 20],
    ];
    for (const [text, msg, line, column] of cases) {
      const e = configError(text);
      expect(e.message, text).toMatch(msg);
      expect([e.line, e.column], text).toEqual([line, column]);
      expect(e.file, text).toMatch(/case\.json$/);
    }
  });

  it('a valid case.json is read as written', () => {
    const dir = suite();
    const f = path.join(dir, 'case.json');
    fs.writeFileSync(f, JSON.stringify({ description: 'd', engineOptions: ['banner-mask=A'], profile: 'analysis', checksum: 'fix' }));
    expect(loadCaseConfig(f)).toEqual({ description: 'd', engineOptions: ['banner-mask=A'], profile: 'analysis', checksum: 'fix' });
  });
});

describe('no case is skipped silently', () => {
  it('expectations with a misnamed capture, and two captures: ERRORs naming the files', async () => {
    const root = suite();
    const misnamed = addCase(root, 'misnamed');
    fs.renameSync(path.join(misnamed, 'capture.pcap'), path.join(misnamed, 'capture.cap'));
    const two = addCase(root, 'two');
    fs.copyFileSync(path.join(two, 'capture.pcap'), path.join(two, 'capture.pcapng'));
    const twoGz = addCase(root, 'two-gz');
    fs.copyFileSync(path.join(twoGz, 'capture.pcap'), path.join(twoGz, 'capture.pcap.gz'));
    addCase(root, 'good');
    const { status, text, code } = await run(root);
    expect(status).toEqual({ good: 'ok', misnamed: 'error', two: 'error', 'two-gz': 'error' });
    expect(text).toMatch(/^ERROR +misnamed\n\s+cannot run: \S+misnamed: has expectations but no capture \(capture\.pcap, [^)]*\) \(found capture\.cap\?\)/m);
    expect(text).toMatch(/^ERROR +two\n\s+cannot run: \S+two: has 2 captures: capture\.pcap, capture\.pcapng \(keep one\)/m);
    expect(text).toMatch(/^ERROR +two-gz\n\s+cannot run: \S+two-gz: has 2 captures: capture\.pcap, capture\.pcap\.gz/m);
    expect(code).toBe(2);
  }, 30_000);

  it('a case file under a name the runner does not read (policy.cfg, expected.verdict.jsonl) is an ERROR; notes are fine', async () => {
    const root = suite();
    const policy = addCase(root, 'policy-cfg');
    fs.writeFileSync(path.join(policy, 'policy.cfg'), 'policy-map type inspect esmtp _default_esmtp_map\n parameters\n  no mask-banner\n');
    const expected = addCase(root, 'expected-typo');
    fs.renameSync(path.join(expected, 'expected.verdicts.jsonl'), path.join(expected, 'expected.verdict.jsonl'));
    const notes = addCase(root, 'with-notes');
    fs.writeFileSync(path.join(notes, 'README.md'), 'why this case exists\n');
    fs.writeFileSync(path.join(notes, 'notes.txt'), 'more\n');
    const { status, text, code } = await run(root);
    expect(status).toEqual({ 'policy-cfg': 'error', 'expected-typo': 'error', 'with-notes': 'ok' });
    expect(text).toMatch(/^ERROR +policy-cfg\n\s+cannot run: \S+policy-cfg: has policy\.cfg, which the runner does not read \(case files: policy\.txt, case\.json, expected\.verdicts\.jsonl/m);
    expect(text).toMatch(/^ERROR +expected-typo\n\s+cannot run: \S+expected-typo: has expected\.verdict\.jsonl, which the runner does not read/m);
    expect(code).toBe(2);
  }, 30_000);

  it('grouped case folders are found and named by relative path; a case inside a case is an ERROR', async () => {
    const root = suite();
    addCase(root, 'group/sub/deep');
    addCase(root, 'group/flat');
    const outer = addCase(root, 'outer');
    addCase(outer, 'inner');
    fs.mkdirSync(path.join(root, '.hidden'));
    addCase(root, '.hidden/ignored');
    expect(discoverCases(root).map((c) => c.name)).toEqual(['group/flat', 'group/sub/deep', 'outer', 'outer/inner']);
    const { status, text, code } = await run(root);
    expect(status).toEqual({ 'group/flat': 'ok', 'group/sub/deep': 'ok', outer: 'ok', 'outer/inner': 'error' });
    expect(text).toMatch(/^ERROR +outer\/inner\n\s+cannot run: \S+inner: is inside case folder outer: a case folder cannot hold other cases/m);
    expect(code).toBe(2);
  }, 30_000);
});

describe('one rule for case errors: every case runs, ERROR exits 2, FAIL exits 1', () => {
  it('bad JSON, bad policy, bad option, corrupt capture: each an ERROR, the other cases still run', async () => {
    const root = suite();
    fs.writeFileSync(path.join(addCase(root, 'a-bad-json'), 'case.json'), '{"engineOptions": [');
    fs.writeFileSync(path.join(addCase(root, 'b-bad-policy'), 'policy.txt'), 'policy-map type inspect esmtp _default_esmtp_map\n match cmd RCPT count gt\n');
    fs.writeFileSync(path.join(addCase(root, 'c-bad-option'), 'case.json'), '{"engineOptions": ["banner-mask=Q"]}');
    const corrupt = path.join(addCase(root, 'd-corrupt'), 'capture.pcap');
    const bytes = fs.readFileSync(corrupt);
    bytes.write('XXXX', 0, 'latin1');
    fs.writeFileSync(corrupt, bytes);
    addCase(root, 'e-good');
    const { status, text, code } = await run(root);
    expect(status).toEqual({ 'a-bad-json': 'error', 'b-bad-policy': 'error', 'c-bad-option': 'error', 'd-corrupt': 'error', 'e-good': 'ok' });
    expect(text).toMatch(/a-bad-json\/case\.json:1:\d+: case\.json is not valid JSON/);
    expect(text).toMatch(/b-bad-policy\/policy\.txt:2:\d+: .*\[E_POLICY_/);
    expect(text).toMatch(/c-bad-option\/case\.json:1:20: engineOptions\[0\]: engine option 'banner-mask': bad value 'Q'/);
    expect(text).toMatch(/d-corrupt\/capture\.pcap: .*\[E_CAPTURE_BAD_MAGIC\]/);
    expect(text).not.toMatch(/FAIL/);
    expect(code).toBe(2);
  }, 30_000);

  it('the CLI: an ERROR and a FAIL together exit 2 and name both; a FAIL alone exits 1', async () => {
    const root = suite();
    fs.writeFileSync(path.join(addCase(root, 'broken'), 'case.json'), '{"profil": "asa"}');
    fs.writeFileSync(path.join(addCase(root, 'differs'), 'case.json'), '{"engineOptions": ["banner-mask=A"]}');
    addCase(root, 'good');
    const both = await cli(['regress', root]);
    expect(both.out).toMatch(/^FAIL +differs$/m);
    expect(both.out).toMatch(/^ERROR +broken$/m);
    expect(both.out).toContain('1 of 3 cases failed: differs; 1 of 3 cases could not run (ERROR): broken');
    expect(both.code).toBe(2);
    fs.rmSync(path.join(root, 'broken'), { recursive: true });
    const fail = await cli(['regress', root]);
    expect(fail.out).toContain('1 of 2 cases failed: differs\n');
    expect(fail.code).toBe(1);
  }, 30_000);
});

describe('symbolic links, nested cases, case files that are not files', () => {
  it('a linked case or group folder runs under the path as found; a folder reached twice or a link loop is an ERROR', async () => {
    const parent = suite();
    const root = path.join(parent, 'S');
    addCase(root, 'a-real');
    addCase(parent, 'grp/inner'); // outside the suite, reached only through the link
    addCase(parent, 'outside-case');
    fs.symlinkSync('a-real', path.join(root, 'link-a')); // same folder as a-real
    fs.symlinkSync('../grp', path.join(root, 'grp2link'));
    fs.symlinkSync(path.join(parent, 'outside-case'), path.join(root, 'b-linked-case'));
    fs.symlinkSync('..', path.join(parent, 'grp', 'up')); // grp/up -> grp's parent, which holds grp: a loop
    fs.symlinkSync('/nonexistent-regress-target', path.join(root, 'dangling'));
    expect(discoverCases(root).map((c) => c.name)).toEqual(['a-real', 'b-linked-case', 'dangling', 'grp2link/inner', 'grp2link/up', 'link-a']);
    const { status, text, code } = await run(root);
    expect(status).toEqual({
      'a-real': 'ok',
      'b-linked-case': 'ok',
      'grp2link/inner': 'ok',
      'link-a': 'error',
      'grp2link/up': 'error',
      dangling: 'error',
    });
    expect(text).toMatch(/^ERROR +link-a\n\s+cannot run: \S+link-a: is a symbolic link to a-real, a folder already part of the suite as a-real/m);
    expect(text).toMatch(/^ERROR +grp2link\/up\n\s+cannot run: \S+up: symbolic link loop: links to \.\., a folder that contains it/m);
    expect(text).toMatch(/^ERROR +dangling\n\s+cannot run: \S+dangling: is a broken symbolic link \(to \/nonexistent-regress-target\)/m);
    expect(code).toBe(2);
  }, 30_000);

  it('the real folder keeps its name even when a link to it sorts first', () => {
    const root = suite();
    addCase(root, 'z-real');
    fs.symlinkSync('z-real', path.join(root, 'a-link'));
    const found = discoverCases(root);
    expect(found.map((c) => [c.name, c.problem === null])).toEqual([
      ['a-link', false],
      ['z-real', true],
    ]);
    expect(found[0]!.problem).toMatch(/already part of the suite as z-real$/);
  });

  it('a link to the suite folder itself is a loop, not a second walk of the suite', () => {
    const root = suite();
    addCase(root, 'g/c');
    fs.symlinkSync(root, path.join(root, 'g', 'self'));
    expect(discoverCases(root).map((c) => [c.name, c.problem])).toEqual([
      ['g/c', null],
      ['g/self', expect.stringMatching(/^symbolic link loop/)],
    ]);
  });

  it('a case two or more levels inside a case folder is an ERROR; the outer case still runs', async () => {
    const root = suite();
    const outer = addCase(root, 'a');
    addCase(outer, 'grp/inner');
    addCase(outer, 'grp/deeper/still');
    const { status, text, code } = await run(root);
    expect(status).toEqual({ a: 'ok', 'a/grp/inner': 'error', 'a/grp/deeper/still': 'error' });
    expect(text).toMatch(/^ERROR +a\/grp\/inner\n\s+cannot run: \S+inner: is inside case folder a: a case folder cannot hold other cases/m);
    expect(text).toMatch(/^ERROR +a\/grp\/deeper\/still\n\s+cannot run: \S+still: is inside case folder a:/m);
    expect(code).toBe(2);
  }, 30_000);

  it('case.json, policy.txt or a capture that is a folder, and a dangling capture link: one ERROR line each, no stack', async () => {
    const root = suite();
    const cj = addCase(root, 'cj');
    fs.rmSync(path.join(cj, 'case.json'), { force: true });
    fs.mkdirSync(path.join(cj, 'case.json'));
    fs.mkdirSync(path.join(addCase(root, 'pol'), 'policy.txt'));
    const cap = addCase(root, 'cap');
    fs.rmSync(path.join(cap, 'capture.pcap'));
    fs.mkdirSync(path.join(cap, 'capture.pcap'));
    const dang = addCase(root, 'dang');
    fs.rmSync(path.join(dang, 'capture.pcap'));
    fs.symlinkSync('/nonexistent-regress-target.pcap', path.join(dang, 'capture.pcap'));
    const exp = addCase(root, 'exp');
    fs.rmSync(path.join(exp, 'expected.summary.json'));
    fs.mkdirSync(path.join(exp, 'expected.summary.json'));
    addCase(root, 'good');
    const { status, text, code } = await run(root);
    expect(status).toEqual({ cap: 'error', cj: 'error', dang: 'error', exp: 'error', good: 'ok', pol: 'error' });
    expect(text).toMatch(/^ERROR +cj\n\s+cannot run: \S+cj: case\.json is not a file \(it is a folder\) \[E_USAGE\]$/m);
    expect(text).toMatch(/^ERROR +pol\n\s+cannot run: \S+pol: policy\.txt is not a file \(it is a folder\) \[E_USAGE\]$/m);
    expect(text).toMatch(/^ERROR +cap\n\s+cannot run: \S+cap: capture\.pcap is not a file \(it is a folder\) \[E_USAGE\]$/m);
    expect(text).toMatch(/^ERROR +dang\n\s+cannot run: \S+dang: capture\.pcap is a broken symbolic link \[E_USAGE\]$/m);
    expect(text).toMatch(/^ERROR +exp\n\s+cannot run: \S+exp: expected\.summary\.json is not a file/m);
    expect(text).not.toMatch(/internal error|EISDIR|\n\s+at /);
    expect(code).toBe(2);
  }, 30_000);

  it('loadCaseConfig on a folder named case.json: one error, not EISDIR', () => {
    const dir = suite();
    const f = path.join(dir, 'case.json');
    fs.mkdirSync(f);
    expect(() => loadCaseConfig(f)).toThrow(SmtpInspectError);
    expect(() => loadCaseConfig(f)).toThrow(/^case\.json is not a file \(it is a folder\)$/);
  });
});

describe('case.json: byte-order mark, an engine option given twice', () => {
  it('a BOM is named at 1:1; UTF-16 too', () => {
    const e = configError('\uFEFF{"profile": "asa"}');
    expect(e.message).toBe('case.json starts with a UTF-8 byte-order mark (save it without)');
    expect([e.line, e.column]).toEqual([1, 1]);
    const dir = suite();
    const f = path.join(dir, 'case.json');
    fs.writeFileSync(f, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('{}', 'utf16le')]));
    expect(() => loadCaseConfig(f)).toThrow(/^case\.json is UTF-16/);
  });

  it('the same engine option twice is an ERROR at the second, as a duplicate key is; different options are fine', () => {
    const e = configError('{"engineOptions": ["judging=line",\n  "judging=segment"]}');
    expect(e.message).toBe("engineOptions[1]: engine option 'judging' given twice (also engineOptions[0]); keep one");
    expect([e.line, e.column]).toEqual([2, 3]);
    const spaced = configError('{"engineOptions": ["banner-mask=A", "judging=line", " banner-mask = A"]}');
    expect(spaced.message).toMatch(/^engineOptions\[2\]: engine option 'banner-mask' given twice \(also engineOptions\[0\]\)/);
    const dir = suite();
    const f = path.join(dir, 'case.json');
    fs.writeFileSync(f, '{"engineOptions": ["banner-mask=A", "judging=line"]}');
    expect(loadCaseConfig(f).engineOptions).toEqual(['banner-mask=A', 'judging=line']);
  });
});
