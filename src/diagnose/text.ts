/** The plain-text diagnose report for a terminal: per session what happens, where, what each side sees, and the fix. */
import type { DiagnoseReport, FixProposal } from './model.js';

function verifiedWord(f: FixProposal): string {
  return f.verified === true ? 'VERIFIED' : f.verified === false ? 'NOT VERIFIED' : 'not verifiable';
}

export function renderText(r: DiagnoseReport): string {
  return [...textLines(r)].join('\n') + '\n';
}

/** The report's lines, one session at a time: the CLI writes them as they come (the report of a big capture is never one string). */
export function* textLines(r: DiagnoseReport): Generator<string> {
  yield `smtp-inspect diagnose: ${r.input} (policy ${r.policy})`;
  yield `${r.counts.sessions} SMTP session(s); ${r.counts.affected} changed by inspection, ${r.counts.broken} broken (connection dropped, reset, refused or stalled).`;
  if (r.counts.uncertain > 0) {
    const ids = r.sessions.filter((s) => s.uncertain).map((s) => s.id);
    yield `Findings uncertain in ${r.counts.uncertain} session(s) (${ids.join(', ')}): gaps in the capture, a dialogue the ASA would not allow, or a capture that ends too early; see each session's caveats.`;
  }
  if (r.firewallDetected) {
    yield '';
    yield 'An ESMTP-inspecting firewall is already in the path of this capture. Evidence:';
  } else if (r.evidence.length > 0) {
    yield '';
    yield 'Weak signs of a firewall in the path (not conclusive):';
  }
  for (const e of r.evidence) {
    yield `  packet ${e.packet}${e.related.length ? ` (+${e.related.join(', ')})` : ''}  session ${e.session}: ${e.shows}  [${e.rule}]`;
  }
  for (const s of r.sessions) {
    yield '';
    yield `Session ${s.id}: ${s.client} -> ${s.server}${s.inspected ? '' : '  (not selected for ESMTP inspection)'}${s.uncertain ? '  (findings uncertain)' : ''}`;
    if (s.timeRange) yield `  ${s.timeRange}`;
    for (const c of s.caveats) yield `  caveat, packet ${c.packet}: ${c.text}`;
    if (s.findings.length === 0) {
      yield s.uncertain ? '  nothing found in what the capture shows (see the caveats).' : '  nothing: inspection leaves this session alone.';
      continue;
    }
    for (const f of s.findings) {
      yield `  packet ${f.packet}: ${f.rule} -> ${f.action} [${f.severity}${f.source === 'capture' ? ', already done by a firewall in the path' : ''}]${f.detail ? `  (${f.detail})` : ''}`;
      yield `    ${f.symptom.summary}`;
      for (const c of f.symptom.client) yield `    client: ${c}`;
      for (const c of f.symptom.server) yield `    server: ${c}`;
      if (f.uncertain) yield `    uncertain: ${f.uncertain}`;
      if (f.fix) yield `    fix: ${f.fix.summary} (${f.fix.id}, ${verifiedWord(f.fix)})`;
    }
  }
  if (r.servicePolicy.trim() !== '') {
    yield '';
    yield `show service-policy inspect esmtp, as the ASA would count this capture (policy ${r.policy}):`;
    for (const l of r.servicePolicy.trimEnd().split('\n')) yield `  ${l}`;
  }
  if (r.fixes.length > 0) {
    yield '';
    yield 'Proposed configuration:';
    const shown = new Set<string>();
    const list = r.recommended ? [r.recommended, ...r.fixes.filter((f) => f !== r.recommended)] : r.fixes;
    for (const f of list) {
      if (shown.has(f.id)) continue;
      shown.add(f.id);
      yield '';
      yield `${f.id}${f === r.recommended ? ' (recommended)' : ''}: ${f.summary}`;
      yield `  ${verifiedWord(f)}: ${f.verification}`;
      for (const l of f.config) yield `    ${l}`;
      if (f === r.recommended && f.servicePolicy && f.servicePolicy.trim() !== '') {
        yield '  show service-policy inspect esmtp after the fix (this capture replayed with it):';
        for (const l of f.servicePolicy.trimEnd().split('\n')) yield `    ${l}`;
      }
    }
  }
}
