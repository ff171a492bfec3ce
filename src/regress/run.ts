/** Runs a regression suite: each case replayed in memory and compared (or its expectations rewritten). */
import path from 'node:path';
import { parseEngineOptions } from '../inspect/options.js';
import { loadPolicy } from '../policy/load.js';
import { EXIT, SmtpInspectError } from '../errors.js';
import { discoverCases, loadCase, readExpectations, writeExpectations, type CaseEntry, type RegressCase } from './case.js';
import { compareCase, expectationsOf, type CaseRun } from './compare.js';
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
}

/** Exit code of a suite run: 2 when any case could not run (bad input), else 1 on any difference. */
export function suiteExitCode(results: readonly SuiteCaseResult[]): number {
  if (results.some((r) => r.status === 'error')) return EXIT.USAGE_OR_INPUT;
  if (results.some((r) => r.status === 'fail')) return EXIT.FINDINGS;
  return EXIT.OK;
}

function describeError(err: unknown): string {
  if (err instanceof SmtpInspectError) return err.describe();
  return err instanceof Error ? `internal error: ${err.stack ?? err.message}` : String(err);
}

const LABEL: Record<CaseStatus, string> = { ok: 'ok     ', updated: 'updated', fail: 'FAIL   ', error: 'ERROR  ' };

export async function runCase(c: RegressCase): Promise<CaseRun> {
  const policy = await loadPolicy(c.policy);
  const r = await replayInMemory(c.capture, policy, {
    digests: true,
    ...(c.config.engineOptions ? { engineOptions: parseEngineOptions(c.config.engineOptions) } : {}),
    ...(c.config.profile ? { profile: c.config.profile } : {}),
    ...(c.config.checksum ? { checksumMode: c.config.checksum } : {}),
  });
  const mask = { paths: [path.resolve(c.dir), c.dir] };
  return {
    verdicts: r.verdicts.map((v) => maskRecord(v, mask)),
    outDigest: r.outDigest,
    outRecords: r.outRecords,
    annotatedDigest: r.annotatedDigest,
    annotatedRecords: r.annotatedRecords,
    annotations: r.annotations,
    summary: summaryCounts(r.summary),
  };
}

async function runOne(entry: CaseEntry, update: boolean): Promise<SuiteCaseResult> {
  let c: RegressCase;
  let run: CaseRun;
  try {
    c = loadCase(entry);
    run = await runCase(c);
  } catch (err) {
    return { name: entry.name, status: 'error', ok: false, updated: false, problems: [`  cannot run: ${describeError(err)}`] };
  }
  if (update) {
    writeExpectations(c, expectationsOf(run));
    return { name: c.name, status: 'updated', ok: true, updated: true, problems: [] };
  }
  const cmp = compareCase(readExpectations(c), run, c.dir);
  return { name: c.name, status: cmp.ok ? 'ok' : 'fail', ok: cmp.ok, updated: false, problems: cmp.problems };
}

/** Runs every case; a case that cannot run is an ERROR result and the others still run. */
export async function runSuite(dir: string, opts: { update: boolean; log?: (line: string) => void }): Promise<SuiteCaseResult[]> {
  const log = opts.log ?? (() => {});
  const results: SuiteCaseResult[] = [];
  for (const entry of discoverCases(dir)) {
    const res = await runOne(entry, opts.update);
    log(`${LABEL[res.status]} ${res.name}`);
    for (const p of res.problems) log(p);
    results.push(res);
  }
  return results;
}
