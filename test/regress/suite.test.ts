/**
 * The project's suite (captures/) passes; a case whose rule behaviour is changed on purpose (a
 * policy or engine-option change in a temp copy) fails with a diff naming the packet, the rule,
 * what was expected and what came out; --update rewrites the expectations.
 */
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_CAPTURES } from '../helpers/shared.js';
import { runSuite } from '../../src/regress/run.js';
import { discoverCases } from '../../src/regress/case.js';

function tempCopy(...names: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'regress-'));
  for (const n of names) fs.cpSync(path.join(PROJECT_CAPTURES, n), path.join(dir, n), { recursive: true });
  return dir;
}

async function run(dir: string, update = false) {
  const lines: string[] = [];
  const results = await runSuite(dir, { update, log: (l) => lines.push(l) });
  return { results, text: lines.join('\n') };
}

describe('regress', () => {
  it('the project suite captures/ passes, every case with its expectations', async () => {
    const cases = discoverCases(PROJECT_CAPTURES);
    expect(cases.length).toBeGreaterThanOrEqual(30);
    for (const c of cases) expect(fs.existsSync(path.join(c.dir, 'expected.verdicts.jsonl')), c.name).toBe(true);
    const { results, text } = await run(PROJECT_CAPTURES);
    expect(results.filter((r) => !r.ok), text).toEqual([]);
  }, 60_000);

  it('a rule changed on purpose (drop-connection -> log) fails with packet, rule, expected and got', async () => {
    const dir = tempCopy('07c-rcpt-101');
    fs.writeFileSync(path.join(dir, '07c-rcpt-101', 'policy.txt'), 'policy-map type inspect esmtp _default_esmtp_map\n match cmd RCPT count gt 100\n  log\n');
    const { results, text } = await run(dir);
    expect(results[0]!.ok).toBe(false);
    expect(text).toContain('FAIL    07c-rcpt-101');
    expect(text).toMatch(/packet 211 c2s \(127\.0\.0\.1:40012 -> 127\.0\.0\.1:25\):\n\s+expected: match cmd RCPT count gt 100 -> drop-connection {2}"RCPT #101 in this transaction"\n\s+got: {6}match cmd RCPT count gt 100 -> log/);
    expect(text).toMatch(/packets 211-2\d\d \(\d+ records\)/); // the dropped tail, folded into a range
    expect(text).toMatch(/packets\.dropped: expected 11, got 0/);
    expect(text).toMatch(/output capture: records differ/);
    // --update accepts the new behaviour, and then the case passes
    await run(dir, true);
    expect((await run(dir)).results[0]!.ok).toBe(true);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('an engine option changed on purpose (length counts CRLF) makes the 512-byte EHLO a drop', async () => {
    const dir = tempCopy('13c-cmdline-ehlo-512');
    fs.writeFileSync(path.join(dir, '13c-cmdline-ehlo-512', 'case.json'), JSON.stringify({ engineOptions: ['length-counts-crlf=yes'] }));
    const { results, text } = await run(dir);
    expect(results[0]!.ok).toBe(false);
    expect(text).toMatch(/packet 6 c2s .*\n\s+expected: \(no verdict\)\n\s+got: {6}match cmd line length gt 512 -> drop-connection/);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('a tampered output digest and missing expectations are reported', async () => {
    const dir = tempCopy('01-plain-helo', '02-ehlo-basic', '03-ehlo-pipelining');
    fs.writeFileSync(path.join(dir, '01-plain-helo', 'expected.out.sha256'), `${'0'.repeat(64)}  tampered\n`);
    fs.rmSync(path.join(dir, '02-ehlo-basic', 'expected.verdicts.jsonl'));
    for (const f of fs.readdirSync(path.join(dir, '03-ehlo-pipelining'))) {
      if (f.startsWith('expected.')) fs.rmSync(path.join(dir, '03-ehlo-pipelining', f));
    }
    const { results, text } = await run(dir);
    expect(results.map((r) => r.ok)).toEqual([false, false, false]);
    expect(text).toMatch(/01-plain-helo\n\s+output capture: records differ \(expected sha256 0000000000000000…/);
    expect(text).toMatch(/02-ehlo-basic\n\s+missing expected file expected\.verdicts\.jsonl: `smtp-inspect regress \S+ --update` creates it/);
    expect(text).toMatch(/03-ehlo-pipelining\n\s+no expectations yet: `smtp-inspect regress \S+ --update` creates them/);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 30_000);
});
