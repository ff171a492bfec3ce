/**
 * Why a session was inspected or not, when a `time-range` made the difference: the policy's class
 * decision (src/policy/compile.ts) is taken at the session's first packet, and its reason names
 * each access-list entry skipped because its time-range was not in effect then, and the time-range
 * of the entry that decided, with the ASA's local time. This turns that into one sentence for the
 * admin ("inspected because access-list T line 1 (config line 3)'s time-range NIGHT was not in
 * effect at 02:13 local (2024-01-10): ..."), or null when no time-range took part. "line N" is the
 * entry's 1-based position in the access-list, as the ASA numbers it; the config line finds it in the file.
 */
import type { ClassDecision } from '../policy/types.js';

interface Clause {
  acl: string;
  /** The deciding entry: its position in the list, config line, permit/deny and text; null for the implicit deny. */
  decided: { line: number; configLine: number; permits: boolean; text: string } | null;
  /** The deciding entry's time-range, in effect at the connection's start. */
  inEffect: { range: string; at: string } | null;
  skipped: Array<{ line: number; configLine: number; range: string; at: string }>;
}

// "line N (config line L)": N is the entry's position in the list (the ASA's numbering), L the policy file's line
const DECIDED = /access-list (\S+) line (\d+) \(config line (\d+)\) (permits|denies) it \((.*?)\)(?=;|$)/y;
const IMPLICIT = /no line of access-list (\S+) permits it \(implicit deny\)/y;
const IN_EFFECT = /; time-range (\S+) in effect at the connection's start, (\d\d:\d\d local \(\d{4}-\d\d-\d\d\))/y;
const SKIPPED = /; line (\d+) \(config line (\d+)\) skipped: time-range (\S+) not in effect at the connection's start, (\d\d:\d\d local \(\d{4}-\d\d-\d\d\))/y;

/** The access-list clauses of a decision reason, with their time-range parts. */
export function readClauses(reason: string): Clause[] {
  const out: Clause[] = [];
  for (let i = 0; i < reason.length; i++) {
    DECIDED.lastIndex = i;
    IMPLICIT.lastIndex = i;
    const d = DECIDED.exec(reason);
    const n = d ? null : IMPLICIT.exec(reason);
    if (!d && !n) continue;
    const c: Clause = d
      ? { acl: d[1] ?? '', decided: { line: Number(d[2]), configLine: Number(d[3]), permits: d[4] === 'permits', text: d[5] ?? '' }, inEffect: null, skipped: [] }
      : { acl: n?.[1] ?? '', decided: null, inEffect: null, skipped: [] };
    let at = (d ?? n)?.index ?? i;
    at += (d ?? n)?.[0].length ?? 0;
    IN_EFFECT.lastIndex = at;
    const e = IN_EFFECT.exec(reason);
    if (e) {
      c.inEffect = { range: e[1] ?? '', at: e[2] ?? '' };
      at = IN_EFFECT.lastIndex;
    }
    for (;;) {
      SKIPPED.lastIndex = at;
      const s = SKIPPED.exec(reason);
      if (!s) break;
      c.skipped.push({ line: Number(s[1]), configLine: Number(s[2]), range: s[3] ?? '', at: s[4] ?? '' });
      at = SKIPPED.lastIndex;
    }
    out.push(c);
    i = at - 1;
  }
  return out;
}

function entryName(c: Clause, line: number, configLine: number, text?: string): string {
  return `access-list ${c.acl} line ${line} (config line ${configLine}${text ? `: ${text}` : ''})`;
}

function clauseSentence(c: Clause): string | null {
  const parts: string[] = [];
  for (const s of c.skipped) parts.push(`${entryName(c, s.line, s.configLine)}'s time-range ${s.range} was not in effect at ${s.at}, so that entry was skipped`);
  if (c.decided && c.inEffect) {
    parts.push(`${entryName(c, c.decided.line, c.decided.configLine, c.decided.text)}'s time-range ${c.inEffect.range} was in effect at ${c.inEffect.at}, so that entry ${c.decided.permits ? 'permits' : 'denies'} it`);
  } else if (parts.length > 0) {
    parts.push(c.decided ? `${entryName(c, c.decided.line, c.decided.configLine, c.decided.text)} ${c.decided.permits ? 'permits' : 'denies'} it` : `no other line of access-list ${c.acl} permits it (implicit deny)`);
  }
  return parts.length > 0 ? parts.join('; ') : null;
}

/**
 * "inspected because …" / "not inspected because …" when a time-range took part in the decision
 * (judged at the session's first packet, the ASA's local time), else null.
 */
export function explainTimeRange(d: ClassDecision): string | null {
  const sentences = readClauses(d.reason ?? '').map(clauseSentence).filter((x): x is string => x !== null);
  if (sentences.length === 0) return null;
  const head = d.esmtp ? `inspected (class ${d.className}) because` : 'not inspected (exempt) because';
  return `${head} ${sentences.join('; and ')} (time-ranges are judged once, at the session's first packet)`;
}
