/**
 * A bounded SMTP transcript of one connection, built from the reassembled byte streams: the client's
 * commands and the server's replies in order, each with the packet that carried it, and a summary of
 * every message's content (line counts, longest header/body line, MIME file names) instead of its
 * lines. Diagnose reads it to find firewall fingerprints and to draw the ladder diagram.
 *
 * Not a hot path (diagnose runs once per capture), but still bounded: a line keeps at most
 * TEXT_KEEP bytes of text (its full length is counted), a session at most MAX_ENTRIES entries.
 *
 * Server lines and replies end where the engine ends them (the same reply-boundary options, one
 * implementation in src/inspect/esmtp/reply-boundary.ts): at LF, at `NNN `, and also at the end of
 * an over-long line's segment (`long-reply-line`) and at a reply-code change (`reply-code-change`),
 * so a greeting that never got its CR LF does not swallow the next reply and pair every later reply
 * with the command before its own.
 *
 * A message and a BDAT chunk end where the engine ends them too (the same engine options), so the
 * ladder does not show message text as commands, or commands as message text:
 * - `end-of-data`: with `crlf` (default) only CR LF . CR LF ends a message (RFC 5321 4.1.1.4); a '.'
 *   line with a bare LF on either side is message text (an empty line to the engine);
 * - `bdat-chunk`: with `offered` (default) a chunk is skipped only when the server may have offered
 *   CHUNKING (RFC 3030 2); after HELO, an EHLO reply without it, or before any EHLO reply, the
 *   chunk's bytes are command lines, as that server and the engine read them.
 */
import type { ConnectionMeta, Direction, CloseReason, StreamListener } from '../flow/types.js';
import { defaultEngineOptions } from '../inspect/options.js';
import { endsOverlongLine, replyCodeAt, startsNextReply, type ReplyBoundaryOptions } from '../inspect/esmtp/reply-boundary.js';
import type { EngineOptions } from '../inspect/options.js';
import { TextInterner } from './intern.js';

/** The engine options the transcript reads: where replies, messages and BDAT chunks end. */
export type TranscriptOptions = ReplyBoundaryOptions & Pick<EngineOptions, 'endOfData' | 'bdatChunk'>;

export const TEXT_KEEP = 160;
export const MAX_ENTRIES = 600;
/** Replies longer than this many lines keep only the first ones (EHLO replies are ~15). */
const MAX_REPLY_LINES = 40;

export interface MessageSummary {
  /** Content lines seen (dot-stuffing not undone), excluding the final ".". */
  lines: number;
  bytes: number;
  /** Longest header line (CRLF not counted), and the packet that ended it. */
  maxHeaderLine: number;
  maxHeaderLinePacket: number;
  /**
   * Longest header field unfolded (RFC 5322 2.2.3: a line starting with SP/TAB continues the
   * field; contents summed, CR LF not counted), as header-line-length=unfolded measures it.
   */
  maxHeaderField: number;
  maxBodyLine: number;
  maxBodyLinePacket: number;
  /** Longest MIME file name (Content-Disposition filename= / Content-Type name=). */
  maxFilename: number;
  maxFilenamePacket: number;
  /** True once the terminating "." line (or BDAT LAST chunk) was seen. */
  complete: boolean;
}

export type EntryKind = 'command' | 'reply' | 'auth-data' | 'message' | 'bdat-chunk' | 'tls';

export interface TranscriptEntry {
  dir: Direction;
  kind: EntryKind;
  /** Packet that carried the first byte, and the one that carried the last (line end). */
  packet: number;
  endPacket: number;
  /** Stream offset of the first byte. */
  offset: number;
  /** Command: upper-cased verb; reply: the 3-digit code; else ''. */
  verb: string;
  /** Printable text (control bytes as \xNN), each line cut at TEXT_KEEP. Replies: lines joined by \n. */
  text: string;
  /** Length of the (longest) line without CRLF. */
  length: number;
  /** Lines of a multi-line reply. */
  lineCount: number;
  /**
   * Replies: per kept line (as in `text`), the packets that carried its first and its last byte, so
   * evidence can point at the packet of the line itself when a reply spans several packets. Absent
   * when every line is [packet, endPacket] (the usual reply in one segment): kept small per session.
   */
  linePackets?: Array<[number, number]>;
  message?: MessageSummary;
}

export interface SessionTranscript {
  id: number;
  client: string;
  server: string;
  clientIp: string;
  clientPort: number;
  serverIp: string;
  serverPort: number;
  ipVersion: 4 | 6;
  firstPacket: number;
  /** Capture time of the first packet (UTC seconds): the policy's time-ranges are judged at it. */
  startTimeSec?: number;
  lastPacket: number;
  entries: TranscriptEntry[];
  /** Entries not kept because of MAX_ENTRIES. */
  elided: number;
  rcptCount: number;
  quitSeen: boolean;
  closingReplySeen: boolean;
  tlsStarted: boolean;
  closeReason: CloseReason | null;
  gaps: number;
  /** Bytes of the gaps (never captured or cut by the snaplen). */
  gapBytes: number;
  /** The last packet of the session seen before its first gap (its first packet when no data came before; 0: no gap). */
  firstGapAfter: number;
}

type ClientMode = 'command' | 'data' | 'bdat' | 'tls';

/** Line assembly state for one direction. */
class LineState {
  buf = Buffer.alloc(TEXT_KEEP);
  kept = 0;
  length = 0;
  startOffset = -1;
  startPacket = 0;
  /** Packet of the line's last byte so far. */
  lastPacket = 0;
  sawCR = false;
  /** The line just ended had CR LF (not a bare LF) as its end. */
  endedCrlf = false;
}

class SessionState {
  readonly t: SessionTranscript;
  readonly lines: [LineState, LineState] = [new LineState(), new LineState()];
  clientMode: ClientMode = 'command';
  bdatRemaining = 0;
  bdatLast = false;
  /**
   * Whether the server offered CHUNKING, as the engine tracks it (bdat-chunk=offered): -1 unknown
   * (picked up mid-session, or a server gap may have held the EHLO reply), 0 no (greeting seen and
   * no EHLO reply yet, HELO, or an EHLO reply without it), 1 yes.
   */
  chunking = -1;
  /** CHUNKING among the keywords (lines 2..) of the 2xx reply being read. */
  replyChunking = false;
  greetingSeen = false;
  readonly midstream: boolean;
  /** In a message: the previous line ended with CR LF (the DATA line's CR LF counts). */
  dataPrevCrlf = true;
  /** In a message: a line start is known (false after a client gap until the next line end). */
  dataLineStart = true;
  lastCommandVerb = '';
  lastReplyCode = '';
  /** The reply being assembled (multi-line), and its first line's code (-1: none). */
  reply: TranscriptEntry | null = null;
  replyLines = 0;
  replyCode = -1;
  message: TranscriptEntry | null = null;
  inHeaders = false;
  /** Length of the header field being read, unfolded (its lines' contents summed). */
  headerField = 0;
  tlsEntry: TranscriptEntry[] = [];

  constructor(conn: ConnectionMeta) {
    // as the pipeline tells the engine: no handshake seen means no greeting is expected
    this.midstream = conn.clientBy !== 'syn' && conn.clientBy !== 'syn-ack';
    this.t = {
      id: conn.id,
      client: conn.client,
      server: conn.server,
      clientIp: conn.clientIp,
      clientPort: conn.clientPort,
      serverIp: conn.serverIp,
      serverPort: conn.serverPort,
      ipVersion: conn.ipVersion,
      firstPacket: conn.firstPacket,
      startTimeSec: conn.firstTimeSec + conn.firstTimeNsec / 1e9,
      lastPacket: conn.firstPacket,
      entries: [],
      elided: 0,
      rcptCount: 0,
      quitSeen: false,
      closingReplySeen: false,
      tlsStarted: false,
      closeReason: null,
      gaps: 0,
      gapBytes: 0,
      firstGapAfter: 0,
    };
  }

  push(e: TranscriptEntry): void {
    if (this.t.entries.length < MAX_ENTRIES) this.t.entries.push(e);
    else this.t.elided++;
  }

  /**
   * A reply is recorded when it ends; one whose line ended only when the server's next segment came
   * (an over-long line without LF) goes before the client entries that started after it did.
   */
  pushReply(e: TranscriptEntry): void {
    const es = this.t.entries;
    if (es.length >= MAX_ENTRIES) {
      this.t.elided++;
      return;
    }
    let k = es.length;
    while (k > 0 && (es[k - 1] as TranscriptEntry).dir === 0 && (es[k - 1] as TranscriptEntry).packet > e.packet) k--;
    es.splice(k, 0, e);
  }
}

export function printable(bytes: Uint8Array, start = 0, end = bytes.length): string {
  // the usual line is all printable ASCII: one flat string (a += loop leaves a chain of pieces per byte)
  let plain = true;
  for (let i = start; i < end && plain; i++) {
    const b = bytes[i] ?? 0;
    plain = b >= 0x20 && b < 0x7f;
  }
  if (plain) return Buffer.from(bytes.buffer, bytes.byteOffset + start, Math.max(0, end - start)).toString('latin1');
  let s = '';
  for (let i = start; i < end; i++) {
    const b = bytes[i] ?? 0;
    s += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return s;
}

const FILENAME_RE = /(?:^|[;\s])(?:file)?name\*?=\s*("([^"]*)"?|[^;\s]*)/i;

/**
 * Records transcripts for every connection it is told about. Use it as (part of) a StreamListener.
 */
export class TranscriptRecorder implements StreamListener {
  private readonly live = new Map<number, SessionState>();
  readonly sessions: SessionTranscript[] = [];
  /** One copy of each repeated kept text (intern.ts). */
  private readonly shared = new TextInterner();

  /** `opt`: the engine options diagnose replays with (the reply-boundary, end-of-data and bdat-chunk ones are read). */
  constructor(private readonly opt: TranscriptOptions = defaultEngineOptions()) {}

  onOpen(conn: ConnectionMeta): void {
    const s = new SessionState(conn);
    // servers (and a gateway's client address) repeat in every session
    s.t.server = this.shared.text(s.t.server);
    s.t.clientIp = this.shared.text(s.t.clientIp);
    s.t.serverIp = this.shared.text(s.t.serverIp);
    this.live.set(conn.id, s);
    this.sessions.push(s.t);
  }

  onData(conn: ConnectionMeta, dir: Direction, data: Buffer, offset: number, packetNumber: number): void {
    let s = this.live.get(conn.id);
    if (!s) {
      this.onOpen(conn);
      s = this.live.get(conn.id);
      if (!s) return;
    }
    s.t.lastPacket = Math.max(s.t.lastPacket, packetNumber);
    let i = 0;
    const sl = s.lines[1];
    if (dir === 1 && s.clientMode !== 'tls' && sl.startOffset >= 0 && endsOverlongLine(this.opt, offset - sl.startOffset, data, 0)) {
      // the engine's long-reply-line rule: the over-long line ended with its segment
      this.endLine(s, 1, sl, sl.lastPacket);
    }
    while (i < data.length) {
      if (s.clientMode === 'tls') {
        this.tlsBytes(s, dir, data.length - i, offset + i, packetNumber);
        return;
      }
      if (dir === 0 && s.clientMode === 'bdat') {
        const take = Math.min(s.bdatRemaining, data.length - i);
        this.bdatBytes(s, take, offset + i, packetNumber);
        i += take;
        continue;
      }
      i = this.lineBytes(s, dir, data, i, offset, packetNumber);
    }
  }

  onGap(conn: ConnectionMeta, dir: Direction, offset: number, length: number): void {
    const s = this.live.get(conn.id);
    if (!s) return;
    if (s.t.gaps === 0) s.t.firstGapAfter = s.t.lastPacket;
    s.t.gaps++;
    s.t.gapBytes += length;
    const ls = s.lines[dir];
    ls.kept = 0;
    ls.length = 0;
    ls.startOffset = -1;
    ls.sawCR = false;
    // as the engine: a server gap may have held an EHLO reply; after a client gap in a message, a
    // '.' line ends it only once a line end was seen since the gap
    if (dir === 1) s.chunking = -1;
    else s.dataLineStart = false;
    void offset;
  }

  onClose(conn: ConnectionMeta, reason: CloseReason): void {
    const s = this.live.get(conn.id);
    if (!s) return;
    this.flushReply(s);
    s.t.closeReason = reason;
    this.live.delete(conn.id);
    messageTexts(s.t);
  }

  /** Closes connections still open (end of capture). */
  finish(): SessionTranscript[] {
    for (const s of this.live.values()) {
      this.flushReply(s);
      if (s.t.closeReason === null) s.t.closeReason = 'end-of-capture';
      messageTexts(s.t);
    }
    this.live.clear();
    return this.sessions;
  }

  // --- byte handling --------------------------------------------------------------------------

  /** Consumes bytes up to and including one LF; returns the index after what it consumed. */
  private lineBytes(s: SessionState, dir: Direction, data: Buffer, i: number, base: number, packet: number): number {
    const ls = s.lines[dir];
    const lf = data.indexOf(0x0a, i);
    const end = lf < 0 ? data.length : lf;
    if (ls.startOffset < 0) {
      ls.startOffset = base + i;
      ls.startPacket = packet;
    }
    if (end > i) {
      // a CR not followed by LF is content: one held back from the previous segment, and any CR
      // inside [i, end) except a last one, which may be the line's CR LF (held back in turn)
      if (ls.sawCR) {
        if (ls.kept < TEXT_KEEP) ls.buf[ls.kept++] = 0x0d;
        ls.length++;
      }
      ls.sawCR = data[end - 1] === 0x0d;
      const stop = ls.sawCR ? end - 1 : end;
      if (ls.kept < TEXT_KEEP) ls.kept += data.copy(ls.buf, ls.kept, i, Math.min(stop, i + TEXT_KEEP - ls.kept));
      ls.length += stop - i;
    }
    ls.lastPacket = packet;
    if (lf < 0) return data.length;
    this.endLine(s, dir, ls, packet);
    return lf + 1;
  }

  private endLine(s: SessionState, dir: Direction, ls: LineState, packet: number): void {
    ls.endedCrlf = ls.sawCR;
    ls.sawCR = false;
    this.line(s, dir, ls, packet);
    ls.kept = 0;
    ls.length = 0;
    ls.startOffset = -1;
  }

  private line(s: SessionState, dir: Direction, ls: LineState, packet: number): void {
    // message lines are summarised from their bytes, not kept as text
    if (dir === 0 && s.clientMode === 'data') {
      this.messageLine(s, ls, packet);
      return;
    }
    const text = printable(ls.buf, 0, ls.kept);
    if (dir === 1) {
      this.replyLine(s, ls, text, packet);
      return;
    }
    this.flushReply(s);
    if (s.lastReplyCode === '334' && s.lastCommandVerb === 'AUTH') {
      s.push(entry(0, 'auth-data', ls, packet, '', this.shared.text(text)));
      return;
    }
    const sp = text.indexOf(' ');
    const verb = this.shared.text((sp < 0 ? text : text.slice(0, sp)).toUpperCase());
    s.lastCommandVerb = verb;
    s.lastReplyCode = '';
    s.push(entry(0, 'command', ls, packet, verb, this.shared.text(text)));
    if (verb === 'RCPT') s.t.rcptCount++;
    else if (verb === 'QUIT') s.t.quitSeen = true;
    else if (verb === 'BDAT') {
      const m = /^BDAT\s+(\d+)(\s+LAST)?/i.exec(text);
      if (m && this.bdatChunkOpaque(s)) {
        s.bdatRemaining = Number(m[1]);
        s.bdatLast = m[2] !== undefined;
        s.message = null;
        if (s.bdatRemaining > 0) s.clientMode = 'bdat';
      }
    }
  }

  /** Is the BDAT chunk just announced skipped (true) or read as command lines (the engine's rule)? */
  private bdatChunkOpaque(s: SessionState): boolean {
    if (this.opt.bdatChunk === 'opaque') return true;
    if (this.opt.bdatChunk === 'commands') return false;
    return s.chunking !== 0;
  }

  private replyLine(s: SessionState, ls: LineState, text: string, packet: number): void {
    const code = this.shared.text(text.slice(0, 3));
    const more = text.charAt(3) === '-';
    const num = replyCodeAt(ls.buf.subarray(0, ls.kept), 0);
    // a 3-byte line ("334" CR LF) ends right after its code: the engine sees CR or LF there
    if (s.reply && startsNextReply(this.opt, s.replyCode, num, ls.kept > 3 ? (ls.buf[3] ?? 0) : 0x0a)) this.flushReply(s);
    // an EHLO keyword (the engine's: lines 2.. of the reply, a line starting with '2', the word from
    // byte 5 to SP, '=' or CR; any case); counted on every line, also beyond MAX_REPLY_LINES
    if (s.reply && text.charCodeAt(0) === 0x32 && /^chunking(?:[ =]|\\x0d|$)/i.test(text.slice(4))) s.replyChunking = true;
    const span: [number, number] = [ls.startPacket || packet, packet];
    if (!s.reply) {
      s.reply = entry(1, 'reply', ls, packet, code, text);
      s.reply.linePackets = [span];
      s.replyLines = 1;
      s.replyCode = num;
    } else {
      s.replyLines++;
      if (s.replyLines <= MAX_REPLY_LINES) {
        s.reply.text += '\n' + text;
        s.reply.linePackets?.push(span);
      }
      s.reply.endPacket = packet;
      s.reply.length = Math.max(s.reply.length, ls.length);
      s.reply.lineCount = s.replyLines;
    }
    if (!more) this.flushReply(s);
  }

  /** A complete reply: record it and move the state machine. */
  private flushReply(s: SessionState): void {
    const r = s.reply;
    if (!r) return;
    s.reply = null;
    r.text = this.shared.text(r.text); // one flat, shared copy (multi-line text was joined piece by piece)
    // per-line packets say more than [packet, endPacket] only when the reply's lines came apart
    if (r.linePackets?.every(([first, last]) => first === r.packet && last === r.endPacket)) delete r.linePackets;
    s.pushReply(r);
    s.lastReplyCode = r.verb;
    const offered = s.replyChunking;
    s.replyChunking = false;
    const ok = r.verb.charCodeAt(0) === 0x32;
    if (!s.greetingSeen && !s.midstream) s.chunking = 0; // nothing is offered before an EHLO reply
    else if (ok && s.lastCommandVerb === 'EHLO') s.chunking = offered ? 1 : 0;
    else if (ok && s.lastCommandVerb === 'HELO') s.chunking = 0; // HELO: no extensions (RFC 5321 4.1.1.1)
    s.greetingSeen = true;
    if (r.verb === '354' && s.lastCommandVerb === 'DATA') {
      s.clientMode = 'data';
      s.inHeaders = true;
      s.message = null;
      s.dataPrevCrlf = true;
      s.dataLineStart = true;
    } else if (r.verb === '220' && s.lastCommandVerb === 'STARTTLS') {
      s.clientMode = 'tls';
      s.t.tlsStarted = true;
    } else if (r.verb === '221' && s.lastCommandVerb === 'QUIT') {
      s.t.closingReplySeen = true;
    }
  }

  private messageLine(s: SessionState, ls: LineState, packet: number): void {
    let m = s.message;
    if (!m) {
      m = entry(0, 'message', ls, packet, '', '');
      m.message = emptyMessage();
      s.message = m;
      s.push(m);
    }
    const sum = m.message as MessageSummary;
    m.endPacket = packet;
    const prevCrlf = s.dataPrevCrlf;
    const lineStart = s.dataLineStart;
    s.dataPrevCrlf = ls.endedCrlf;
    s.dataLineStart = true;
    if (ls.length === 1 && ls.kept === 1 && ls.buf[0] === 0x2e && lineStart) {
      if (this.opt.endOfData === 'lf' || (prevCrlf && ls.endedCrlf)) {
        sum.complete = true;
        s.clientMode = 'command';
        s.message = null;
        return;
      }
      // a '.' line with a bare LF on either side (end-of-data=crlf) is message text: unstuffed, an
      // empty line to the engine, so it ends the header section
      s.inHeaders = false;
    }
    // its text (messageText) is written once the session ends: the summary is final then
    this.account(sum, ls, packet, s);
  }

  private account(sum: MessageSummary, ls: LineState, packet: number, s: SessionState): void {
    const length = ls.length;
    sum.lines++;
    sum.bytes += length + 2;
    if (s.inHeaders && length === 0) s.inHeaders = false;
    if (s.inHeaders) {
      const first = ls.kept > 0 ? ls.buf[0] : -1;
      const continues = first === 0x20 || first === 0x09;
      s.headerField = continues ? s.headerField + length : length;
      if (s.headerField > sum.maxHeaderField) sum.maxHeaderField = s.headerField;
      if (length > sum.maxHeaderLine) {
        sum.maxHeaderLine = length;
        sum.maxHeaderLinePacket = packet;
      }
    } else if (length > sum.maxBodyLine) {
      sum.maxBodyLine = length;
      sum.maxBodyLinePacket = packet;
    }
    // MIME part headers sit in the body: look for file names anywhere (text is cut at TEXT_KEEP,
    // so the length comes from the full line when the name runs to its end).
    if (!mentionsName(ls.buf, ls.kept)) return;
    const text = printable(ls.buf, 0, ls.kept);
    if (/name\*?=/i.test(text)) {
      const fm = FILENAME_RE.exec(text);
      if (fm) {
        const quoted = fm[1]?.startsWith('"') ?? false;
        const keptName = fm[2] ?? fm[1] ?? '';
        const start = text.indexOf(fm[1] ?? '') + (quoted ? 1 : 0);
        // when the text was cut, the name runs to the end of the full line (minus a closing quote)
        const full = text.length >= TEXT_KEEP ? length - start - (quoted ? 1 : 0) : keptName.length;
        if (full > sum.maxFilename) {
          sum.maxFilename = full;
          sum.maxFilenamePacket = packet;
        }
      }
    }
  }

  private bdatBytes(s: SessionState, n: number, offset: number, packet: number): void {
    let m = s.message;
    if (!m) {
      m = {
        dir: 0, kind: 'bdat-chunk', packet, endPacket: packet, offset, verb: '', text: '', length: 0, lineCount: 0,
        message: emptyMessage(),
      };
      s.message = m;
      s.push(m);
    }
    const sum = m.message as MessageSummary;
    sum.bytes += n;
    m.endPacket = packet;
    s.bdatRemaining -= n;
    if (s.bdatRemaining === 0) {
      s.clientMode = 'command';
      if (s.bdatLast) sum.complete = true;
      m.text = `BDAT chunk: ${sum.bytes} bytes${sum.complete ? ' (LAST)' : ''}`;
      s.message = null;
    }
  }

  private tlsBytes(s: SessionState, dir: Direction, n: number, offset: number, packet: number): void {
    const last = s.t.entries[s.t.entries.length - 1];
    if (last && last.kind === 'tls' && last.dir === dir) {
      last.length += n;
      last.endPacket = packet;
      last.text = `TLS: ${last.length} bytes`;
      return;
    }
    s.push({ dir, kind: 'tls', packet, endPacket: packet, offset, verb: '', text: `TLS: ${n} bytes`, length: n, lineCount: 0 });
  }
}

function emptyMessage(): MessageSummary {
  return {
    lines: 0, bytes: 0, maxHeaderLine: 0, maxHeaderLinePacket: 0, maxHeaderField: 0, maxBodyLine: 0, maxBodyLinePacket: 0,
    maxFilename: 0, maxFilenamePacket: 0, complete: false,
  };
}

/**
 * Whether the kept bytes hold "name" in any case: the only lines whose text is built to look for a
 * MIME file name (printable text has the same letters at the same places; its \\xNN escapes hold no 'n').
 */
function mentionsName(b: Buffer, n: number): boolean {
  for (let k = 0; k + 3 < n; k++) {
    if (((b[k] ?? 0) | 0x20) === 0x6e && ((b[k + 1] ?? 0) | 0x20) === 0x61 && ((b[k + 2] ?? 0) | 0x20) === 0x6d && ((b[k + 3] ?? 0) | 0x20) === 0x65) return true;
  }
  return false;
}

/** A message entry's text says its summary: written when the session ends, not once per line. */
function messageTexts(t: SessionTranscript): void {
  for (const e of t.entries) if (e.kind === 'message' && e.message) e.text = messageText(e.message);
}

function messageText(m: MessageSummary): string {
  let t = `message: ${m.lines} lines, ${m.bytes} bytes; longest header line ${m.maxHeaderLine}, body line ${m.maxBodyLine}`;
  if (m.maxFilename > 0) t += `, MIME file name ${m.maxFilename}`;
  if (!m.complete) t += ' (no end-of-data)';
  return t;
}

function entry(dir: Direction, kind: EntryKind, ls: LineState, packet: number, verb: string, text: string): TranscriptEntry {
  return {
    dir, kind, packet: ls.startPacket || packet, endPacket: packet, offset: ls.startOffset, verb, text,
    length: ls.length, lineCount: 1,
  };
}
