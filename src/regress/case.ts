/**
 * A regression case is a folder:
 *
 *   capture.pcap | capture.pcapng | capture.pcap.gz   the input (required)
 *   policy.txt                    ASA configuration (optional; default policy without it)
 *   case.json                     optional: {"description", "engineOptions": ["name=value"],
 *                                 "profile": "asa"|"analysis", "checksum": "incremental"|"fix"|"keep"}
 *   expected.verdicts.jsonl       every verdict record, as `replay --verdicts` writes them
 *   expected.out.sha256           digest of OUT's records (timestamps, lengths, bytes)
 *   expected.annotated.sha256     digest of the annotated pcapng's records (with comments)
 *   expected.annotations.tsv      the annotation comments, "packet<TAB>comment" (readable diffs)
 *   expected.summary.json         packet and connection counts of the replay
 *
 * A suite is a folder of case folders (searched one level deep, or the folder itself if it is a
 * case). Digests are over records, not files, so the writer's volatile file-header options do not
 * matter (see DigestWriter).
 */
import fs from 'node:fs';
import path from 'node:path';
import { SmtpInspectError } from '../errors.js';

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

export interface CaseConfig {
  description?: string;
  engineOptions?: string[];
  profile?: 'asa' | 'analysis';
  checksum?: 'incremental' | 'fix' | 'keep';
}

export interface RegressCase {
  name: string;
  dir: string;
  capture: string;
  policy: string | null;
  config: CaseConfig;
}

function isCase(dir: string): boolean {
  return CAPTURE_NAMES.some((n) => fs.existsSync(path.join(dir, n)));
}

function loadConfig(dir: string): CaseConfig {
  const f = path.join(dir, FILES.config);
  if (!fs.existsSync(f)) return {};
  let v: unknown;
  try {
    v = JSON.parse(fs.readFileSync(f, 'utf8'));
  } catch (err) {
    throw new SmtpInspectError('E_USAGE', `bad case.json: ${(err as Error).message}`, { file: f });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SmtpInspectError('E_USAGE', 'case.json must hold an object', { file: f });
  const o = v as Record<string, unknown>;
  const c: CaseConfig = {};
  if (typeof o.description === 'string') c.description = o.description;
  if (Array.isArray(o.engineOptions)) c.engineOptions = o.engineOptions.map(String);
  if (o.profile === 'asa' || o.profile === 'analysis') c.profile = o.profile;
  if (o.checksum === 'incremental' || o.checksum === 'fix' || o.checksum === 'keep') c.checksum = o.checksum;
  return c;
}

export function loadCase(dir: string): RegressCase {
  const capture = CAPTURE_NAMES.map((n) => path.join(dir, n)).find((p) => fs.existsSync(p));
  if (!capture) throw new SmtpInspectError('E_USAGE', `no capture (${CAPTURE_NAMES.join(', ')}) in case folder`, { file: dir });
  const policy = path.join(dir, FILES.policy);
  return { name: path.basename(dir), dir, capture, policy: fs.existsSync(policy) ? policy : null, config: loadConfig(dir) };
}

/** The cases of a suite folder, sorted by name. */
export function discoverCases(root: string): RegressCase[] {
  let st: fs.Stats;
  try {
    st = fs.statSync(root);
  } catch {
    throw new SmtpInspectError('E_USAGE', 'suite folder not found', { file: root });
  }
  if (!st.isDirectory()) throw new SmtpInspectError('E_USAGE', 'not a folder', { file: root });
  if (isCase(root)) return [loadCase(root)];
  const cases = fs
    .readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && isCase(path.join(root, d.name)))
    .map((d) => loadCase(path.join(root, d.name)))
    .sort((a, b) => a.name.localeCompare(b.name));
  if (cases.length === 0) throw new SmtpInspectError('E_USAGE', 'no case folders (each needs a capture.pcap or capture.pcapng)', { file: root });
  return cases;
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
