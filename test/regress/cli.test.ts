/**
 * The two commands as a user runs them (commander in-process): exit codes and output.
 * `regress captures` is what CI's `npm test` runs through this file.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { cli } from './run-cli.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_CAPTURES, haveShared } from '../helpers/shared.js';

afterEach(() => {
  process.exitCode = 0;
});

describe('smtp-inspect regress / diagnose commands', () => {
  it('regress captures: exit 0, every case ok', async () => {
    const { code, out } = await cli(['regress', PROJECT_CAPTURES]);
    expect(out).toMatch(/^\d+ cases passed$/m);
    expect(out).not.toContain('FAIL');
    expect(code).toBe(0);
  }, 60_000);

  it('regress on a case changed on purpose: exit 1 and the failing case named', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'regress-cli-'));
    fs.cpSync(path.join(PROJECT_CAPTURES, '08a-header-line-1500'), path.join(dir, '08a'), { recursive: true });
    fs.writeFileSync(path.join(dir, '08a', 'policy.txt'), 'policy-map type inspect esmtp _default_esmtp_map\n match header line length gt 998\n  reset log\n');
    const { code, out } = await cli(['regress', dir]);
    expect(code).toBe(1);
    expect(out).toMatch(/packet 15 c2s .*\n\s+expected: match header line length gt 998 -> drop-connection.*\n\s+got: {6}match header line length gt 998 -> reset/);
    expect(out).toContain('1 of 1 case failed: 08a');
    fs.rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('regress on a case whose expected files were deleted: exit 1, each missing file named, --update named', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'regress-missing-'));
    const c = path.join(dir, 'c1');
    fs.cpSync(path.join(PROJECT_CAPTURES, '08a-header-line-1500'), c, { recursive: true });
    const gone = ['expected.out.sha256', 'expected.annotated.sha256', 'expected.annotations.tsv', 'expected.summary.json'];
    for (const f of gone) fs.rmSync(path.join(c, f));
    const { code, out } = await cli(['regress', dir]);
    expect(code).toBe(1);
    expect(out).toMatch(/^FAIL +c1$/m);
    for (const f of gone) expect(out).toMatch(new RegExp(`missing expected file ${f.replace(/\./g, '\\.')}: .*--update. creates it`));
    expect(out).toContain('1 of 1 case failed: c1');
    fs.rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('regress on a malformed expected file: says which file is malformed, not that the replay failed', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'regress-bad-'));
    const c = path.join(dir, 'c1');
    fs.cpSync(path.join(PROJECT_CAPTURES, '08a-header-line-1500'), c, { recursive: true });
    const v = path.join(c, 'expected.verdicts.jsonl');
    const lines = fs.readFileSync(v, 'utf8').split('\n');
    lines[2] = '{oops';
    fs.writeFileSync(v, lines.join('\n'));
    fs.writeFileSync(path.join(c, 'expected.summary.json'), '{"packets": ');
    const { code, out } = await cli(['regress', dir]);
    expect(code).toBe(1);
    expect(out).toMatch(/expected file expected\.verdicts\.jsonl is malformed: line 3: not JSON/);
    expect(out).toMatch(/expected file expected\.summary\.json is malformed: not JSON/);
    expect(out).not.toContain('replay failed');
    fs.rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it.skipIf(!haveShared)('diagnose --json --html on the demo capture: exit 1 (a broken session), one JSON object, an HTML file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diag-cli-'));
    const html = path.join(dir, 'r.html');
    const { code, out } = await cli(['diagnose', path.join(PROJECT_CAPTURES, 'demo', 'capture.pcap'), '--json', '--html', html]);
    expect(code).toBe(1);
    const j = JSON.parse(out) as { sessions: Array<{ findings: Array<{ packet: number; action: string }> }>; firewallDetected: boolean };
    expect(j.sessions).toHaveLength(2);
    expect(j.sessions[0]!.findings.some((f) => f.packet === 211 && f.action === 'drop-connection')).toBe(true);
    expect(j.sessions[1]!.findings.filter((f) => f.action === 'x-substitute').length).toBeGreaterThanOrEqual(12);
    expect(fs.readFileSync(html, 'utf8')).toMatch(/^<!DOCTYPE html>/);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 30_000);
});
