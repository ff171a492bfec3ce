/**
 * Compares expected and actual verdict records and words the differences for a person: which
 * packet, which rule, what was expected and what came out. Records are aligned by a longest
 * common subsequence over their canonical (masked) lines, so one missing verdict shows as one
 * difference instead of shifting everything after it.
 */
import { alignByLcs, differingMiddle } from './align.js';
import type { VerdictRecord } from '../output/verdicts.js';

export interface VerdictDifference {
  packet: number;
  expected: VerdictRecord | null;
  got: VerdictRecord | null;
}

/** Fields that change from run to run or machine to machine are replaced before comparing. */
export interface MaskOptions {
  /** Absolute paths (case folder, temp dirs) replaced by `<path>`. */
  paths: string[];
}

export function maskText(s: string, m: MaskOptions): string {
  let out = s;
  for (const p of m.paths) if (p) out = out.split(p).join('<path>');
  // version strings of our own tool
  return out.replace(/smtp-inspect[ /]v?\d+\.\d+\.\d+\S*/g, 'smtp-inspect <version>');
}

export function maskRecord(r: VerdictRecord, m: MaskOptions): VerdictRecord {
  return {
    time: r.time,
    packet: r.packet,
    client: r.client,
    server: r.server,
    direction: r.direction,
    rule: maskText(r.rule, m),
    action: r.action,
    syslog: r.syslog === null ? null : maskText(r.syslog, m),
    detail: maskText(r.detail, m),
  };
}

export function canonical(r: VerdictRecord): string {
  return JSON.stringify([r.time, r.packet, r.client, r.server, r.direction, r.rule, r.action, r.syslog, r.detail]);
}

/** Aligns two lists; returns the differences in packet order. */
export function diffVerdicts(expected: readonly VerdictRecord[], got: readonly VerdictRecord[]): VerdictDifference[] {
  const a = expected.map(canonical);
  const b = got.map(canonical);
  const removed: number[] = [];
  const added: number[] = [];
  const aligned = alignByLcs(a, b, 16_000_000);
  if (aligned !== null) for (const st of aligned) (st.kind === 'removed' ? removed : added).push(st.index);
  else {
    // too large for a table: compare the differing middles position by position
    const { lo, ea, eb } = differingMiddle(a, b);
    for (let k = lo; k < Math.max(ea, eb); k++) {
      if (k < ea && k < eb && a[k] === b[k]) continue;
      if (k < ea) removed.push(k);
      if (k < eb) added.push(k);
    }
  }
  // pair a removed and an added record of the same packet and rule (or packet) as one change.
  // The added records are indexed by packet: scanning all of them for each removed one was
  // quadratic (a case of 80,000 verdicts whose packet numbers all moved by one: 28 s).
  const diffs: VerdictDifference[] = [];
  const paired = new Set<number>();
  const addedByPacket = new Map<number, number[]>();
  for (const ai of added) {
    const p = (got[ai] as VerdictRecord).packet;
    const list = addedByPacket.get(p);
    if (list === undefined) addedByPacket.set(p, [ai]);
    else list.push(ai);
  }
  for (const ri of removed) {
    const e = expected[ri] as VerdictRecord;
    // the most alike record of the same packet: same rule first, then same action, then direction.
    // A rule whose text changed (gt 998 -> gt 500) pairs only when it does the same thing in the
    // same direction; anything else on the packet is a separate verdict, not this one changed.
    let match = -1;
    let best = 0;
    for (const ai of addedByPacket.get(e.packet) ?? []) {
      if (paired.has(ai)) continue;
      const g = got[ai] as VerdictRecord;
      const sameRule = g.rule === e.rule;
      const sameAction = g.action === e.action;
      const sameDir = g.direction === e.direction;
      if (!sameRule && !(sameAction && sameDir)) continue;
      const score = (sameRule ? 4 : 0) + (sameAction ? 2 : 0) + (sameDir ? 1 : 0);
      if (score > best) {
        best = score;
        match = ai;
      }
    }
    if (match >= 0) paired.add(match);
    diffs.push({ packet: e.packet, expected: e, got: match >= 0 ? (got[match] as VerdictRecord) : null });
  }
  for (const ai of added) {
    if (paired.has(ai)) continue;
    const g = got[ai] as VerdictRecord;
    diffs.push({ packet: g.packet, expected: null, got: g });
  }
  diffs.sort((x, y) => x.packet - y.packet);
  return diffs;
}

function describe(r: VerdictRecord | null): string {
  if (!r) return '(no verdict)';
  let s = `${r.rule || '-'} -> ${r.action}`;
  if (r.detail) s += `  "${r.detail}"`;
  return s;
}

/** Which fields differ between two records (for a changed record). */
function changedFields(e: VerdictRecord, g: VerdictRecord): string[] {
  const keys: Array<keyof VerdictRecord> = ['time', 'client', 'server', 'direction', 'rule', 'action', 'syslog', 'detail'];
  return keys.filter((k) => e[k] !== g[k]);
}

export function formatDifferences(diffs: readonly VerdictDifference[], limit = 40): string[] {
  const lines: string[] = [];
  let shown = 0;
  for (let i = 0; i < diffs.length && shown < limit; shown++) {
    const d = diffs[i] as VerdictDifference;
    // a run of differences that read the same on consecutive packets (the dropped tail of a
    // connection) is printed once, as a packet range
    let j = i + 1;
    const key = `${describe(d.expected)}|${describe(d.got)}`;
    while (j < diffs.length) {
      const n = diffs[j] as VerdictDifference;
      const prev = diffs[j - 1] as VerdictDifference;
      if (`${describe(n.expected)}|${describe(n.got)}` !== key || n.packet > prev.packet + 1) break;
      j++;
    }
    const ref = d.expected ?? d.got;
    const last = diffs[j - 1] as VerdictDifference;
    const where = j - i > 1 ? `packets ${d.packet}-${last.packet} (${j - i} records)` : `packet ${d.packet}${ref?.direction ? ` ${ref.direction}` : ''}`;
    lines.push(`  ${where} (${ref?.client ?? '?'} -> ${ref?.server ?? '?'}):`);
    lines.push(`    expected: ${describe(d.expected)}`);
    lines.push(`    got:      ${describe(d.got)}`);
    if (d.expected && d.got) {
      const f = changedFields(d.expected, d.got);
      lines.push(`    differs in: ${f.join(', ')}`);
      if (f.includes('syslog')) {
        lines.push(`      expected syslog: ${(d.expected.syslog ?? 'null').replace(/\n/g, '\n        ')}`);
        lines.push(`      got syslog:      ${(d.got.syslog ?? 'null').replace(/\n/g, '\n        ')}`);
      }
      if (f.includes('time')) lines.push(`      time: expected ${d.expected.time}, got ${d.got.time}`);
    }
    i = j;
    if (shown + 1 >= limit && i < diffs.length) lines.push(`  … and ${diffs.length - i} more differences`);
  }
  return lines;
}

/** Parses a verdicts JSONL text; throws with the line number on a bad line. */
export function parseVerdicts(text: string, file: string): VerdictRecord[] {
  const out: VerdictRecord[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.trim() === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (err) {
      throw new Error(`${file}:${i + 1}: not JSON: ${(err as Error).message}`);
    }
    if (!isVerdict(v)) throw new Error(`${file}:${i + 1}: not a verdict record`);
    out.push(v);
  }
  return out;
}

function isVerdict(v: unknown): v is VerdictRecord {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o.packet === 'number' && typeof o.rule === 'string' && typeof o.action === 'string' && typeof o.time === 'string';
}
