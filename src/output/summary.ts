/** The human summary of a replay: what was inspected, where every packet went, and the ASA counters. */
import { MAX_OTHER_BLOCK_BYTES } from '../capture/limits.js';
import type { ChecksumMode } from '../decode/checksum.js';
import type { ReplaySummary, SkippedBlockNote } from '../pipeline/types.js';

/** One line on an input block passed over unread (stderr warning and summary). */
export function describeSkippedBlock(n: SkippedBlockNote, bufferBound: number): string {
  const where = `${n.decompressed ? 'decompressed ' : ''}byte offset ${n.offset}`;
  const what = `pcapng ${n.typeName} (type 0x${n.type.toString(16).padStart(8, '0')}) at input ${where}, ${n.length} bytes`;
  const why = `larger than the ${bufferBound / (1024 * 1024)} MiB a block is buffered, passed over unread`;
  if (n.leftOutOf.length === 0) return `${what}: ${why}`;
  const hint = n.type === 0x0a ? ' (TLS secrets can be put back with editcap --inject-secrets tls,KEYLOG)' : '';
  return `${what}: ${why} and left out of ${n.leftOutOf.join(' and ')}${hint}`;
}

export interface SummaryPaths {
  input: string;
  out: string | null;
  verdicts: string | null;
  syslog: string | null;
  annotate: string | null;
}

/**
 * Stream bytes the capture never had (what Wireshark flags "previous segment not captured" and Zeek
 * counts as missed_bytes): the inspector could not see them. Snaplen-cut payload is not counted.
 */
export function formatTcpGaps(g: ReplaySummary['gaps']): string {
  const cut = g.cutPackets > 0 ? `; payload cut by the snaplen: ${g.cutBytes} byte(s) in ${g.cutPackets} packet(s) (not inspected)` : '';
  if (g.count === 0) return `TCP gaps: none${cut === '' ? ' (no stream bytes missing from the capture)' : cut}`;
  return `TCP gaps: ${g.count} gap(s), ${g.bytes} byte(s) never captured (not inspected), in ${g.connections} connection(s)${cut}`;
}

export interface SummaryOptions {
  /** Add the TCP gaps line (live prints its own capture-loss line instead). */
  gaps?: boolean;
  /** The --checksum mode: with `keep`, stale checksums on edited packets are what was asked for. */
  checksumMode?: ChecksumMode;
}

export function formatSummary(s: ReplaySummary, paths: SummaryPaths | null = null, interrupted = false, opts: SummaryOptions = {}): string {
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
  if (opts.gaps === true) lines.push(formatTcpGaps(s.gaps));
  if (p.forcedForward > 0) lines.push(`held packets forwarded undecided (hold-back limit or end of input): ${p.forcedForward}`);
  lines.push(`most packets held back at once: ${p.maxHeld}`);
  if (p.checksumBroken > 0) {
    if (opts.checksumMode === 'keep') lines.push(`NOTE: ${p.checksumBroken} edited packet(s) had a valid TCP checksum in the input and carry it unchanged, so no longer matching, in OUT (--checksum keep)`);
    else lines.push(`WARNING: ${p.checksumBroken} packet(s) had a valid TCP checksum in the input and not in OUT`);
  }
  lines.push(`edits: ${s.edits}, verdict records: ${s.verdicts}, syslog lines: ${s.syslogLines}`);
  if (s.interfacesFromConfig !== undefined) lines.push(`NOTE: each connection's ASA interfaces (names, Built inbound/outbound, interface service-policy) taken from the config's interfaces and routes: ${s.interfacesFromConfig}; --client-interface / --server-interface force one pair for every connection`);
  for (const b of s.skippedBlocks ?? []) lines.push(`NOTE: input block skipped: ${describeSkippedBlock(b, MAX_OTHER_BLOCK_BYTES)}`);
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
