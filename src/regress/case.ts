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

/** What a folder entry is, symbolic links followed (a link to a folder is a folder). */
type EntryKind = 'file' | 'dir' | 'broken' | 'other';

interface FolderEntry {
  name: string;
  kind: EntryKind;
  link: boolean;
}

function entryKind(dir: string, d: fs.Dirent): EntryKind {
  if (d.isDirectory()) return 'dir';
  if (d.isFile()) return 'file';
  if (!d.isSymbolicLink()) return 'other';
  try {
    const st = fs.statSync(path.join(dir, d.name));
    return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
  } catch {
    return 'broken'; // dangling, or a loop of links (ELOOP)
  }
}

function listFolder(dir: string): FolderEntry[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .map((d) => ({ name: d.name, kind: entryKind(dir, d), link: d.isSymbolicLink() }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
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

/** A capture by its file name (an extension tcpdump, Wireshark or editcap would write). */
const CAPTURE_FILE = /\.(pcap|pcapng|cap)(\.gz)?$/i;

/** The case-file name for a capture named `name`: capture.pcapng for a pcapng, else capture.pcap (gzip kept). */
function captureNameFor(name: string): string {
  const m = CAPTURE_FILE.exec(name);
  const ext = m?.[1]?.toLowerCase() === 'pcapng' ? 'pcapng' : 'pcap';
  return `capture.${ext}${m?.[2] ? '.gz' : ''}`;
}

const KNOWN_CASE_FILES: ReadonlySet<string> = new Set([...Object.values(FILES), ...CAPTURE_NAMES]);

/**
 * Case files under a name the runner does not read: a `policy.cfg` would leave the case on the
 * default policy, an `expected.verdict.jsonl` unchecked. Other files (notes, READMEs) are fine.
 */
function misnamedCaseFiles(names: readonly string[]): string[] {
  return names.filter((n) => !KNOWN_CASE_FILES.has(n) && (/^policy\b/i.test(n) || /^expected\./i.test(n) || /^case\b.*\.json$/i.test(n)));
}

/** Case files the runner would read that are folders, dangling links, devices. */
function caseFileKindProblems(entries: readonly FolderEntry[]): string[] {
  return entries
    .filter((e) => KNOWN_CASE_FILES.has(e.name) && e.kind !== 'file')
    .map((e) => (e.kind === 'broken' ? `${e.name} is a broken symbolic link` : `${e.name} is not a file${e.kind === 'dir' ? ' (it is a folder)' : ''}`));
}

function caseProblem(entries: readonly FolderEntry[], names: readonly string[]): string | null {
  const kinds = caseFileKindProblems(entries);
  if (kinds.length > 0) return kinds.join('; ');
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

/** A folder to search: where it is, its case name, and the case folder it lies in (if any). */
interface Pending {
  dir: string;
  rel: string;
  insideCase: string | null;
}

/** Path order, segment by segment (`g/x` before `g-y`), as a depth-first walk lists them. */
function comparePaths(a: string, b: string): number {
  const x = a.split('/');
  const y = b.split('/');
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const p = x[i]!;
    const q = y[i]!;
    if (p !== q) return p < q ? -1 : 1;
  }
  return x.length - y.length;
}

function linkTarget(p: string): string {
  try {
    return fs.readlinkSync(p);
  } catch {
    return '?';
  }
}

/**
 * The cases of a suite folder, in path order. A folder holding a capture (or expectations, a
 * case.json, a policy.txt, a capture-like file) is a case; any other folder is a group and is
 * searched recursively (folders starting with "." are not), so cases may be grouped
 * (`suite/group/case`, named `group/case`). Symbolic links to folders are followed and named by
 * the path as found; a folder reached a second time (through a link, or a link loop) is an ERROR
 * entry naming where it already is, and is not searched again. Real folders are searched before
 * linked ones, so a link never takes a case's name from its real folder. The whole subtree of a
 * case folder is searched too: every case folder inside it is an ERROR entry. A broken symbolic
 * link in a group folder is an ERROR entry. Throws only when DIR itself is unusable or holds no
 * case at all.
 */
export function discoverCases(root: string): CaseEntry[] {
  let st: fs.Stats;
  try {
    st = fs.statSync(root);
  } catch {
    throw new SmtpInspectError('E_USAGE', 'suite folder not found', { file: root });
  }
  if (!st.isDirectory()) {
    // a capture given by mistake: say what regress takes, and which folder would run it
    const parent = path.dirname(root);
    const inCase = (CAPTURE_NAMES as readonly string[]).includes(path.basename(root));
    const hint = inCase ? `; to run the case holding this capture: smtp-inspect regress ${parent}` : '; to replay a capture: smtp-inspect replay';
    throw new SmtpInspectError('E_USAGE', `not a folder: regress takes a suite folder or a case folder${hint}`, { file: root });
  }
  const entries: CaseEntry[] = [];
  const rootName = path.basename(path.resolve(root));
  /** realpath of every folder searched -> the name it is known by in the suite. */
  const seen = new Map<string, string>();
  const linked: Pending[] = [];
  const walk = ({ dir, rel, insideCase }: Pending): void => {
    const name = rel === '' ? rootName : rel;
    let items: FolderEntry[];
    try {
      seen.set(fs.realpathSync(dir), rel === '' ? `${rootName} (the suite folder)` : rel);
      items = listFolder(dir);
    } catch (err) {
      entries.push({ name, dir, problem: `cannot read this folder (${(err as NodeJS.ErrnoException).code ?? String(err)})` });
      return;
    }
    // a known case-file name is a case file whatever it is (a folder there is an error, not a group)
    const fileItems = items.filter((e) => e.kind !== 'dir' || KNOWN_CASE_FILES.has(e.name));
    const files = fileItems.map((e) => e.name);
    const subdirs = items.filter((e) => e.kind === 'dir' && !KNOWN_CASE_FILES.has(e.name) && !e.name.startsWith('.'));
    const child = (e: FolderEntry): string => (rel === '' ? e.name : `${rel}/${e.name}`);
    let inside = insideCase;
    if (files.some(marksCase)) {
      if (insideCase === null) {
        entries.push({ name, dir, problem: caseProblem(fileItems, files) });
        inside = name;
      } else {
        entries.push({ name, dir, problem: `is inside case folder ${insideCase}: a case folder cannot hold other cases (move it next to ${insideCase}, or into a group folder without a capture)` });
      }
    } else if (insideCase === null) {
      // in a group, a dangling link may well have been meant as a case: say so
      for (const e of items.filter((x) => x.kind === 'broken' && !x.name.startsWith('.'))) {
        const p = path.join(dir, e.name);
        entries.push({ name: child(e), dir: p, problem: `is a broken symbolic link (to ${linkTarget(p)})` });
      }
      // a capture dropped into a folder of its own (or next to the cases) was meant as a case:
      // never skip it silently
      for (const e of items.filter((x) => x.kind === 'file' && !x.name.startsWith('.') && CAPTURE_FILE.test(x.name))) {
        const case_ = rel === '' ? e.name.replace(CAPTURE_FILE, '') : rel;
        const where = rel === '' ? `a case folder: mkdir ${case_} and move it there as ` : 'a case folder: rename it ';
        entries.push({
          name: child(e),
          dir: path.join(dir, e.name),
          problem: `is a capture outside ${where}${captureNameFor(e.name)} (a folder holding no capture.* file is a group, so this capture would not run)`,
        });
      }
    }
    for (const e of subdirs) {
      const next = { dir: path.join(dir, e.name), rel: child(e), insideCase: inside };
      if (e.link) linked.push(next);
      else walk(next);
    }
  };
  walk({ dir: root, rel: '', insideCase: null });
  // linked folders after every real one, so a duplicate is the link, not the real folder
  for (let next = linked.shift(); next; next = linked.shift()) {
    let real: string;
    let parentReal: string;
    try {
      real = fs.realpathSync(next.dir);
      parentReal = fs.realpathSync(path.dirname(next.dir));
    } catch (err) {
      entries.push({ name: next.rel, dir: next.dir, problem: `cannot follow this symbolic link (${(err as NodeJS.ErrnoException).code ?? String(err)})` });
      continue;
    }
    const target = linkTarget(next.dir);
    if (parentReal === real || parentReal.startsWith(real + path.sep)) {
      entries.push({ name: next.rel, dir: next.dir, problem: `symbolic link loop: links to ${target}, a folder that contains it` });
      continue;
    }
    const known = seen.get(real);
    if (known !== undefined) {
      entries.push({ name: next.rel, dir: next.dir, problem: `is a symbolic link to ${target}, a folder already part of the suite as ${known}` });
      continue;
    }
    walk(next);
  }
  entries.sort((a, b) => comparePaths(a.name, b.name));
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

/**
 * An expectation file's text with CR LF read as LF: a checkout with git's core.autocrlf (Windows)
 * or an editor saving CR LF must not turn every annotation line into a difference that prints
 * identical to what it is compared with.
 */
function readOrNull(f: string): string | null {
  if (!fs.existsSync(f)) return null;
  try {
    return fs.readFileSync(f, 'utf8').replace(/\r\n/g, '\n');
  } catch (err) {
    throw new SmtpInspectError('E_USAGE', `cannot read expectation file (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { file: f });
  }
}

/**
 * Whether `file` holds `text` as UTF-8, bytes compared, its line ends as LF or (a CR LF checkout)
 * all as CR LF: such a file is not rewritten, so git sees no change either way.
 */
function sameBytes(file: string, text: string): boolean {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch {
    return false;
  }
  return bytes.equals(Buffer.from(text, 'utf8')) || bytes.equals(Buffer.from(text.replace(/\n/g, '\r\n'), 'utf8'));
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

/**
 * Writes the expectation files whose text differs from what is on disk and returns their names
 * (in FILES order). A file that already holds exactly this text is not touched, so `--update`
 * leaves unchanged cases byte-identical and with their timestamps (a CI diff or `make` sees no
 * change), and can say which files it rewrote. A file that cannot be written is an E_OUTPUT
 * error naming it (and the files written before it).
 */
export function writeExpectations(c: RegressCase, e: { [K in keyof Expectations]: string }): string[] {
  const written: string[] = [];
  for (const k of Object.keys(e) as Array<keyof Expectations>) {
    const file = path.join(c.dir, FILES[k]);
    const text = e[k];
    if (sameBytes(file, text)) continue;
    try {
      fs.writeFileSync(file, text);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      const done = written.length > 0 ? `; already written: ${written.join(', ')}` : '';
      throw new SmtpInspectError('E_OUTPUT', `cannot write expectation file (${code})${done}`, { file });
    }
    written.push(FILES[k]);
  }
  return written;
}

/** The hex digest at the start of a .sha256 file ("<hex>  <what>"). */
export function digestOf(text: string | null): string | null {
  if (text === null) return null;
  const m = /^([0-9a-f]{64})\b/.exec(text.trim());
  return m ? (m[1] ?? null) : null;
}
