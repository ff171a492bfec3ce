/** The human summary of a replay: what was inspected, where every packet went, and the ASA counters. */
import type { ReplaySummary } from '../pipeline/types.js';

export interface SummaryPaths {
  input: string;
  out: string | null;
  verdicts: string | null;
  syslog: string | null;
  annotate: string | null;
}

export function formatSummary(s: ReplaySummary, paths: SummaryPaths | null = null, interrupted = false): string {
  const c = s.connections;
  const p = s.packets;
  const lines: string[] = [];
  if (paths) lines.push(`replay of ${paths.input}${interrupted ? ' (interrupted: outputs hold everything up to the stop)' : ''}`);
  lines.push(
    `connections: ${c.tracked} on inspected ports, ${c.inspected} inspected, ${c.exempted} exempted, ${c.denied} refused by connection limits` +
      ` (${c.dropped} dropped by drop-connection, ${c.reset} reset)`,
  );
  lines.push(`packets in: ${p.in} = ${p.forwarded} forwarded + ${p.dropped} dropped`);
  lines.push(`packets out: ${p.out} = ${p.forwarded} forwarded (${p.modified} modified) + ${p.synthesized} synthesised`);
  if (p.forcedForward > 0) lines.push(`held packets forwarded undecided (hold-back limit or end of input): ${p.forcedForward}`);
  lines.push(`most packets held back at once: ${p.maxHeld}`);
  if (p.checksumBroken > 0) lines.push(`WARNING: ${p.checksumBroken} packet(s) had a valid TCP checksum in the input and not in OUT`);
  lines.push(`edits: ${s.edits}, verdict records: ${s.verdicts}, syslog lines: ${s.syslogLines}`);
  if (paths) {
    if (paths.out) lines.push(`modified capture: ${paths.out}`);
    if (paths.verdicts) lines.push(`verdicts: ${paths.verdicts}`);
    if (paths.syslog) lines.push(`syslog: ${paths.syslog}`);
    if (paths.annotate) lines.push(`annotated capture: ${paths.annotate}`);
  }
  if (s.servicePolicy.trim() !== '') {
    lines.push('', 'show service-policy inspect esmtp', s.servicePolicy.trimEnd());
  }
  return lines.join('\n') + '\n';
}
