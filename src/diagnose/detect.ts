/**
 * Fingerprints of an ESMTP-inspecting firewall in a capture taken behind one: what the ASA already
 * did to the bytes (masked greeting, XXXXXXXA in the EHLO reply, X'd verbs answered 500/502) and
 * connections that die exactly where a default limit bites (the 101st RCPT, a header line > 998,
 * a command line > 512, a sender > 320, a MIME file name > 255) without QUIT.
 *
 * Strong evidence alone sets firewallDetected; weak evidence (a session that dies mid-DATA with
 * the offending packet missing) is reported but only counts together with strong evidence.
 */
import type { SessionTranscript, TranscriptEntry } from './transcript.js';
import { DEFAULT_LIMITS } from './catalogue.js';

export type EvidenceKind =
  | 'masked-banner'
  | 'starttls-masked'
  | 'ehlo-keyword-masked'
  | 'x-verb-rejected'
  | 'x-verb'
  | 'died-after-rcpt-limit'
  | 'died-after-long-header'
  | 'died-after-long-command'
  | 'died-after-long-sender'
  | 'died-after-long-filename'
  | 'died-mid-data'
  | 'died-after-greeting';

export interface Evidence {
  packet: number;
  /** Other packets that belong to the same observation (e.g. the 500 reply to an X'd verb). */
  related: number[];
  session: number;
  client: string;
  server: string;
  kind: EvidenceKind;
  /** The ASA rule this fingerprint points at (default-map wording). */
  rule: string;
  /** What the packet shows, for the admin. */
  shows: string;
  strong: boolean;
  /**
   * What the observation is about, to recognise the same thing reported by our emulation:
   * 'banner', 'kw:<KEYWORD>' (an EHLO reply keyword), 'x-verb', or the kind itself.
   */
  subject: string;
  /** Packets that carried the observed line (first and last byte). */
  span: [number, number];
}

const MAX_EVIDENCE_PER_KIND = 20;

export function isMaskedBannerLine(line: string): boolean {
  if (!/^\d{3}[ -]?/.test(line)) return false;
  const rest = line.slice(3);
  let stars = 0;
  for (const ch of rest) {
    if (ch === '*') stars++;
    else if (ch !== '2' && ch !== '0' && ch !== ' ' && ch !== '-') return false;
  }
  return stars >= 3;
}

/** An EHLO keyword replaced by X's (STARTTLS -> XXXXXXXA, others all X). */
export function maskedKeyword(line: string): 'starttls' | 'other' | null {
  if (!/^250[ -]/.test(line)) return null;
  const kw = keywordOf(line);
  if (kw === 'XXXXXXXA') return 'starttls';
  if (/^X{4,}$/.test(kw)) return 'other';
  return null;
}

export function isXedCommand(e: TranscriptEntry): boolean {
  return e.kind === 'command' && /^X+$/.test(e.text) && e.length >= 1;
}

/** The session ended without an orderly QUIT/221 and was not handed over to TLS. */
export function diedAbruptly(t: SessionTranscript): boolean {
  return !t.quitSeen && !t.closingReplySeen && !t.tlsStarted && t.entries.length > 0;
}

export function detectSession(t: SessionTranscript): Evidence[] {
  const out: Evidence[] = [];
  const counts = new Map<EvidenceKind, number>();
  const add: Add = (kind, packet, rule, shows, strong, related = [], about = {}) => {
    const n = counts.get(kind) ?? 0;
    counts.set(kind, n + 1);
    if (n >= MAX_EVIDENCE_PER_KIND) return;
    out.push({
      packet, related, session: t.id, client: t.client, server: t.server, kind, rule, shows, strong,
      subject: about.subject ?? kind, span: about.span ?? [packet, packet],
    });
  };

  const es = t.entries;
  const firstReply = es.find((e) => e.kind === 'reply');
  if (firstReply && firstReply.verb === '220') {
    const lines = firstReply.text.split('\n');
    if (lines.some(isMaskedBannerLine)) {
      add('masked-banner', firstReply.packet, 'mask-banner', `greeting masked with '*': "${cut(lines[0] ?? '')}"`, true, [],
        { subject: 'banner', span: [firstReply.packet, firstReply.endPacket] });
    }
  }
  for (let i = 0; i < es.length; i++) {
    const e = es[i] as TranscriptEntry;
    if (e.kind === 'reply' && e.verb === '250' && e.lineCount > 1) {
      const lines = e.text.split('\n');
      for (let k = 0; k < lines.length; k++) {
        const line = lines[k] ?? '';
        const m = maskedKeyword(line);
        if (!m) continue;
        // the packet that carried this line, not the reply's first packet
        const span = e.linePackets?.[k] ?? [e.packet, e.endPacket];
        const about = { subject: `kw:${keywordOf(line)}`, span };
        if (m === 'starttls') add('starttls-masked', span[0], 'no allow-tls', `EHLO reply offers "${cut(line)}" where STARTTLS was`, true, [], about);
        else add('ehlo-keyword-masked', span[0], 'match ehlo-reply-parameter others', `EHLO reply keyword masked: "${cut(line)}"`, true, [], about);
      }
    }
    if (isXedCommand(e)) {
      const reply = nextReply(es, i);
      if (reply && (reply.verb === '500' || reply.verb === '502')) {
        add('x-verb-rejected', e.packet, 'unknown-command', `command replaced by X's ("${cut(e.text)}"), server answered "${cut(firstLine(reply.text))}" (packet ${reply.packet})`, true, [reply.packet],
          { subject: 'x-verb', span: [e.packet, e.endPacket] });
      } else {
        add('x-verb', e.packet, 'unknown-command', `command replaced by X's ("${cut(e.text)}")`, false, [], { subject: 'x-verb', span: [e.packet, e.endPacket] });
      }
    }
  }
  if (diedAbruptly(t)) deathEvidence(t, add);
  return out;
}

type Add = (
  kind: EvidenceKind, packet: number, rule: string, shows: string, strong: boolean, related?: number[],
  about?: { subject?: string; span?: [number, number] },
) => void;

/** The keyword of an EHLO reply line ("250-XXXXXXXA" -> "XXXXXXXA"). */
export function keywordOf(line: string): string {
  return line.slice(4).split(' ')[0] ?? '';
}

function deathEvidence(t: SessionTranscript, add: Add): void {
  const es = t.entries;
  const last = es[es.length - 1];
  if (!last) return;
  const how = t.closeReason === 'rst' ? 'reset' : t.closeReason === 'fin' ? 'closed without QUIT' : 'went silent (no QUIT, no close)';
  const lastCmd = lastOf(es, (e) => e.kind === 'command');
  const msg = lastOf(es, (e) => e.kind === 'message');
  const L = DEFAULT_LIMITS;
  // In DATA without end-of-data
  if (last.kind === 'message' && last.message && !last.message.complete) {
    const m = last.message;
    if (m.maxHeaderLine > L.headerLine) {
      add('died-after-long-header', m.maxHeaderLinePacket, 'match header line length gt 998', `header line of ${m.maxHeaderLine} bytes, then the connection ${how}`, true);
    } else if (m.maxFilename > L.mimeFilename) {
      add('died-after-long-filename', m.maxFilenamePacket, 'match MIME filename length gt 255', `MIME file name of ${m.maxFilename} bytes, then the connection ${how}`, true);
    } else {
      add('died-mid-data', last.endPacket, 'match header line length gt 998', `message content stops before end-of-data and the connection ${how}: the dropped packet probably held a header line > 998 or a MIME file name > 255`, false);
    }
    return;
  }
  // Right after 354 with no content at all: the first content packet was dropped.
  if (last.kind === 'reply' && last.verb === '354') {
    add('died-mid-data', last.packet, 'match header line length gt 998', `server said 354 but no message content followed and the connection ${how}: the dropped packet probably held a header line > 998 or a MIME file name > 255`, false);
    return;
  }
  if (!lastCmd) {
    if (last.kind === 'reply' && last.verb === '220') {
      add('died-after-greeting', last.packet, 'match cmd line length gt 512', `greeting, then no command and the connection ${how}: the first command was probably dropped (command line > 512)`, false);
    }
    return;
  }
  const cmdAnswered = es.indexOf(lastCmd) < es.length - 1;
  if (lastCmd.verb === 'RCPT' && t.rcptCount > L.rcptCount && !cmdAnswered) {
    add('died-after-rcpt-limit', lastCmd.packet, 'match cmd RCPT count gt 100', `RCPT #${t.rcptCount} got no reply and the connection ${how}`, true);
    return;
  }
  if (lastCmd.verb === 'RCPT' && t.rcptCount === L.rcptCount && cmdAnswered) {
    add('died-after-rcpt-limit', last.packet, 'match cmd RCPT count gt 100', `RCPT #${t.rcptCount} answered, then the connection ${how} before RCPT #${t.rcptCount + 1} or DATA: the 101st recipient was dropped`, true);
    return;
  }
  if (lastCmd.length > L.cmdLine && !cmdAnswered) {
    add('died-after-long-command', lastCmd.packet, 'match cmd line length gt 512', `${lastCmd.verb} command line of ${lastCmd.length} bytes got no reply and the connection ${how}`, true);
    return;
  }
  if (lastCmd.verb === 'MAIL' && !cmdAnswered) {
    const len = senderLength(lastCmd.text, lastCmd.length);
    if (len > L.senderAddress) {
      add('died-after-long-sender', lastCmd.packet, 'match sender-address length gt 320', `MAIL FROM with a ${len}-byte sender got no reply and the connection ${how}`, true);
    }
  }
  void msg;
}

/** Sender address length from a (possibly cut) MAIL FROM line. */
export function senderLength(text: string, fullLength: number): number {
  const lt = text.indexOf('<');
  if (lt < 0) return 0;
  const gt = text.indexOf('>', lt);
  if (gt >= 0) return gt - lt - 1;
  // cut text: the address runs to the end of the full line minus '>' and any parameters unknown
  return fullLength - lt - 2;
}

function nextReply(es: TranscriptEntry[], i: number): TranscriptEntry | undefined {
  for (let k = i + 1; k < es.length && k < i + 4; k++) {
    const e = es[k] as TranscriptEntry;
    if (e.kind === 'reply') return e;
  }
  return undefined;
}

function lastOf(es: TranscriptEntry[], f: (e: TranscriptEntry) => boolean): TranscriptEntry | undefined {
  for (let k = es.length - 1; k >= 0; k--) {
    const e = es[k] as TranscriptEntry;
    if (f(e)) return e;
  }
  return undefined;
}

function firstLine(s: string): string {
  const nl = s.indexOf('\n');
  return nl < 0 ? s : s.slice(0, nl);
}

function cut(s: string, n = 60): string {
  return s.length > n ? s.slice(0, n) + '…' : s;
}

export interface Detection {
  firewallDetected: boolean;
  evidence: Evidence[];
}

export function detectFirewall(sessions: readonly SessionTranscript[]): Detection {
  const evidence: Evidence[] = [];
  for (const t of sessions) evidence.push(...detectSession(t));
  evidence.sort((a, b) => a.packet - b.packet);
  return { firewallDetected: evidence.some((e) => e.strong), evidence };
}
