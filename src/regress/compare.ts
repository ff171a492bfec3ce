/**
 * Compares one case's replay with its expectations and words every difference: verdicts first
 * (packet, rule, expected and got), then annotation comments, counts, and the record digests.
 */
import type { VerdictRecord } from '../output/verdicts.js';
import { formatVerdict } from '../output/verdicts.js';
import { diffVerdicts, formatDifferences, parseVerdicts } from './diff.js';
import { digestOf, type Expectations } from './case.js';

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

export function compareCase(exp: Expectations, run: CaseRun, file = 'expected.verdicts.jsonl'): CaseResult {
  const problems: string[] = [];
  if (exp.verdicts === null) {
    problems.push('  no expectations yet: run `smtp-inspect regress DIR --update` and review them');
    return { ok: false, problems };
  }
  const expected = parseVerdicts(exp.verdicts, file);
  const diffs = diffVerdicts(expected, run.verdicts);
  if (diffs.length > 0) {
    problems.push(`  verdicts: ${diffs.length} difference${diffs.length > 1 ? 's' : ''} (expected ${expected.length} records, got ${run.verdicts.length})`);
    problems.push(...formatDifferences(diffs));
  }
  if (exp.annotations !== null) {
    problems.push(...lineDiff(exp.annotations.split('\n').filter(Boolean), run.annotations, 'annotation comments'));
  }
  if (exp.summary !== null) {
    let want: unknown;
    try {
      want = JSON.parse(exp.summary);
    } catch {
      want = null;
    }
    const a = flatten(want);
    const b = flatten(run.summary);
    const keys = [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k));
    if (keys.length > 0) {
      problems.push('  summary counts differ:');
      for (const k of keys.slice(0, 20)) problems.push(`    ${k}: expected ${a.get(k) ?? '(absent)'}, got ${b.get(k) ?? '(absent)'}`);
    }
  }
  const wantOut = digestOf(exp.out);
  if (wantOut !== null && wantOut !== run.outDigest) {
    problems.push(`  output capture: records differ (expected sha256 ${wantOut.slice(0, 16)}…, got ${run.outDigest.slice(0, 16)}…, ${run.outRecords} records)`);
  }
  const wantAnn = digestOf(exp.annotated);
  if (wantAnn !== null && wantAnn !== run.annotatedDigest) {
    problems.push(`  annotated pcapng: records differ (expected sha256 ${wantAnn.slice(0, 16)}…, got ${run.annotatedDigest.slice(0, 16)}…)`);
  }
  return { ok: problems.length === 0, problems };
}
