/**
 * Compares one case's replay with its expectations and words every difference: verdicts first
 * (packet, rule, expected and got), then annotation comments, counts, and the record digests.
 */
import type { VerdictRecord } from '../output/verdicts.js';
import { formatVerdict } from '../output/verdicts.js';
import { diffVerdicts, formatDifferences, parseVerdicts } from './diff.js';
import { digestOf, FILES, type Expectations } from './case.js';

/** How to create missing expectations ("them"/"it"), for the case folder `dir`. */
function updateHint(dir: string, what: 'them' | 'it'): string {
  return `\`smtp-inspect regress ${dir} --update\` creates ${what} from this run (review before committing)`;
}

/** Expectation files a case lacks, by file name, in FILES order. */
export function missingExpectations(exp: Expectations): string[] {
  return (Object.keys(FILES) as Array<keyof typeof FILES>)
    .filter((k): k is keyof Expectations => k in exp && exp[k as keyof Expectations] === null)
    .map((k) => FILES[k]);
}

function malformed(file: string, why: string): string {
  return `  expected file ${file} is malformed: ${why} (fix it, or delete it and recreate it with --update, then review the diff)`;
}

export interface CaseRun {
  verdicts: VerdictRecord[];
  outDigest: string;
  outRecords: number;
  annotatedDigest: string;
  annotatedRecords: number;
  annotations: string[];
  summary: Record<string, unknown>;
}

/** The expectation files' text for a run (what --update writes). */
export function expectationsOf(run: CaseRun): { [K in keyof Expectations]: string } {
  return {
    verdicts: run.verdicts.map((v) => formatVerdict(v) + '\n').join(''),
    out: `${run.outDigest}  sha256 over OUT's ${run.outRecords} records (timestamp, lengths, bytes)\n`,
    annotated: `${run.annotatedDigest}  sha256 over the annotated pcapng's ${run.annotatedRecords} records (timestamp, lengths, bytes, comments)\n`,
    annotations: run.annotations.map((l) => l + '\n').join(''),
    summary: JSON.stringify(run.summary, null, 2) + '\n',
  };
}

export interface CaseResult {
  ok: boolean;
  /** Readable lines, empty when ok. */
  problems: string[];
}

function lineDiff(expected: string[], got: string[], what: string, limit = 20): string[] {
  const e = new Set(expected);
  const g = new Set(got);
  const out: string[] = [];
  const missing = expected.filter((l) => !g.has(l));
  const extra = got.filter((l) => !e.has(l));
  if (missing.length === 0 && extra.length === 0) return out;
  out.push(`  ${what} differ:`);
  for (const l of missing.slice(0, limit)) out.push(`    expected packet ${l.replace('\t', ': ')}`);
  for (const l of extra.slice(0, limit)) out.push(`    got      packet ${l.replace('\t', ': ')}`);
  const more = Math.max(0, missing.length - limit) + Math.max(0, extra.length - limit);
  if (more > 0) out.push(`    … ${more} more`);
  return out;
}

function flatten(o: unknown, prefix = ''): Map<string, string> {
  const m = new Map<string, string>();
  if (typeof o === 'object' && o !== null && !Array.isArray(o)) {
    for (const [k, v] of Object.entries(o)) for (const [kk, vv] of flatten(v, prefix ? `${prefix}.${k}` : k)) m.set(kk, vv);
  } else m.set(prefix, JSON.stringify(o));
  return m;
}

export function compareCase(exp: Expectations, run: CaseRun, dir = 'DIR', file: string = FILES.verdicts): CaseResult {
  const problems: string[] = [];
  const missing = missingExpectations(exp);
  if (missing.length === Object.keys(exp).length) {
    problems.push(`  no expectations yet: ${updateHint(dir, 'them')}`);
    return { ok: false, problems };
  }
  // a deleted expectation must not pass silently: every one of them is part of the case
  for (const f of missing) problems.push(`  missing expected file ${f}: ${updateHint(dir, 'it')}`);
  if (exp.verdicts !== null) {
    let expected: VerdictRecord[] | null = null;
    try {
      expected = parseVerdicts(exp.verdicts, file);
    } catch (err) {
      problems.push(malformed(file, (err instanceof Error ? err.message : String(err)).replace(`${file}:`, 'line ')));
    }
    if (expected) {
      const diffs = diffVerdicts(expected, run.verdicts);
      if (diffs.length > 0) {
        problems.push(`  verdicts: ${diffs.length} difference${diffs.length > 1 ? 's' : ''} (expected ${expected.length} records, got ${run.verdicts.length})`);
        problems.push(...formatDifferences(diffs));
      }
    }
  }
  if (exp.annotations !== null) {
    problems.push(...lineDiff(exp.annotations.split('\n').filter(Boolean), run.annotations, 'annotation comments'));
  }
  if (exp.summary !== null) {
    let want: unknown = undefined;
    try {
      want = JSON.parse(exp.summary);
    } catch (err) {
      problems.push(malformed(FILES.summary, `not JSON: ${err instanceof Error ? err.message : String(err)}`));
    }
    if (want !== undefined) {
      const a = flatten(want);
      const b = flatten(run.summary);
      const keys = [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k));
      if (keys.length > 0) {
        problems.push('  summary counts differ:');
        for (const k of keys.slice(0, 20)) problems.push(`    ${k}: expected ${a.get(k) ?? '(absent)'}, got ${b.get(k) ?? '(absent)'}`);
      }
    }
  }
  const wantOut = digestOf(exp.out);
  if (exp.out !== null && wantOut === null) problems.push(malformed(FILES.out, 'it does not start with a 64-digit hex sha256'));
  if (wantOut !== null && wantOut !== run.outDigest) {
    problems.push(`  output capture: records differ (expected sha256 ${wantOut.slice(0, 16)}…, got ${run.outDigest.slice(0, 16)}…, ${run.outRecords} records)`);
  }
  const wantAnn = digestOf(exp.annotated);
  if (exp.annotated !== null && wantAnn === null) problems.push(malformed(FILES.annotated, 'it does not start with a 64-digit hex sha256'));
  if (wantAnn !== null && wantAnn !== run.annotatedDigest) {
    problems.push(`  annotated pcapng: records differ (expected sha256 ${wantAnn.slice(0, 16)}…, got ${run.annotatedDigest.slice(0, 16)}…)`);
  }
  return { ok: problems.length === 0, problems };
}
