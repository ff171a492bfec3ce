/** Runs a regression suite: each case replayed in memory and compared (or its expectations rewritten). */
import fs from 'node:fs';
import path from 'node:path';
import { parseEngineOptions } from '../inspect/options.js';
import { loadPolicy } from '../policy/load.js';
import { EXIT, SmtpInspectError } from '../errors.js';
import { discoverCases, loadCase, readExpectations, writeExpectations, type CaseEntry, type Expectations, type RegressCase } from './case.js';
import { compareCase, expectationsOf, missingExpectations, RECORD_LINES, type CaseRun } from './compare.js';
import { maskRecord } from './diff.js';
import { replayInMemory, summaryCounts } from './replay-run.js';

/**
 * ok / updated: the case ran (and matched, or its expectations were rewritten); fail: it ran and
 * its output differs from the expectations; error: it could not run (bad case.json, policy,
 * engine option, capture, or a missing/ambiguous capture) and says why.
 */
export type CaseStatus = 'ok' | 'updated' | 'fail' | 'error';

export interface SuiteCaseResult {
  name: string;
  status: CaseStatus;
  /** status is ok or updated. */
  ok: boolean;
  updated: boolean;
  problems: string[];
  /** status is error because an expectation file could not be written (--update): exit 3. */
  outputError?: boolean;
}

/**
 * Exit code of a suite run: 3 when --update could not write an expectation file, else 2 when any
 * case could not run (bad input), else 1 on any difference.
 */
export function suiteExitCode(results: readonly SuiteCaseResult[]): number {
  if (results.some((r) => r.outputError === true)) return EXIT.OUTPUT;
  if (results.some((r) => r.status === 'error')) return EXIT.USAGE_OR_INPUT;
  if (results.some((r) => r.status === 'fail')) return EXIT.FINDINGS;
  return EXIT.OK;
}

function describeError(err: unknown): string {
  if (err instanceof SmtpInspectError) return err.describe();
  return err instanceof Error ? `internal error: ${err.stack ?? err.message}` : String(err);
}

const LABEL: Record<CaseStatus, string> = { ok: 'ok     ', updated: 'updated', fail: 'FAIL   ', error: 'ERROR  ' };

/**
 * The case folder's absolute paths (as given and with links resolved) masked in verdict text, so
 * expectations do not depend on where the suite is checked out. Never the path as given: `.` or
 * a short relative name (`c`) would replace every dot or letter c of the text.
 */
function casePaths(dir: string): string[] {
  const paths = [path.resolve(dir)];
  try {
    paths.push(fs.realpathSync(dir));
  } catch {
    // the replay reports an unreadable folder itself
  }
  return [...new Set(paths)].filter((p) => p !== path.parse(p).root);
}

export async function runCase(c: RegressCase): Promise<CaseRun> {
  const policy = await loadPolicy(c.policy, c.config.policyMode ? { mode: c.config.policyMode } : {});
  const r = await replayInMemory(c.capture, policy, {
    digests: true,
    recordLines: RECORD_LINES,
    ...(c.config.engineOptions ? { engineOptions: parseEngineOptions(c.config.engineOptions) } : {}),
    ...(c.config.profile ? { profile: c.config.profile } : {}),
    ...(c.config.checksum ? { checksumMode: c.config.checksum } : {}),
    ...(c.config.clientInterface !== undefined ? { clientInterface: c.config.clientInterface } : {}),
    ...(c.config.serverInterface !== undefined ? { serverInterface: c.config.serverInterface } : {}),
    ...(c.config.maxHeld !== undefined ? { maxHeldPackets: c.config.maxHeld } : {}),
  });
  const mask = { paths: casePaths(c.dir) };
  return {
    verdicts: r.verdicts.map((v) => maskRecord(v, mask)),
    outDigest: r.outDigest,
    outRecords: r.outRecords,
    annotatedDigest: r.annotatedDigest,
    annotatedRecords: r.annotatedRecords,
    annotations: r.annotations,
    summary: summaryCounts(r.summary),
    outRecordLines: r.outRecordLines,
    annotatedRecordLines: r.annotatedRecordLines,
  };
}

async function runOne(entry: CaseEntry, update: boolean): Promise<SuiteCaseResult> {
  let c: RegressCase;
  let run: CaseRun;
  let expected: Expectations;
  try {
    c = loadCase(entry);
    run = await runCase(c);
    expected = readExpectations(c);
  } catch (err) {
    return { name: entry.name, status: 'error', ok: false, updated: false, problems: [`  cannot run: ${describeError(err)}`] };
  }
  if (update) {
    // what this update accepts, for review, then only the files whose text changes are written
    const accepted = compareCase(expected, run, c.dir, undefined, true);
    let written: string[];
    try {
      written = writeExpectations(c, expectationsOf(run));
    } catch (err) {
      // the disk's fault, not the case's: this case is an error, the others are still updated
      return { name: c.name, status: 'error', ok: false, updated: false, outputError: true, problems: [`  cannot update: ${describeError(err)}`] };
    }
    if (written.length === 0) return { name: c.name, status: 'ok', ok: true, updated: false, problems: [] };
    // files that compare equal but are not byte for byte what the runner writes (hand-edited
    // JSON, expectations from a version without the per-record lines): say that nothing changed
    const created = missingExpectations(expected);
    const reformatted = accepted.problems.length === 0 && written.some((f) => !created.includes(f));
    const note = reformatted ? ['  (the same results: only the files\' layout changed to what this version writes)'] : [];
    return { name: c.name, status: 'updated', ok: true, updated: true, problems: [`  wrote ${written.join(', ')}`, ...note, ...accepted.problems] };
  }
  const cmp = compareCase(expected, run, c.dir);
  // what the case is about (case.json's description), so a failure reads without opening the folder
  const about = !cmp.ok && c.config.description ? [`  case: ${c.config.description.replace(/\s+/g, ' ').trim()}`] : [];
  return { name: c.name, status: cmp.ok ? 'ok' : 'fail', ok: cmp.ok, updated: false, problems: [...about, ...cmp.problems] };
}

/** A --case pattern as a regular expression over case names: `*` and `?` stay within one folder, `**` crosses folders. */
function patternRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern.charAt(i);
    if (ch === '*' && pattern.charAt(i + 1) === '*') {
      // `**/` is any number of folders, none included
      const slash = pattern.charAt(i + 2) === '/';
      re += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  // a group's name selects every case in it
  return new RegExp(`^(?:${re})(?:/.*)?$`);
}

/**
 * The cases `patterns` select (all of them when there is none). A pattern is a case name or a
 * group name (`smtp/limits`), with shell-style wildcards (`07*`, `tls/*`; `**` also crosses folders); one written
 * with the suite folder in front (as a shell completes it: `captures/07a`) is taken without it.
 * A pattern that selects nothing is a usage error, so a typo never passes as "0 cases".
 */
export function selectCases(entries: readonly CaseEntry[], patterns: readonly string[], suiteDir: string): CaseEntry[] {
  if (patterns.length === 0) return [...entries];
  const prefix = path.normalize(suiteDir).replace(/\/+$/, '') + '/';
  const tests = patterns.map((raw) => {
    let p = path.normalize(raw).replace(/\/+$/, '');
    if (p.startsWith(prefix) && !entries.some((e) => patternRegExp(p).test(e.name))) p = p.slice(prefix.length);
    return { raw, re: patternRegExp(p) };
  });
  for (const t of tests) {
    if (!entries.some((e) => t.re.test(e.name))) {
      const names = entries.map((e) => e.name);
      const list = names.slice(0, 12).join(', ') + (names.length > 12 ? `, … (${names.length} cases)` : '');
      throw new SmtpInspectError('E_USAGE', `--case '${t.raw}' selects no case (cases: ${list})`, { file: suiteDir });
    }
  }
  return entries.filter((e) => tests.some((t) => t.re.test(e.name)));
}

export interface SuiteOptions {
  update: boolean;
  log?: (line: string) => void;
  /** --case patterns: run only the cases they select (selectCases). */
  select?: readonly string[];
  /** Told how many cases were selected out of how many the suite holds. */
  onSelect?: (selected: number, total: number) => void;
}

/** Runs every (selected) case; a case that cannot run is an ERROR result and the others still run. */
export async function runSuite(dir: string, opts: SuiteOptions): Promise<SuiteCaseResult[]> {
  const log = opts.log ?? (() => {});
  const results: SuiteCaseResult[] = [];
  const all = discoverCases(dir);
  const selected = selectCases(all, opts.select ?? [], dir);
  opts.onSelect?.(selected.length, all.length);
  for (const entry of selected) {
    const res = await runOne(entry, opts.update);
    log(`${LABEL[res.status]} ${res.name}`);
    for (const p of res.problems) log(p);
    results.push(res);
  }
  return results;
}
