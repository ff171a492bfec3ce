/**
 * What diagnose makes of the `note` verdicts the engine (src/inspect/esmtp/session.ts) and the
 * pipeline (src/pipeline/inspection-pipeline.ts) write. A note is not something inspection does to
 * mail, but several say something the admin must know:
 *
 * | note (rule)                       | use      | why |
 * |-----------------------------------|----------|-----|
 * | `starttls-divergence`             | finding + caveat | the server accepted a STARTTLS the ASA X's: through the ASA the client gets a 5xx, and the TLS that follows in the capture is not inspected |
 * | `x-divergence`                    | finding + caveat | the server answered 2xx/3xx to a command the ASA X's: through the ASA it answers 5xx, so the capture's dialogue after it is not what happens through the ASA |
 * | `gap`                             | caveat   | bytes missing from the capture were not inspected: a rule may hit there unseen, and judgement resumes after a resynchronisation |
 * | `pipelining-limit`                | caveat   | the engine forgot the oldest pending command: replies after it may be paired with the wrong command |
 * | `server-anomaly`                  | caveat   | where a server reply ends was guessed (a line without a reply code ignored, an over-long line without LF cut at its segment's end, a multi-line reply without a final line split at a code change); what the ASA does there is not documented, so replies after it may pair with other commands through the ASA |
 * | `pipelining-after-data`          | caveat   | lines the client sent after DATA before the 354: X'd as commands (as the ASA does), but the server read them as message text |
 * | `tcp-rst-out-of-window`           | caveat   | the capture has a RST whose sequence number is outside the receiver's window: endpoints ignore it (RFC 5961 §3) and so does the ASA, so replay kept inspecting; the capture alone cannot show whether the receiver honoured it (a session that ends there did), and a RST that is neither an endpoint's nor in window was likely injected by a device in the path |
 * | `xexch50-blob`                    | caveat   | the server answered 354 to an XEXCH50 the ASA X's (Exchange): the binary blob after it passed uninspected (through the ASA no blob is sent); the x-divergence finding says the dialogue left the ASA's paths |
 * | `midstream`                       | caveat   | the capture starts mid-session (no handshake): the greeting and the commands before the first complete reply were not seen or judged |
 * | `connection` "still open at the end of the capture" | caveat | the rest of the session is not in the capture: a later hit cannot be seen, a quiet end is not a death |
 * | `connection` built / teardown (302013/302014) | ignored | the ASA's connection log: every inspected session has them, `inspected` already says so, a teardown by inspection repeats the drop finding, a FIN/RST teardown is the endpoints' doing |
 * | `tcp-gap`                         | ignored  | one per hole (unbounded on a lossy capture); the engine's `gap` note reports the same holes per episode with how inspection resynchronised, and for sessions not inspected the transcript's gap count is used |
 * | a `match` line without an action  | ignored  | the ASA neither changes nor logs anything, so mail is unaffected |
 * | any other note                    | caveat   | a note kind this table does not know yet is shown rather than lost; it does not lower confidence |
 *
 * Of the pipeline's `drop` records (one per dropped packet, bookkeeping otherwise), two are the
 * only record of what happened to a session and become a finding (the first per session): a
 * connection refused by a `set connection` limit, and IP fragments the ASA's fragment database
 * discarded (rule `ip fragment reassembly`: over `fragment chain`, `fragment timeout` or
 * `fragment size`). Neither is ESMTP inspection, so exempting the gateway fixes neither.
 */
import type { VerdictRecord } from '../output/verdicts.js';
import { readServerAnomaly } from '../inspect/esmtp/reply-boundary.js';

export type NoteUse = 'finding' | 'caveat' | 'ignore';

type NoteLike = Pick<VerdictRecord, 'rule' | 'action' | 'detail'>;

export const END_OF_CAPTURE_DETAIL = 'still open at the end of the capture';

export function noteUse(v: NoteLike): NoteUse {
  if (v.action !== 'note') return 'ignore';
  switch (v.rule) {
    case 'starttls-divergence':
    case 'x-divergence':
      return 'finding';
    case 'gap':
    case 'pipelining-limit':
    case 'pipelining-after-data':
    case 'server-anomaly':
    case 'midstream':
    case 'tcp-rst-out-of-window':
    case 'xexch50-blob':
      return 'caveat';
    case 'connection':
      return v.detail.startsWith(END_OF_CAPTURE_DETAIL) ? 'caveat' : 'ignore';
    case 'tcp-gap':
      return 'ignore';
    default:
      return v.rule.startsWith('match ') && v.detail.includes('the match line has no action') ? 'ignore' : 'caveat';
  }
}

/** Actions of the pipeline's own bookkeeping (per-packet drop records, synthesised RSTs, ...). */
const BOOKKEEPING: ReadonlySet<string> = new Set(['drop', 'synthesize', 'forward', 'rewrite-retransmission', 'passthrough']);

/**
 * A packet of a connection refused by a class's `set connection` limit (the pipeline writes a
 * `drop` per packet: only the SYNs and their retransmissions of that connection, so few). Unlike
 * the other per-packet drops it is the only record of what happened to the session.
 */
export function isConnectionLimitDrop(v: NoteLike): boolean {
  return v.action === 'drop' && v.rule.startsWith('set connection ');
}

/** The pipeline's rule for fragments its fragment database discarded (src/pipeline/inspection-pipeline.ts). */
export const FRAGMENT_DISCARD_RULE = 'ip fragment reassembly';

/**
 * An IP fragment the ASA's fragment database discarded (over a `fragment` limit; one `drop` per
 * fragment). The datagram never reaches the endpoint, so the session stalls there.
 */
export function isFragmentDiscard(v: NoteLike): boolean {
  return v.action === 'drop' && v.rule === FRAGMENT_DISCARD_RULE;
}

/** A drop by the firewall that is not ESMTP inspection: exempting the gateway from inspection does not lift it. */
export function isFirewallDrop(v: NoteLike): boolean {
  return isConnectionLimitDrop(v) || isFragmentDiscard(v);
}

/** Verdicts diagnose keeps from a replay: what inspection does, and the notes it uses. */
export function keptForDiagnose(v: NoteLike): boolean {
  if (v.action === 'note') return noteUse(v) !== 'ignore';
  return !BOOKKEEPING.has(v.action) || isFirewallDrop(v);
}

/** Verdicts that are the firewall doing something to the session (findings), notes that are findings included. */
export function isInspectionFinding(v: NoteLike): boolean {
  if (v.action === 'note') return noteUse(v) === 'finding';
  return !BOOKKEEPING.has(v.action) || isFirewallDrop(v);
}

export type CaveatKind =
  | 'gap'
  | 'capture-gap'
  | 'starttls-divergence'
  | 'x-divergence'
  | 'capture-ended'
  | 'pipelining-limit'
  | 'server-anomaly'
  | 'rst-out-of-window'
  /** The ASA discarded a fragmented datagram: the capture after it is not what happens through the ASA. */
  | 'fragment-discard'
  | 'other-note';

/** Something that limits what diagnose can say about a session. */
export interface Caveat {
  packet: number;
  kind: CaveatKind;
  /** For the admin: what happened and what it means for the findings. */
  text: string;
  /** Findings of the session at or after this packet are uncertain; null: no finding is made uncertain. */
  uncertainFrom: number | null;
  /** 'emulation': a note of our replay; 'capture': seen in the capture's own transcript. */
  source: 'emulation' | 'capture';
  /** For findings it makes uncertain: why, in a few words (when the kind alone does not say it). */
  reason?: string;
}

/** How the missing bytes were lost, from the engine's gap note, as advice for the next capture. */
function gapCause(detail: string): string {
  const snap = detail.includes('truncated by snaplen');
  const missing = detail.includes('never captured');
  if (snap && missing) return 'cut by the capture\'s snaplen and lost by the capture (capture again with snaplen 0, e.g. tcpdump -s 0, closer to the firewall)';
  if (snap) return 'cut by the capture\'s snaplen (capture again with snaplen 0, e.g. tcpdump -s 0)';
  if (missing) return 'never captured (the capture point dropped packets or saw only one path)';
  return 'missing from the capture';
}

/** The caveat a kept note becomes, or null when it only makes a finding (the divergences make both). */
export function caveatFromNote(v: VerdictRecord): Caveat | null {
  switch (v.rule) {
    case 'gap': {
      // "not inspected: RANGES (N gap(s): WHY); WHAT WAS KEPT; HOW IT RESYNCHRONISED"
      const m = /^not inspected: (.*?) \((\d+) gap\(s\): (\d+) byte\(s\)[^]*?\)\); ([^]*)$/.exec(v.detail);
      const what = m ? `${m[3]} byte(s) in ${m[2]} gap(s) (${m[1]})` : 'bytes';
      return {
        packet: v.packet,
        kind: 'gap',
        text: `${what} ${gapCause(v.detail)} could not be inspected: a rule may have hit in them unseen, and findings from packet ${v.packet} on are uncertain. Inspection: ${m ? m[4] : v.detail}`,
        uncertainFrom: v.packet,
        source: 'emulation',
      };
    }
    case 'starttls-divergence':
      return {
        packet: v.packet,
        kind: 'starttls-divergence',
        text: `from packet ${v.packet} on the capture is TLS that the ASA would not have allowed: through the ASA the session would continue in plaintext (and be inspected) or end, so what inspection does to the rest of it cannot be seen here`,
        uncertainFrom: v.packet + 1,
        source: 'emulation',
      };
    case 'x-divergence':
      return {
        packet: v.packet,
        kind: 'x-divergence',
        text: `after packet ${v.packet} the capture follows a dialogue the ASA would not allow (the server accepted a command the ASA X's): findings after it describe this capture, not what happens through the ASA`,
        uncertainFrom: v.packet + 1,
        source: 'emulation',
      };
    case 'xexch50-blob':
      // part of the same divergence: the x-divergence note before it makes what follows uncertain
      return {
        packet: v.packet,
        kind: 'x-divergence',
        text: v.detail, // says it all: the 354, the blob's size, that no blob follows through the ASA
        uncertainFrom: null,
        source: 'emulation',
      };
    case 'pipelining-limit':
      return { packet: v.packet, kind: 'pipelining-limit', text: `${v.detail}: replies after packet ${v.packet} may be paired with the wrong command, so findings that depend on a reply are uncertain`, uncertainFrom: v.packet, source: 'emulation' };
    case 'pipelining-after-data':
      return { packet: v.packet, kind: 'other-note', text: `${v.detail}: findings on those lines describe commands the server never ran`, uncertainFrom: null, source: 'emulation' };
    case 'server-anomaly':
      return { packet: v.packet, kind: 'server-anomaly', source: 'emulation', ...serverAnomaly(v.detail, v.packet) };
    case 'tcp-rst-out-of-window':
      return {
        packet: v.packet,
        kind: 'rst-out-of-window',
        text: `packet ${v.packet} is a RST whose sequence number is outside the receiver's window: an endpoint ignores such a RST (RFC 5961 §3, RFC 793 §3.4) and the ASA drops it, so replay went on inspecting the connection. The capture alone cannot prove what the receiver did: if the session goes on after it, the RST was ignored; if the session ends there, the receiver honoured it. A RST out of window is usually forged or stray: sent by a device in the path (an IPS or another firewall resetting the session) or left over from an earlier connection on the same ports`,
        uncertainFrom: null,
        source: 'emulation',
      };
    case 'midstream':
      return {
        packet: v.packet,
        kind: 'other-note',
        text: 'the capture starts in the middle of this session (no TCP handshake): the greeting and whatever the client sent before the first complete server reply were not seen, so a rule that hit there (the banner, an unknown command) cannot be shown; the ASA itself only inspects connections it saw open',
        uncertainFrom: null,
        source: 'emulation',
      };
    case 'connection':
      return {
        packet: v.packet,
        kind: 'capture-ended',
        text: 'the capture ends while this connection is still open (no FIN or RST seen): the rest of the session is not in the capture, so a rule that would hit later cannot be seen, and a session that looks cut off may simply have outlived the capture',
        uncertainFrom: null,
        source: 'emulation',
      };
    default:
      return { packet: v.packet, kind: 'other-note', text: `${v.rule}: ${v.detail}`, uncertainFrom: null, source: 'emulation' };
  }
}

/**
 * What a `server-anomaly` note says happened, for the admin (text) and for the findings it makes
 * uncertain (reason); the engine writes three kinds (src/inspect/esmtp/reply-boundary.ts).
 */
function serverAnomaly(detail: string, packet: number): Pick<Caveat, 'text' | 'reason' | 'uncertainFrom'> {
  const a = readServerAnomaly(detail);
  switch (a?.kind) {
    case 'no-reply-code':
      return {
        text: `the server sent a line without a reply code, which inspection ignored; how the ASA treats it ("unexpected transition by the SMTP server") is not documented, so findings from here on are uncertain`,
        reason: `after a server line without a reply code (packet ${packet})`,
        uncertainFrom: packet,
      };
    case 'long-line':
      // the note sits at the line's first packet: what is found on the line itself (the banner mask
      // of a long greeting) holds in either reading; what follows it does not
      return {
        text: `the server sent a line of ${a.length} bytes without LF (over the ${a.limit}-octet reply line limit of RFC 5321); inspection took it as ended with its segment, because the server's next segment starts with a reply code (long-reply-line=segment). Where the ASA ends such a line is not documented: if it reads on to the next LF, the next reply becomes part of this line and later replies pair with the wrong commands, so findings after it are uncertain (--engine-option long-reply-line=lf replays that reading)`,
        reason: `after an over-long server line without LF (${a.length} bytes, from packet ${packet}) that inspection took as ended with its segment`,
        uncertainFrom: packet + 1,
      };
    case 'code-change':
      return {
        text: `a ${a.nextCode} line came while the server's multi-line ${a.replyCode} reply still lacked its final line; inspection ended the ${a.replyCode} reply there and took the ${a.nextCode} line as the next reply (reply-code-change=split, RFC 5321 4.2.1: one code per reply). How the ASA reads such a reply is not documented: if it takes the line as part of the ${a.replyCode} reply, later replies pair with the wrong commands, so findings from here on are uncertain (--engine-option reply-code-change=continue replays that reading)`,
        reason: `after a multi-line ${a.replyCode} reply without a final line, ended by a ${a.nextCode} line (packet ${packet})`,
        uncertainFrom: packet,
      };
    default:
      return {
        text: `${detail}; how the ASA treats this server reply is not documented, so findings from here on are uncertain`,
        reason: `after an unusual server reply (packet ${packet})`,
        uncertainFrom: packet,
      };
  }
}
