/**
 * A session's caveats (from the replay's notes and from the capture's own transcript) and the
 * uncertainty they put on its findings: a finding at or after a gap, or after the capture leaves
 * the path the ASA allows, is reported with the reason it is uncertain.
 */
import type { VerdictRecord } from '../output/verdicts.js';
import type { Finding } from './model.js';
import { caveatFromNote, noteUse, type Caveat } from './notes.js';
import type { SessionTranscript } from './transcript.js';
import { NO_REPLY_CODE_DETAIL } from '../inspect/esmtp/reply-boundary.js';

/** At most this many caveats per session (a hostile or very lossy capture can have many gap episodes). */
export const MAX_CAVEATS = 20;

export function sessionCaveats(t: SessionTranscript, verdicts: readonly VerdictRecord[], findings: readonly Finding[]): Caveat[] {
  const all: Caveat[] = [];
  // The ASA discarded a fragmented segment: through the ASA the session stalls there. With no hole
  // in the capture itself, the engine's gaps are the discarded bytes, which this caveat explains.
  const discard = findings.find((f) => f.source === 'emulation' && f.category === 'ip-fragment');
  if (discard) {
    all.push({
      packet: discard.packet,
      kind: 'fragment-discard',
      text: `from packet ${discard.packet} on, the capture shows a segment the ASA discards (its IP fragments, see the finding) and what followed it without the ASA: through the ASA that segment never arrives and the session stalls, so findings after it describe this capture, not what happens through the ASA${t.gaps === 0 ? '; inspection in the replay sees the discarded bytes as a gap' : ''}`,
      uncertainFrom: discard.packet + 1,
      source: 'emulation',
    });
  }
  for (const v of verdicts) {
    // unexpected-transition=log reports a server line without a reply code as a finding; the
    // uncertainty it puts on the replies after it is the same as the server-anomaly note's
    if (v.rule === 'unexpected-transition' && v.detail === NO_REPLY_CODE_DETAIL) {
      const c = caveatFromNote({ ...v, rule: 'server-anomaly' });
      if (c) all.push(c);
      continue;
    }
    if (v.action !== 'note' || noteUse(v) === 'ignore') continue;
    if (discard && t.gaps === 0 && v.rule === 'gap') continue;
    const c = caveatFromNote(v);
    if (!c) continue;
    // the pipeline writes the end-of-capture note after the last packet (packet 0): the session's last packet says more
    if (c.kind === 'capture-ended' && c.packet === 0) c.packet = t.lastPacket;
    if (c.kind === 'rst-out-of-window') c.text += rstAftermath(t, c.packet);
    all.push(c);
  }
  // The capture's own view: for sessions our replay did not inspect (no engine notes), and for
  // the transcript behind the firewall evidence.
  if (t.gaps > 0 && !all.some((c) => c.kind === 'gap')) {
    all.push({
      packet: t.firstGapAfter,
      kind: 'capture-gap',
      text: `${t.gapBytes} byte(s) of this session are missing from the capture (${t.gaps} gap(s), the first after packet ${t.firstGapAfter}): commands, replies or message lines in them are not seen, so findings and firewall evidence from there on are uncertain`,
      uncertainFrom: t.firstGapAfter,
      source: 'capture',
    });
  }
  const droppedByEmulation = findings.some((f) => f.source === 'emulation' && f.severity === 'breaks');
  if (t.closeReason === 'end-of-capture' && !droppedByEmulation && !all.some((c) => c.kind === 'capture-ended')) {
    all.push({
      packet: t.lastPacket,
      kind: 'capture-ended',
      text: 'the capture ends while this connection is still open (no FIN or RST seen): the rest of the session is not in the capture, so a rule that would hit later cannot be seen, and a session that looks cut off may simply have outlived the capture',
      uncertainFrom: null,
      source: 'capture',
    });
  }
  all.sort((a, b) => a.packet - b.packet);
  if (all.length <= MAX_CAVEATS) return all;
  // the earliest are kept: they decide from where the findings are uncertain
  const kept = all.slice(0, MAX_CAVEATS);
  const last = all[all.length - 1] as Caveat;
  kept.push({ packet: last.packet, kind: 'other-note', text: `${all.length - MAX_CAVEATS} more caveat(s) up to packet ${last.packet} not listed`, uncertainFrom: null, source: last.source });
  return kept;
}

/** What the capture shows after an ignored RST: the session going on (the receiver ignored it too) or not. */
function rstAftermath(t: SessionTranscript, packet: number): string {
  const later = t.entries.find((e) => e.packet > packet);
  return later
    ? `. Here the session goes on after it (packet ${later.packet}), so the receiver ignored it too`
    : `. Here nothing of the session's dialogue follows it: the receiver may have honoured it (then the session ended at this RST whatever the ASA did), or the dialogue was over`;
}

function reasonFor(c: Caveat): string {
  switch (c.kind) {
    case 'gap':
    case 'capture-gap':
      return `at or after a gap in the capture (packet ${c.packet}): bytes near it were not inspected`;
    case 'starttls-divergence':
    case 'x-divergence':
      return `after packet ${c.packet}, where this capture leaves the path the ASA allows (${c.kind})`;
    case 'pipelining-limit':
      return `after packet ${c.packet}, where inspection lost track of pending commands`;
    case 'server-anomaly':
      return c.reason ?? `after an unusual server reply (packet ${c.packet})`;
    case 'capture-ended':
      return 'the capture ends with this connection open: it may have gone on normally after the capture stopped';
    case 'fragment-discard':
      return `after packet ${c.packet}, where the ASA discards the session's IP fragments: through the ASA the session stalls there, so what follows in the capture does not happen`;
    case 'rst-out-of-window':
    case 'other-note':
      return c.text;
  }
}

/** Sets each finding's `uncertain` from the earliest caveat that covers it. */
export function markUncertain(findings: Finding[], caveats: readonly Caveat[]): void {
  const ended = caveats.find((c) => c.kind === 'capture-ended');
  for (const f of findings) {
    let best: Caveat | null = null;
    for (const c of caveats) {
      if (c.uncertainFrom === null || f.packet < c.uncertainFrom) continue;
      if (best === null || c.packet < best.packet) best = c;
    }
    // A connection that "died" in a capture that simply stopped is weaker evidence.
    if (!best && ended && f.source === 'capture' && (f.action === 'drop-connection' || f.action === 'reset')) best = ended;
    f.uncertain = best ? reasonFor(best) : null;
  }
}

/** The session's findings, or their absence, are uncertain. */
export function isUncertain(caveats: readonly Caveat[]): boolean {
  return caveats.some((c) => c.uncertainFrom !== null || c.kind === 'capture-ended');
}
