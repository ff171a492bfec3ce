/**
 * A regression case is a folder:
 *
 *   capture.pcap | capture.pcapng | capture.pcap[ng].gz   the input (exactly one)
 *   policy.txt                    ASA configuration (optional; default policy without it)
 *   case.json                     optional: {"description", "engineOptions": ["name=value"],
 *                                 "profile": "asa"|"analysis", "checksum": "incremental"|"fix"|"keep"}
 *                                 read strictly (case-config.ts)
 *   expected.verdicts.jsonl       every verdict record, as `replay --verdicts` writes them
 *   expected.out.sha256           digest of OUT's records (timestamps, lengths, bytes)
 *   expected.annotated.sha256     digest of the annotated pcapng's records (with comments)
 *   expected.annotations.tsv      the annotation comments, "packet<TAB>comment" (readable diffs)
 *   expected.summary.json         packet and connection counts of the replay
 *
 * A suite is a folder of case folders, grouped in sub-folders to any depth (case names are the
 * relative paths), or the folder itself if it is a case. Digests are over records, not files, so the writer's volatile file-header options do not
 * matter (see DigestWriter).
 */
import fs from 'node:fs';
import path from 'node:path';
import { SmtpInspectError } from '../errors.js';
import { loadCaseConfig, type CaseConfig } from './case-config.js';

export const CAPTURE_NAMES = ['capture.pcap', 'capture.pcapng', 'capture.pcap.gz', 'capture.pcapng.gz'] as const;
export const FILES = {
  policy: 'policy.txt',
  config: 'case.json',
  verdicts: 'expected.verdicts.jsonl',
  out: 'expected.out.sha256',
  annotated: 'expected.annotated.sha256',
  annotations: 'expected.annotations.tsv',
  summary: 'expected.summary.json',
} as const;

export type { CaseConfig } from './case-config.js';

export interface RegressCase {
  name: string;
  dir: string;
  capture: string;
  policy: string | null;
  config: CaseConfig;
}

/**
 * A case folder found by discovery. `problem` says why it cannot run (no capture, two captures,
 * nested inside another case); such a case is reported as an ERROR, never skipped.
 */
export interface CaseEntry {
  name: string;
  dir: string;
  problem: string | null;
}

const CAPTURE_LIST = 'capture.pcap, capture.pcapng, capture.pcap.gz or capture.pcapng.gz';

function listFiles(dir: string): fs.Dirent[] {
  return fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function capturesIn(names: readonly string[]): string[] {
  return CAPTURE_NAMES.filter((n) => names.includes(n));
}

/** A file that shows the folder is meant as a case: expectations, case files, or a misnamed capture. */
function marksCase(name: string): boolean {
  return name.startsWith('expected.') || name === FILES.policy || name === FILES.config || /^capture\b/i.test(name);
}

/** Files that may be the capture under a wrong name, for the error hint. */
function captureLookalikes(names: readonly string[]): string[] {
  return names.filter((n) => !(CAPTURE_NAMES as readonly string[]).includes(n) && (/^capture\b/i.test(n) || /\.(pcap|pcapng|cap|dmp|erf)(\.gz)?$/i.test(n)));
}

const KNOWN_CASE_FILES: ReadonlySet<string> = new Set([...Object.values(FILES), ...CAPTURE_NAMES]);

/**
 * Case files under a name the runner does not read: a `policy.cfg` would leave the case on the
 * default policy, an `expected.verdict.jsonl` unchecked. Other files (notes, READMEs) are fine.
 */
function misnamedCaseFiles(names: readonly string[]): string[] {
  return names.filter((n) => !KNOWN_CASE_FILES.has(n) && (/^policy\b/i.test(n) || /^expected\./i.test(n) || /^case\b.*\.json$/i.test(n)));
}

function caseProblem(names: readonly string[]): string | null {
  const caps = capturesIn(names);
  if (caps.length > 1) return `has ${caps.length} captures: ${caps.join(', ')} (keep one)`;
  const misnamed = misnamedCaseFiles(names);
  if (misnamed.length > 0) {
    return `has ${misnamed.join(', ')}, which the runner does not read (case files: ${FILES.policy}, ${FILES.config}, ${Object.values(FILES).filter((f) => f.startsWith('expected.')).join(', ')})`;
  }
  if (caps.length === 1) return null;
  const like = captureLookalikes(names);
  return `has ${names.some((n) => n.startsWith('expected.')) ? 'expectations' : 'case files'} but no capture (${CAPTURE_LIST})${like.length ? ` (found ${like.join(', ')}?)` : ''}`;
}

/**
 * Loads a case for running. Throws SmtpInspectError (file, line:column, key path) when it cannot
 * run: a discovery problem, or a bad case.json.
 */
export function loadCase(entry: CaseEntry): RegressCase {
  if (entry.problem) throw new SmtpInspectError('E_USAGE', entry.problem, { file: entry.dir });
  const capture = CAPTURE_NAMES.map((n) => path.join(entry.dir, n)).find((p) => fs.existsSync(p));
  if (!capture) throw new SmtpInspectError('E_USAGE', `no capture (${CAPTURE_LIST}) in case folder`, { file: entry.dir });
  const policy = path.join(entry.dir, FILES.policy);
  const config = path.join(entry.dir, FILES.config);
  return {
    name: entry.name,
    dir: entry.dir,
    capture,
    policy: fs.existsSync(policy) ? policy : null,
    config: fs.existsSync(config) ? loadCaseConfig(config) : {},
  };
}

/**
 * The cases of a suite folder, in path order. A folder holding a capture (or expectations, a
 * case.json, a policy.txt, a capture-like file) is a case; any other folder is a group and is
 * searched recursively (folders starting with "." are not), so cases may be grouped
 * (`suite/group/case`, named `group/case`). A case folder is not searched further: a case
 * folder inside it is reported as a case that cannot run. Throws only when DIR itself is unusable
 * or holds no case at all.
 */
export function discoverCases(root: string): CaseEntry[] {
  let st: fs.Stats;
  try {
    st = fs.statSync(root);
  } catch {
    throw new SmtpInspectError('E_USAGE', 'suite folder not found', { file: root });
  }
  if (!st.isDirectory()) throw new SmtpInspectError('E_USAGE', 'not a folder', { file: root });
  const entries: CaseEntry[] = [];
  const walk = (dir: string, rel: string): void => {
    const items = listFiles(dir);
    const files = items.filter((d) => !d.isDirectory()).map((d) => d.name);
    const subdirs = items.filter((d) => d.isDirectory() && !d.name.startsWith('.'));
    const name = rel === '' ? path.basename(path.resolve(dir)) : rel;
    if (files.some(marksCase)) {
      entries.push({ name, dir, problem: caseProblem(files) });
      for (const d of subdirs) {
        const sub = path.join(dir, d.name);
        const subFiles = fs.readdirSync(sub);
        if (subFiles.some(marksCase)) {
          entries.push({ name: `${name}/${d.name}`, dir: sub, problem: `is inside case folder ${name}: a case folder cannot hold other cases (move it next to ${name}, or into a group folder without a capture)` });
        }
      }
      return;
    }
    for (const d of subdirs) walk(path.join(dir, d.name), rel === '' ? d.name : `${rel}/${d.name}`);
  };
  walk(root, '');
  if (entries.length === 0) throw new SmtpInspectError('E_USAGE', `no case folders (each needs one of ${CAPTURE_LIST})`, { file: root });
  return entries;
}

export interface Expectations {
  verdicts: string | null;
  out: string | null;
  annotated: string | null;
  annotations: string | null;
  summary: string | null;
}

function readOrNull(f: string): string | null {
  return fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : null;
}

export function readExpectations(c: RegressCase): Expectations {
  return {
    verdicts: readOrNull(path.join(c.dir, FILES.verdicts)),
    out: readOrNull(path.join(c.dir, FILES.out)),
    annotated: readOrNull(path.join(c.dir, FILES.annotated)),
    annotations: readOrNull(path.join(c.dir, FILES.annotations)),
    summary: readOrNull(path.join(c.dir, FILES.summary)),
  };
}

export function writeExpectations(c: RegressCase, e: { [K in keyof Expectations]: string }): void {
  fs.writeFileSync(path.join(c.dir, FILES.verdicts), e.verdicts);
  fs.writeFileSync(path.join(c.dir, FILES.out), e.out);
  fs.writeFileSync(path.join(c.dir, FILES.annotated), e.annotated);
  fs.writeFileSync(path.join(c.dir, FILES.annotations), e.annotations);
  fs.writeFileSync(path.join(c.dir, FILES.summary), e.summary);
}

/** The hex digest at the start of a .sha256 file ("<hex>  <what>"). */
export function digestOf(text: string | null): string | null {
  if (text === null) return null;
  const m = /^([0-9a-f]{64})\b/.exec(text.trim());
  return m ? (m[1] ?? null) : null;
}
