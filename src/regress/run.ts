/** Runs a regression suite: each case replayed in memory and compared (or its expectations rewritten). */
import path from 'node:path';
import { parseEngineOptions } from '../inspect/options.js';
import { loadPolicy } from '../policy/load.js';
import { discoverCases, readExpectations, writeExpectations, type RegressCase } from './case.js';
import { compareCase, expectationsOf, type CaseRun } from './compare.js';
import { maskRecord } from './diff.js';
import { replayInMemory, summaryCounts } from './replay-run.js';

export interface SuiteCaseResult {
  name: string;
  ok: boolean;
  updated: boolean;
  problems: string[];
}

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

export async function runSuite(dir: string, opts: { update: boolean; log?: (line: string) => void }): Promise<SuiteCaseResult[]> {
  const log = opts.log ?? (() => {});
  const results: SuiteCaseResult[] = [];
  for (const c of discoverCases(dir)) {
    let res: SuiteCaseResult;
    try {
      const run = await runCase(c);
      if (opts.update) {
        writeExpectations(c, expectationsOf(run));
        res = { name: c.name, ok: true, updated: true, problems: [] };
      } else {
        const cmp = compareCase(readExpectations(c), run, c.dir);
        res = { name: c.name, ok: cmp.ok, updated: false, problems: cmp.problems };
      }
    } catch (err) {
      const msg = err instanceof Error && 'describe' in err && typeof err.describe === 'function' ? String(err.describe()) : err instanceof Error ? err.message : String(err);
      res = { name: c.name, ok: false, updated: false, problems: [`  replay failed: ${msg}`] };
    }
    log(`${res.updated ? 'updated' : res.ok ? 'ok     ' : 'FAIL   '} ${res.name}`);
    for (const p of res.problems) log(p);
    results.push(res);
  }
  return results;
}
