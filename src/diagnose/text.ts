/** The plain-text diagnose report for a terminal: per session what happens, where, what each side sees, and the fix. */
import type { DiagnoseReport, FixProposal } from './model.js';

function verifiedWord(f: FixProposal): string {
  return f.verified === true ? 'VERIFIED' : f.verified === false ? 'NOT VERIFIED' : 'not verifiable';
}

export function renderText(r: DiagnoseReport): string {
  const out: string[] = [];
  out.push(`smtp-inspect diagnose: ${r.input} (policy ${r.policy})`);
  out.push(`${r.counts.sessions} SMTP session(s); ${r.counts.affected} changed by inspection, ${r.counts.broken} broken (connection dropped, reset, refused or stalled).`);
  if (r.counts.uncertain > 0) {
    const ids = r.sessions.filter((s) => s.uncertain).map((s) => s.id);
    out.push(`Findings uncertain in ${r.counts.uncertain} session(s) (${ids.join(', ')}): gaps in the capture, a dialogue the ASA would not allow, or a capture that ends too early; see each session's caveats.`);
  }
  if (r.firewallDetected) {
    out.push('');
    out.push('An ESMTP-inspecting firewall is already in the path of this capture. Evidence:');
  } else if (r.evidence.length > 0) {
    out.push('');
    out.push('Weak signs of a firewall in the path (not conclusive):');
  }
  for (const e of r.evidence) {
    out.push(`  packet ${e.packet}${e.related.length ? ` (+${e.related.join(', ')})` : ''}  session ${e.session}: ${e.shows}  [${e.rule}]`);
  }
  for (const s of r.sessions) {
    out.push('');
    out.push(`Session ${s.id}: ${s.client} -> ${s.server}${s.inspected ? '' : '  (not selected for ESMTP inspection)'}${s.uncertain ? '  (findings uncertain)' : ''}`);
    if (s.timeRange) out.push(`  ${s.timeRange}`);
    for (const c of s.caveats) out.push(`  caveat, packet ${c.packet}: ${c.text}`);
    if (s.findings.length === 0) {
      out.push(s.uncertain ? '  nothing found in what the capture shows (see the caveats).' : '  nothing: inspection leaves this session alone.');
      continue;
    }
    for (const f of s.findings) {
      out.push(`  packet ${f.packet}: ${f.rule} -> ${f.action} [${f.severity}${f.source === 'capture' ? ', already done by a firewall in the path' : ''}]${f.detail ? `  (${f.detail})` : ''}`);
      out.push(`    ${f.symptom.summary}`);
      for (const c of f.symptom.client) out.push(`    client: ${c}`);
      for (const c of f.symptom.server) out.push(`    server: ${c}`);
      if (f.uncertain) out.push(`    uncertain: ${f.uncertain}`);
      if (f.fix) out.push(`    fix: ${f.fix.summary} (${f.fix.id}, ${verifiedWord(f.fix)})`);
    }
  }
  if (r.fixes.length > 0) {
    out.push('');
    out.push('Proposed configuration:');
    const shown = new Set<string>();
    const list = r.recommended ? [r.recommended, ...r.fixes.filter((f) => f !== r.recommended)] : r.fixes;
    for (const f of list) {
      if (shown.has(f.id)) continue;
      shown.add(f.id);
      out.push('');
      out.push(`${f.id}${f === r.recommended ? ' (recommended)' : ''}: ${f.summary}`);
      out.push(`  ${verifiedWord(f)}: ${f.verification}`);
      for (const l of f.config) out.push(`    ${l}`);
    }
  }
  return out.join('\n') + '\n';
}
