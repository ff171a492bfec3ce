/**
 * Case folders that cannot test what their author meant are ERRORs, never silently passed or
 * skipped: a strict case.json (unknown keys, wrong types and values, bad engine options, with
 * file:line:col and key path), a misnamed or doubled capture, a case folder inside a case. Grouped
 * case folders are found. Every case runs; the exit code is 2 when any errored, else 1 on a FAIL.
 * Built on temp copies of a real case of captures/.
 */
import { describe, it, expect, vi, afterEach } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { PROJECT_CAPTURES } from '../helpers/shared.js';
import { runSuite, suiteExitCode } from '../../src/regress/run.js';
import { discoverCases } from '../../src/regress/case.js';
import { loadCaseConfig } from '../../src/regress/case-config.js';
import { SmtpInspectError } from '../../src/errors.js';
import { registerRegress } from '../../src/cli/regress.js';

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

async function cli(args: string[]): Promise<{ code: number; out: string }> {
  const chunks: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    chunks.push(typeof s === 'string' ? s : Buffer.from(s).toString());
    return true;
  });
  const program = new Command().exitOverride();
  registerRegress(program);
  process.exitCode = 0;
  try {
    await program.parseAsync(['node', 'smtp-inspect', ...args]);
  } finally {
    spy.mockRestore();
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { code, out: chunks.join('') };
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
    expect(text).toMatch(/^ERROR +misspelled\n\s+cannot run: \S+misspelled\/case\.json:3:3: engineOption: unknown key \(known: description, engineOptions, profile, checksum\); did you mean "engineOptions"\?/m);
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
