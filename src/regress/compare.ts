/**
 * Compares one case's replay with its expectations and words every difference: verdicts first
 * (packet, rule, expected and got), then annotation comments, counts, and the record digests.
 */
import { alignByLcs } from './align.js';
import type { VerdictRecord } from '../output/verdicts.js';
import { formatVerdict } from '../output/verdicts.js';
import { diffVerdicts, formatDifferences, parseVerdicts } from './diff.js';
import { digestOf, FILES, type Expectations } from './case.js';

/** A path as a POSIX shell word: quoted when it holds a space, a quote or another special character. */
export function shellWord(p: string): string {
  return /^[\w@%+=:,./-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`;
}

/** How to create missing expectations ("them"/"it"), for the case folder `dir`. */
function updateHint(dir: string, what: 'them' | 'it'): string {
  return `\`smtp-inspect regress ${shellWord(dir)} --update\` creates ${what} from this run (review before committing)`;
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
  /** Per-record lines (DigestWriter.records), listed in the .sha256 files after the digest. */
  outRecordLines?: string[];
  annotatedRecordLines?: string[];
}

/** Records listed one by one in a .sha256 expectation: enough for a case, bounded for a big capture. */
export const RECORD_LINES = 5000;

const RECORD_HEADER = '# record\ttime\tcaptured/original length\tsha256 of the record (16 hex digits): names the first record that differs';

function withRecords(first: string, lines: readonly string[] | undefined, total: number): string {
  if (!lines || lines.length === 0) return first;
  const more = total > lines.length ? `# records after ${lines.length} are not listed\n` : '';
  return `${first}${RECORD_HEADER}\n${lines.map((l) => l + '\n').join('')}${more}`;
}

/** The per-record lines of a .sha256 expectation (none in files written before they were kept). */
function recordLinesOf(text: string | null): string[] {
  return (text ?? '').split('\n').filter((l) => /^\d+\t\S+\t\d+\/\d+\t[0-9a-f]{16}$/.test(l));
}

/**
 * Where two per-record listings first differ, worded: the record number on each side and what
 * differs (time, length, bytes). The common head and tail are trimmed, so a record inserted or
 * removed is named as such rather than as a shift of every later record.
 */
function explainRecords(expectedLines: string[], gotLines: readonly string[], what: string, gotTotal: number): string[] {
  if (expectedLines.length === 0 || gotLines.length === 0) return [];
  const body = (l: string): string => l.slice(l.indexOf('\t') + 1);
  const a = expectedLines.map(body);
  const b = gotLines.map(body);
  let lo = 0;
  while (lo < a.length && lo < b.length && a[lo] === b[lo]) lo++;
  if (lo === a.length && lo === b.length) {
    // a complete listing that matches leaves only what is hashed besides records
    return lo < gotTotal
      ? [`    the ${lo} records listed match: the difference is after them`]
      : [`    every record matches its listed digest: the interfaces (link types) differ, or the digest line was edited`];
  }
  let ea = a.length;
  let eb = b.length;
  while (ea > lo && eb > lo && a[ea - 1] === b[eb - 1]) {
    ea--;
    eb--;
  }
  const fields = (l: string | undefined): string[] => (l ?? '').split('\t');
  const [et, el, ed] = fields(a[lo]);
  const [gt, gl, gd] = fields(b[lo]);
  const out: string[] = [];
  const span = (from: number, to: number): string => (to - from <= 1 ? `record ${from + 1}` : `records ${from + 1}-${to}`);
  out.push(`    ${what} first differs at record ${lo + 1}: expected ${ea > lo ? span(lo, ea) : 'no record'} there, got ${eb > lo ? span(lo, eb) : 'no record'}`);
  if (lo < a.length && lo < b.length) {
    const differ = [et !== gt ? `time ${et} -> ${gt}` : '', el !== gl ? `length ${el} -> ${gl}` : '', ed !== gd && et === gt && el === gl ? 'bytes (same time and length)' : ''].filter(Boolean);
    out.push(`    record ${lo + 1} differs in: ${differ.join(', ') || 'bytes'}`);
  }
  return out;
}


/** The expectation files' text for a run (what --update writes). */
export function expectationsOf(run: CaseRun): { [K in keyof Expectations]: string } {
  return {
    verdicts: run.verdicts.map((v) => formatVerdict(v) + '\n').join(''),
    out: withRecords(`${run.outDigest}  sha256 over OUT's ${run.outRecords} records (timestamp, lengths, bytes)\n`, run.outRecordLines, run.outRecords),
    annotated: withRecords(
      `${run.annotatedDigest}  sha256 over the annotated pcapng's ${run.annotatedRecords} records (timestamp, lengths, bytes, comments)\n`,
      run.annotatedRecordLines,
      run.annotatedRecords,
    ),
    annotations: run.annotations.map((l) => l + '\n').join(''),
    summary: JSON.stringify(run.summary, null, 2) + '\n',
  };
}

export interface CaseResult {
  ok: boolean;
  /** Readable lines, empty when ok. */
  problems: string[];
}

type LineEdit = { kind: 'missing' | 'extra'; line: string };

/**
 * The lines to remove from `expected` and add to get `got`, in order: a longest common
 * subsequence after trimming the common head and tail, so a comment that moved, or one of two
 * identical comments that vanished, is a difference (a set comparison saw neither). Too large a
 * middle for the table falls back to counting each line (order then no longer matters).
 */
export function diffLines(expected: readonly string[], got: readonly string[]): LineEdit[] {
  const aligned = alignByLcs(expected, got, 4_000_000);
  if (aligned !== null) return aligned.map((st) => (st.kind === 'removed' ? { kind: 'missing', line: expected[st.index]! } : { kind: 'extra', line: got[st.index]! }));
  const edits: LineEdit[] = [];
  const count = new Map<string, number>();
  for (const l of got) count.set(l, (count.get(l) ?? 0) + 1);
  for (const l of expected) {
    const n = count.get(l) ?? 0;
    if (n > 0) count.set(l, n - 1);
    else edits.push({ kind: 'missing', line: l });
  }
  for (const l of [...got].reverse()) {
    const n = count.get(l) ?? 0;
    if (n > 0) {
      count.set(l, n - 1);
      edits.push({ kind: 'extra', line: l });
    }
  }
  return edits;
}

/** "packet<TAB>comment" lines differing, in order, each marked expected (missing) or got (extra). */
function annotationDiff(expected: string[], got: string[], limit = 40): string[] {
  const edits = diffLines(expected, got);
  if (edits.length === 0) return [];
  const out = [`  annotation comments differ (${edits.filter((e) => e.kind === 'missing').length} expected line(s) not produced, ${edits.filter((e) => e.kind === 'extra').length} new):`];
  for (const e of edits.slice(0, limit)) out.push(`    ${e.kind === 'missing' ? 'expected' : 'got     '} packet ${e.line.replace('\t', ': ')}`);
  if (edits.length > limit) out.push(`    … ${edits.length - limit} more`);
  return out;
}

/** "N records" as written in a .sha256 expectation's text, or that the count is not recorded. */
function recordCount(text: string | null): string {
  const m = /\b(\d+) records\b/.exec(text ?? '');
  return m ? `${m[1]} records` : 'records not counted';
}

function flatten(o: unknown, prefix = ''): Map<string, string> {
  const m = new Map<string, string>();
  if (typeof o === 'object' && o !== null && !Array.isArray(o)) {
    for (const [k, v] of Object.entries(o)) for (const [kk, vv] of flatten(v, prefix ? `${prefix}.${k}` : k)) m.set(kk, vv);
  } else m.set(prefix, JSON.stringify(o));
  return m;
}

/**
 * `accepting`: the run is about to become the expectations (--update), so the differences are
 * worded for review and missing files are not reported (they are being created).
 */
export function compareCase(exp: Expectations, run: CaseRun, dir = 'DIR', file: string = FILES.verdicts, accepting = false): CaseResult {
  const problems: string[] = [];
  const missing = missingExpectations(exp);
  if (missing.length === Object.keys(exp).length) {
    if (!accepting) problems.push(`  no expectations yet: ${updateHint(dir, 'them')}`);
    return { ok: false, problems };
  }
  // a deleted expectation must not pass silently: every one of them is part of the case
  if (!accepting) for (const f of missing) problems.push(`  missing expected file ${f}: ${updateHint(dir, 'it')}`);
  let verdictsDiffer = false;
  let annotationsDiffer = false;
  let summaryDiffers = false;
  if (exp.verdicts !== null) {
    let expected: VerdictRecord[] | null = null;
    try {
      expected = parseVerdicts(exp.verdicts, file);
    } catch (err) {
      problems.push(malformed(file, (err instanceof Error ? err.message : String(err)).replace(`${file}:`, 'line ')));
    }
    if (expected) {
      const diffs = diffVerdicts(expected, run.verdicts);
      verdictsDiffer = diffs.length > 0;
      if (diffs.length > 0) {
        problems.push(`  verdicts: ${diffs.length} difference${diffs.length > 1 ? 's' : ''} (expected ${expected.length} records, got ${run.verdicts.length})`);
        problems.push(...formatDifferences(diffs));
      }
    }
  }
  if (exp.annotations !== null) {
    const lines = annotationDiff(exp.annotations.split('\n').filter(Boolean), run.annotations);
    annotationsDiffer = lines.length > 0;
    problems.push(...lines);
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
      summaryDiffers = keys.length > 0;
      if (keys.length > 0) {
        problems.push('  summary counts differ:');
        for (const k of keys.slice(0, 20)) problems.push(`    ${k}: expected ${a.get(k) ?? '(absent)'}, got ${b.get(k) ?? '(absent)'}`);
      }
    }
  }
  const wantOut = digestOf(exp.out);
  const wantAnn = digestOf(exp.annotated);
  const outDiffers = wantOut !== null && wantOut !== run.outDigest;
  const annDiffers = wantAnn !== null && wantAnn !== run.annotatedDigest;
  if (exp.out !== null && wantOut === null) problems.push(malformed(FILES.out, 'it does not start with a 64-digit hex sha256'));
  if (outDiffers) {
    problems.push(`  output capture: records differ (expected sha256 ${wantOut.slice(0, 16)}…, ${recordCount(exp.out)}; got ${run.outDigest.slice(0, 16)}…, ${run.outRecords} records)`);
    if (!verdictsDiffer && !summaryDiffers) {
      problems.push('    the verdicts and counts match: the bytes written differ (an edit\'s bytes, a checksum, a sequence number or a timestamp), or the capture was edited');
    }
    problems.push(...explainRecords(recordLinesOf(exp.out), run.outRecordLines ?? [], 'OUT', run.outRecords));
  }
  if (exp.annotated !== null && wantAnn === null) problems.push(malformed(FILES.annotated, 'it does not start with a 64-digit hex sha256'));
  if (annDiffers) {
    problems.push(`  annotated pcapng: records differ (expected sha256 ${wantAnn.slice(0, 16)}…, ${recordCount(exp.annotated)}; got ${run.annotatedDigest.slice(0, 16)}…, ${run.annotatedRecords} records)`);
    if (annotationsDiffer) problems.push('    (the annotation comments listed above)');
    else {
      // it holds the packets as forwarded (dropped ones as they arrived) with their comments
      if (exp.annotations !== null) {
        problems.push(
          `    the comments match ${FILES.annotations}: the packets differ (as forwarded, like OUT, or as read: the capture was replaced or edited since the expectations were made; or a comment differs only in a tab or line break)`,
        );
      }
      problems.push(...explainRecords(recordLinesOf(exp.annotated), run.annotatedRecordLines ?? [], 'the annotated pcapng', run.annotatedRecords));
    }
  }
  return { ok: problems.length === 0, problems };
}
