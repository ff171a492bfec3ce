/**
 * The ESMTP inspection session: an emulation of Cisco ASA `inspect esmtp` over the two byte
 * streams of one connection (ASA-ESMTP.md sections 1-3, 9 and the ADDENDUM's recommendations).
 *
 * Client side, command mode: each line is judged by its first token. In the default segment
 * mode a line start must show a complete known verb within its own segment, else the line is
 * X'd to its end (TechNote 113423: H,E,L,O typed one per packet reach the server as XXXX). In
 * line mode the verb is judged when the token is complete, whatever the segmentation.
 * Data mode starts only on the server's 354 (ADDENDUM B-4): header block, body, MIME parts,
 * dot-stuffing, CRLF.CRLF. Server side: greeting masking, EHLO keyword masking, replies matched
 * in order to a bounded queue of pending commands (pipelining).
 *
 * Bytes stay bytes: verbs, keywords and boundaries are compared as bytes; strings are built
 * only for verdict details, syslog lines and the few MIME header fields (off the hot path).
 * Memory is bounded: lines are measured, never stored beyond small fixed buffers.
 */
import type { Direction } from '../../flow/types.js';
import type { EsmtpMap, EsmtpMatch, CriterionKind } from '../../policy/types.js';
import type { Edit, GapReason, InspectionSink, InspectorSession, SessionContext, SessionState, VerdictAction } from '../types.js';
import type { EngineOptions } from '../options.js';
import type { EsmtpCounters, ParameterName } from '../counters.js';
import { actionText } from '../counters.js';
import { Verb, MAX_VERB_LEN, lookupVerb, verbName, type VerbId } from './commands.js';
import { classifyEhloKeyword, isEhloKeyword, normaliseEhloParameter, STARTTLS_CLASS } from './ehlo.js';
import { parseField, mediaType, encodingClass, decodeEncodedWords } from './mime.js';
import { Meter, MeterSpec, gtOf } from './meter.js';
import {
  NO_REPLY_CODE_DETAIL,
  codeChangeDetail,
  endsOverlongLine,
  isDigit,
  longLineDetail,
  replyCodeAt,
  startsNextReply,
  startsReplyLine,
} from './reply-boundary.js';
import {
  type Endpoint,
  type ReqResp,
  bytesText,
  matchedClass,
  syslog108002,
  syslog108003,
  syslog108004,
  syslog108005,
  syslog108006,
  syslog108007,
  syslog507003,
} from '../syslog.js';

/** Invalid-recipient reply codes a detail lists one by one, in reply order; more are summed per code. */
const INVALID_CODES_LISTED = 8;
const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const TAB = 0x09;
const X = 0x58;
const STAR = 0x2a;

/** What the line being read in command mode is. */
const Disp = { PENDING: 0, PASS: 1, X: 2, AUTHDATA: 3, SKIP: 4, MASKED: 5 } as const;
type DispT = (typeof Disp)[keyof typeof Disp];

/** Client stream modes. */
const Mode = { CMD: 0, DATA: 1, OPAQUE: 2 } as const;
type ModeT = (typeof Mode)[keyof typeof Mode];

/** Commands awaiting a server reply (pipelining queue entries). */
const Pend = { OTHER: 0, EHLO: 1, HELO: 2, MAIL: 3, RCPT: 4, DATA: 5, AUTH: 6, AUTHDATA: 7, STARTTLS: 8, ENDDATA: 9, RSET: 10, GREETING: 11, XSTARTTLS: 12, XED: 13, QUIT: 14, VRFY: 15, XEXCH50: 16, XTURN: 17 } as const;
type PendT = (typeof Pend)[keyof typeof Pend];

const bit = (k: PendT): number => 1 << k;

/**
 * After a gap, the pending commands a reply may answer, by its code (a bit per Pend kind; 0: any,
 * the code is ambiguous). Each of these codes answers one kind of command only (RFC 5321 4.2-4.3,
 * RFC 4954, RFC 3207); a multi-line 250 carrying keywords answers EHLO.
 */
function pairTargets(code: number, multiLine: boolean): number {
  switch (code) {
    case 354: return bit(Pend.DATA);
    case 221: return bit(Pend.QUIT);
    case 334: case 235: case 535: return bit(Pend.AUTH) | bit(Pend.AUTHDATA);
    case 220: return bit(Pend.STARTTLS) | bit(Pend.XSTARTTLS);
    case 251: case 252: return bit(Pend.RCPT) | bit(Pend.VRFY);
    case 250: return multiLine ? bit(Pend.EHLO) : 0;
    default: return 0;
  }
}

/**
 * Where a mailbox starts, for a pipe-to-program address (pipe-signature=leading): sendmail takes
 * an address as a program when it begins with '|' after quotation marks are stripped ("|prg args"
 * and |"prg args" alike; sendmail 4th ed. 12.2.3 and 11.12.3), and RFC 5321 4.1.2's source route
 * `@a,@b:` comes before the mailbox (servers ignore it, 3.6.1).
 */
const Lead = { START: 0, QUOTED: 1, ROUTE: 2, NONE: 3 } as const;
type LeadT = (typeof Lead)[keyof typeof Lead];

/** MAIL/RCPT argument scanner states. */
const Addr = { NONE: 0, PRE: 1, POSTCOLON: 2, BRACKET: 3, BARE: 4, PARAMS: 5 } as const;
type AddrT = (typeof Addr)[keyof typeof Addr];

const INTERESTING_FIELDS = ['content-type', 'content-disposition', 'content-transfer-encoding'] as const;
const MAX_HEADER_NAME = 64;
/** Where a '|' of a MAIL/RCPT argument was (pipe-scope=argument looks outside the address too). */
const PIPE_IN_ADDRESS = 1;
const PIPE_BEFORE_ADDRESS = 2;
const PIPE_IN_PARAMS = 4;
/** RFC 5321 4.5.3.1.2: a domain name is at most 255 octets. */
const MAX_DOMAIN = 255;
const LINE_HEAD = 80;
const MAX_BOUNDARIES = 8;
const MAX_KEYWORD = 32;
const LF_DOT = Buffer.from('\n.', 'latin1');
const STARTTLS_WORD = 'STARTTLS';
const BDAT_WORD = 'BDAT';
/** Role-reversal verbs (RFC 821 TURN, RFC 2645 ATRN): not ASA verbs. */
const TURN_WORD = 'TURN';
const ATRN_WORD = 'ATRN';
/** Exchange 2007+'s STARTTLS between its transport servers (not an ASA verb). */
const X_ANONYMOUSTLS_WORD = 'X-ANONYMOUSTLS';
/** Exchange's binary-blob command (not an ASA verb: X'd like any private extension). */
const XEXCH50_WORD = 'XEXCH50';
const LF_DASH = Buffer.from('\n-', 'latin1');


/** Replies to these commands change what the client's next bytes are. */
function modeChanging(k: PendT): boolean {
  return k === Pend.DATA || k === Pend.AUTH || k === Pend.AUTHDATA || k === Pend.STARTTLS || k === Pend.XSTARTTLS;
}

function kindsOf(map: EsmtpMap, kind: CriterionKind): EsmtpMatch[] {
  return map.matches.filter((m) => m.criterion.kind === kind);
}

/**
 * What every session of one policy-map shares, computed once per map: the matches by criterion
 * kind, the meters' thresholds, the normalised EHLO parameter names per match. A session then
 * allocates only its own counters and state.
 */
interface MapPlan {
  byKind: Map<CriterionKind, EsmtpMatch[]>;
  cmdLine: MeterSpec;
  senderLen: MeterSpec;
  rcptCount: MeterSpec;
  invalidRcpt: MeterSpec;
  hdrLine: MeterSpec;
  hdrTotal: MeterSpec;
  toCount: MeterSpec;
  bodyLine: MeterSpec;
  bodyTotal: MeterSpec;
  /** `match ehlo-reply-parameter` lines: their parameter names normalised. */
  ehloParams: Map<EsmtpMatch, readonly string[]>;
  /** Released sessions' resources, by buffer sizes (see SessionResources). */
  spare: Map<number, SessionResources[]>;
}

const PLANS = new WeakMap<EsmtpMap, MapPlan>();

function planOf(map: EsmtpMap): MapPlan {
  let p = PLANS.get(map);
  if (p !== undefined) return p;
  const byKind = new Map<CriterionKind, EsmtpMatch[]>();
  const ehloParams = new Map<EsmtpMatch, readonly string[]>();
  for (const m of map.matches) {
    const list = byKind.get(m.criterion.kind);
    if (list) list.push(m);
    else byKind.set(m.criterion.kind, [m]);
    if (m.criterion.kind === 'ehlo-reply-parameter') ehloParams.set(m, m.criterion.parameters.map(normaliseEhloParameter));
  }
  const spec = (kind: CriterionKind): MeterSpec => new MeterSpec(kindsOf(map, kind), gtOf);
  p = {
    byKind,
    cmdLine: spec('cmd-line-length'),
    senderLen: spec('sender-address-length'),
    rcptCount: spec('cmd-rcpt-count'),
    invalidRcpt: spec('invalid-recipients-count'),
    hdrLine: spec('header-line-length'),
    hdrTotal: spec('header-length'),
    toCount: spec('header-to-fields-count'),
    bodyLine: spec('body-line-length'),
    bodyTotal: spec('body-length'),
    ehloParams,
    spare: new Map(),
  };
  PLANS.set(map, p);
  return p;
}

/** Shared fill buffers by byte value: edit bytes are read-only for their receivers (types.ts). */
const FILL_SHARED = 4096;
const FILLS: (Buffer | undefined)[] = [];

/** `len` bytes of `fill` (a view of a shared buffer: no backing store per edit). */
function fillBytes(fill: number, len: number): Buffer {
  if (len > FILL_SHARED) return Buffer.alloc(len, fill);
  let f = FILLS[fill];
  if (f === undefined) {
    f = Buffer.alloc(FILL_SHARED, fill);
    FILLS[fill] = f;
  }
  return f.subarray(0, len);
}

/** `special-character` byte sets by the option's text (read-only, shared). */
const SPECIAL_SETS = new Map<string, Uint8Array>();

function specialSetOf(chars: string): Uint8Array {
  let set = SPECIAL_SETS.get(chars);
  if (set === undefined) {
    set = new Uint8Array(256);
    for (let i = 0; i < chars.length; i++) set[chars.charCodeAt(i) & 0xff] = 1;
    if (SPECIAL_SETS.size < 64) SPECIAL_SETS.set(chars, set);
  }
  return set;
}

/**
 * What a session allocates for itself, bundled and reused from session to session of the same
 * policy-map and buffer sizes: the fixed byte buffers (views of one slab), the meters and the
 * per-packet match marks. A connection then allocates only the session object, and closed
 * connections leave no buffers, views or meters behind for the old generation.
 */
/** Words for a '|' outside the address (pipe-scope=argument): before the address and/or in an ESMTP parameter. */
function pipePlace(where: number, verb: string): string {
  const parts: string[] = [];
  if (where & PIPE_BEFORE_ADDRESS) parts.push(`the ${verb} argument before the address`);
  if (where & PIPE_IN_PARAMS) parts.push(`an ESMTP parameter of the ${verb} argument`);
  return parts.join(' and in ');
}

class SessionResources {
  readonly slab: Buffer;
  readonly tok: Buffer;
  readonly arg: Buffer;
  readonly addrBuf: Buffer;
  readonly domainBuf: Buffer;
  readonly fieldBuf: Buffer;
  readonly head: Buffer;
  readonly nameBuf: Buffer;
  readonly sPrefix: Buffer;
  readonly kw: Buffer;
  readonly q: Buffer;
  readonly cmdLine: Meter;
  readonly senderLen: Meter;
  readonly rcptCount: Meter;
  readonly invalidRcpt: Meter;
  readonly hdrLine: Meter;
  readonly hdrTotal: Meter;
  readonly toCount: Meter;
  readonly bodyLine: Meter;
  readonly bodyTotal: Meter;
  readonly matchCounted: Int32Array;

  constructor(plan: MapPlan, matches: number, fieldBuffer: number, maxPending: number) {
    const fb = fieldBuffer;
    const sizes = [MAX_VERB_LEN + 1, fb, fb, MAX_DOMAIN, fb, LINE_HEAD, MAX_HEADER_NAME, 4, MAX_KEYWORD + 1, maxPending];
    let total = 0;
    for (const n of sizes) total += n;
    const slab = Buffer.alloc(total);
    this.slab = slab;
    let at = 0;
    const cut = (n: number): Buffer => slab.subarray(at, (at += n));
    this.tok = cut(MAX_VERB_LEN + 1);
    this.arg = cut(fb);
    this.addrBuf = cut(fb);
    this.domainBuf = cut(MAX_DOMAIN);
    this.fieldBuf = cut(fb);
    this.head = cut(LINE_HEAD);
    this.nameBuf = cut(MAX_HEADER_NAME);
    this.sPrefix = cut(4);
    this.kw = cut(MAX_KEYWORD + 1);
    this.q = cut(maxPending);
    this.cmdLine = new Meter(plan.cmdLine);
    this.senderLen = new Meter(plan.senderLen);
    this.rcptCount = new Meter(plan.rcptCount);
    this.invalidRcpt = new Meter(plan.invalidRcpt);
    this.hdrLine = new Meter(plan.hdrLine);
    this.hdrTotal = new Meter(plan.hdrTotal);
    this.toCount = new Meter(plan.toCount);
    this.bodyLine = new Meter(plan.bodyLine);
    this.bodyTotal = new Meter(plan.bodyTotal);
    this.matchCounted = new Int32Array(matches + 2).fill(-1);
  }

  /** Back to the state of a fresh bundle (zeroed bytes as Buffer.alloc gives them, meters at 0). */
  reset(): void {
    this.slab.fill(0);
    this.cmdLine.reset();
    this.senderLen.reset();
    this.rcptCount.reset();
    this.invalidRcpt.reset();
    this.hdrLine.reset();
    this.hdrTotal.reset();
    this.toCount.reset();
    this.bodyLine.reset();
    this.bodyTotal.reset();
    this.matchCounted.fill(-1);
  }
}

/** What a session points at before its first bytes (never written: nothing runs before acquire()). */
const NO_BYTES = Buffer.alloc(0);
const NO_METER = new Meter([]);
const NO_MARKS = new Int32Array(0);

/** Spare bundles kept per (map, sizes) (beyond this, released bundles are left to the GC). */
const RESOURCES_POOL_MAX = 512;

function poolKey(fieldBuffer: number, maxPending: number): number {
  return fieldBuffer * 1_000_003 + maxPending;
}

function takeResources(plan: MapPlan, matches: number, fieldBuffer: number, maxPending: number): SessionResources {
  const free = plan.spare.get(poolKey(fieldBuffer, maxPending));
  const r = free !== undefined ? free.pop() : undefined;
  if (r !== undefined) {
    r.reset();
    return r;
  }
  return new SessionResources(plan, matches, fieldBuffer, maxPending);
}

function giveResources(plan: MapPlan, r: SessionResources, fieldBuffer: number, maxPending: number): void {
  const k = poolKey(fieldBuffer, maxPending);
  let free = plan.spare.get(k);
  if (free === undefined) {
    if (plan.spare.size >= 8) return;
    free = [];
    plan.spare.set(k, free);
  }
  if (free.length < RESOURCES_POOL_MAX) free.push(r);
}

/** Looked-at `ch` bytes not preceded by an LF before falling back to the two-byte search. */
const LF_THEN_TRIES = 8;

/**
 * data.indexOf(needle, lo) for needle = LF + `ch`: first looks for `ch` alone (one memchr; a
 * base64 or plain-word body has no '.' at all, so the segment is done in one call instead of one
 * per line) and checks the byte before it; after a few `ch` bytes not at a line start (prose full
 * of full stops) it leaves the rest to the two-byte search. Same result either way.
 */
export function lfThen(data: Buffer, lo: number, ch: number, needle: Buffer): number {
  let d = lo + 1;
  for (let k = 0; k < LF_THEN_TRIES; k++) {
    d = data.indexOf(ch, d);
    if (d < 0) return -1;
    if (data[d - 1] === LF) return d - 1;
    d++;
  }
  // No match has its `ch` before d, so none starts before d - 1.
  return data.indexOf(needle, d - 1);
}


function lower(b: number): number {
  return b >= 0x41 && b <= 0x5a ? b + 0x20 : b;
}

export function createEsmtpSession(
  map: EsmtpMap,
  ctx: SessionContext,
  options: EngineOptions,
  sink: InspectionSink,
  counters: EsmtpCounters,
): InspectorSession {
  return new EsmtpSession(map, ctx, options, sink, counters);
}

class EsmtpSession implements InspectorSession {
  state: SessionState = 'inspecting';
  dropOffset = -1;
  dropDirection: Direction = 0;

  private readonly ends: [number, number] = [0, 0];
  private segSerial = 0;
  private matchCounted: Int32Array = NO_MARKS;
  private readonly client: Endpoint;
  private readonly server: Endpoint;
  private readonly byKind: Map<CriterionKind, EsmtpMatch[]>;
  private readonly ehloParams: Map<EsmtpMatch, readonly string[]>;
  /** The pooled buffers and meters below (null once released), and the plan they go back to. */
  private res: SessionResources | null;
  private readonly plan: MapPlan;
  private notes = 0;
  /** Capture time (seconds) of the last segment, NaN until one carried a time. */
  private now = Number.NaN;

  // -- edit runs (coalesced same-fill overwrites, flushed per segment) --
  private runDir: Direction = 0;
  private runStart = -1;
  private runLen = 0;
  private runFill = 0;
  private runRule = '';
  private runAction: VerdictAction = 'x-substitute';

  // -- pending-command queue --
  private q: Uint8Array = NO_BYTES;
  private qHead = 0;
  private qLen = 0;

  // -- client, command mode --
  private mode: ModeT = Mode.CMD;
  private lineStarted = false;
  private lineStart = 0;
  private disp: DispT = Disp.PENDING;
  private verb: VerbId | -1 = -1;
  private tok: Buffer = NO_BYTES;
  private tokLen = 0;
  /** The command line so far is one CR: an empty line if LF follows (passes), else the CR is content. */
  private lineCR = false;
  /** The previous command-mode client byte was a CR (a line's LF without it is a bare LF). */
  private cPrevCr = false;
  private arg: Buffer = NO_BYTES;
  private argLen = 0;
  private authExpect = false;
  /** A 2xx answered an EHLO or HELO (a lost command's multi-line 250 is then no EHLO reply). */
  private helloAnswered = false;
  private enterDataAfterLine = false;
  private opaqueRemaining = 0;
  /**
   * Whether the server offers CHUNKING (bdat-chunk=offered): -1 unknown (a greeting or EHLO reply
   * may have been lost: midstream, server gap), 0 no (no EHLO reply yet, its last EHLO reply
   * lacked it, or the session used HELO), 1 yes.
   */
  private chunking = -1;
  /** CHUNKING seen among the keywords of the EHLO reply being read. */
  private ehloChunking = false;
  private cmdLine: Meter = NO_METER;
  // address scanner
  private addr: AddrT = Addr.NONE;
  private addrStart = 0;
  private addrLen = 0;
  /**
   * Where the address byte being read stands for pipe-signature=leading: Lead.START (the first
   * byte of the mailbox), Lead.QUOTED (the byte after an opening '"' there), Lead.ROUTE (inside a
   * source route `@a,@b:`), Lead.NONE. Set from addrLen === 1 on each address's first byte.
   */
  private addrLead: LeadT = Lead.NONE;
  private addrBuf: Buffer = NO_BYTES;
  private addrBufLen = 0;
  /**
   * The bytes after the last '@' of the address, tracked as it streams through (independent of
   * the max-field-buffer cut of addrBuf): -1 while no '@' was seen; domainLen counts every byte,
   * domainBuf keeps the first MAX_DOMAIN.
   */
  private domainLen = -1;
  private domainBuf: Buffer = NO_BYTES;
  private firstPipe = -1;
  /** Where the line's replaced pipes were: PIPE_IN_ADDRESS | PIPE_BEFORE_ADDRESS | PIPE_IN_PARAMS. */
  private pipeWhere = 0;
  private specialFired = false;
  /** The client segment being read and its stream offset (only during data(): the 108003 address's rest). */
  private cSeg: Buffer = NO_BYTES;
  private cSegBase = 0;
  private senderLen: Meter = NO_METER;
  private readonly specialSet: Uint8Array;
  // transaction
  private rcptCount: Meter = NO_METER;
  private invalidRcpt: Meter = NO_METER;
  private declaredSize = -1;

  // -- client, data mode --
  private inHeaders = true;
  private topEntity = true;
  private dlStarted = false;
  private dlStart = 0;
  private dlFirst = true;
  private dlDot = false;
  private dlContent = 0;
  private dlPendingCr = false;
  /**
   * The previous message line ended with CR LF (the DATA line counts): with end-of-data=crlf a
   * '.' line ends the message only after CR LF and with CR LF of its own (RFC 5321 4.1.1.4).
   */
  private dlPrevCrlf = true;
  private dlSkip = false;
  private head: Buffer = NO_BYTES;
  private headLen = 0;
  private fieldState: 0 | 1 | 2 = 0; // 0 none, 1 reading name, 2 collecting value
  private nameBuf: Buffer = NO_BYTES;
  private nameLen = 0;
  private fieldKind = -1; // index into INTERESTING_FIELDS
  private fieldStart = 0;
  private fieldBuf: Buffer = NO_BYTES;
  private fieldLen = 0;
  private holdC = -1;
  private entityBoundary: Buffer | null = null;
  private entityFilenameChecked = false;
  private readonly boundaries: Buffer[] = [];
  private hdrLine: Meter = NO_METER;
  /** header-line-length=unfolded: stream offset of the current field's first line. */
  private hdrFieldStart = -1;
  /**
   * The reply codes counted as invalid recipients since the count last reset, for the detail:
   * code -> how many, in first-seen order (at most 200 codes, 400-599), and the first few in reply
   * order; null until the first one.
   */
  private invalidCodes: Map<number, number> | null = null;
  private readonly invalidOrder: number[] = [];
  /** The unfolded field being measured began with a continuation line (no field before it). */
  private hdrFieldOrphan = false;
  private hdrTotal: Meter = NO_METER;
  private toCount: Meter = NO_METER;
  private bodyLine: Meter = NO_METER;
  private bodyTotal: Meter = NO_METER;
  private maxHdrLine = 0;
  private maxBodyLine = 0;
  private msgSize = 0;

  // -- server --
  private greetingDone = false;
  /** One x-divergence note per connection (a success reply to a command the ASA X'd). */
  private xedAcceptedNoted = false;
  /** The last X'd TLS-starting line was X-ANONYMOUSTLS (Exchange), not STARTTLS. */
  private xTlsAnonymous = false;
  /** Blob size of the last X'd XEXCH50 line (-1: none or unreadable). */
  private xexch50Size = -1;
  private inReply = false;
  private replyKind: PendT = Pend.GREETING;
  private replyLine = 0;
  /** Code of the reply's first line (-1: it had none): a later line with another code starts a new reply. */
  private replyCode = -1;
  /**
   * Greeting continuation lines: how many leading digits are held back unmasked until the line's
   * 4th byte says whether the line starts the next reply (a new code) or is masked with the greeting.
   */
  private sHold = 0;
  private sLineStarted = false;
  private sLineStart = 0;
  private sPos = 0;
  private sPrefix: Buffer = NO_BYTES;
  private sSkip = false;
  private kwPhase = false;
  private kwStart = 0;
  private kw: Buffer = NO_BYTES;
  private kwLen = 0;
  private sMaskRest: 0 | 1 | 2 = 0; // 1 mask to end of line, 2 mask to end of keyword token
  private sMaskRule = '';

  // -- desynchronisation after a gap (see native-notes/engine-options.md "Gaps") --
  /** Client command bytes are not judged until the server's next complete reply. */
  private cDesync = false;
  /** Whether the last client byte seen was an LF (the next one starts a line). */
  private cAtLineStart = true;
  /** Client bytes seen since the last client gap. */
  private cSinceGap = 0;
  /** DATA content after a gap: not judged; only the end of data (CRLF.CRLF) is looked for. */
  private dDesync = false;
  /** End-of-data search after a DATA gap: 0 position unknown, 1 line start, 2 '.', 3 '.' CR. */
  private dPos = 0;
  /** End-of-data search after a DATA gap: the byte before the next one was a CR. */
  private dCr = false;
  /** Server bytes are not judged (no masking) until a reply is seen whole after the gap. */
  private sDesync = false;
  /** No server byte seen since the server gap (a reply code at the next segment start resyncs). */
  private sFresh = false;
  /** The reply in progress began while the server was desynchronised. */
  private replyInDesync = false;
  /**
   * The queue's alignment with the server's replies is uncertain (after a gap, or a connection
   * picked up mid-session): replies are paired with the queue by their code (pairByCode) until
   * one pairs by a code that answers one kind of command only, or the queue runs empty.
   */
  private byCode = false;
  /** The greeting (or part of it) was lost: a 220 answering no queued STARTTLS is the greeting's. */
  private greetingLost = false;
  /** The last reply was paired with the queue's head by guess (its code is ambiguous). */
  private pairGuessed = false;
  // one note per desynchronisation episode
  private epActive = false;
  private epGaps = 0;
  private epMissing = 0;
  private epTruncated = 0;
  private epFrom: [number, number] = [-1, -1];
  private epFirst = 0;
  private epDir: Direction = 0;
  private epKept = '';
  /** Inside gap(): the episode is closed by gap() itself. */
  private inGap = false;
  private epHow = '';

  // Meter callbacks, bound once (the meters run per byte / per line: no closure per call).
  // Meter callbacks: static, with the session passed as context (no closures per session).
  private static cmdLineHit(m: EsmtpMatch, off: number, s: EsmtpSession): boolean {
    return s.fireKeep(m, 0, off, s.cmdLineDetail(m, false));
  }
  private static senderHit(m: EsmtpMatch, off: number, s: EsmtpSession): boolean {
    return s.fireKeep(m, 0, off, `sender address longer than ${gtOf(m)} bytes`);
  }
  private static dataLineHit(m: EsmtpMatch, off: number, s: EsmtpSession): boolean {
    return s.fireKeep(m, 0, off, s.dataLineDetail(m));
  }
  private static dataTotalHit(m: EsmtpMatch, off: number, s: EsmtpSession): boolean {
    return s.fireKeep(m, 0, off, `${s.inHeaders ? 'header' : 'body'} longer than ${gtOf(m)} bytes`);
  }

  constructor(
    private readonly map: EsmtpMap,
    private readonly ctx: SessionContext,
    private readonly opt: EngineOptions,
    private readonly sink: InspectionSink,
    private readonly counters: EsmtpCounters,
  ) {
    const c = ctx.conn;
    this.client = { iface: ctx.clientInterface, ip: c.clientIp, port: c.clientPort };
    this.server = { iface: ctx.serverInterface, ip: c.serverIp, port: c.serverPort };
    const plan = planOf(map);
    this.plan = plan;
    this.byKind = plan.byKind;
    this.ehloParams = plan.ehloParams;
    // The buffers and meters are taken on the first bytes (acquire()): a connection that never
    // carries data (half-open, SYN floods) costs no buffers at all.
    this.res = null;
    this.specialSet = specialSetOf(opt.specialCharacters);
    counters.entry(ctx.policyMap, ctx.className, map);
    if (ctx.midstream === true) this.startMidstream();
  }

  /**
   * A connection picked up mid-session (no handshake in the capture): no greeting is expected,
   * and neither stream's position in the dialogue is known. Both start desynchronised, as after a
   * gap in each (native-notes/engine-options.md "Gaps"): client bytes are judged from the server's
   * first complete reply, which (like every reply until alignment is back) is paired by its code.
   */
  private startMidstream(): void {
    this.greetingDone = true;
    this.greetingLost = true; // a capture started just after the SYN still shows the greeting
    this.byCode = true;
    this.sDesync = true;
    this.sSkip = true;
    this.sFresh = true;
    this.cDesync = true;
    this.cAtLineStart = true;
    this.midstreamNote = true;
  }

  /** The mid-session pickup note is still to be said (at the first bytes). */
  private midstreamNote = false;

  // ===================================================================== contract

  /** Takes the pooled buffers and meters (first data or gap). */
  private acquire(): void {
    const res = takeResources(this.plan, this.map.matches.length, this.opt.maxFieldBuffer, this.opt.maxPending);
    this.res = res;
    this.matchCounted = res.matchCounted;
    this.tok = res.tok;
    this.arg = res.arg;
    this.addrBuf = res.addrBuf;
    this.domainBuf = res.domainBuf;
    this.fieldBuf = res.fieldBuf;
    this.head = res.head;
    this.nameBuf = res.nameBuf;
    this.sPrefix = res.sPrefix;
    this.kw = res.kw;
    this.q = res.q;
    this.cmdLine = res.cmdLine;
    this.senderLen = res.senderLen;
    this.rcptCount = res.rcptCount;
    this.invalidRcpt = res.invalidRcpt;
    this.hdrLine = res.hdrLine;
    this.hdrTotal = res.hdrTotal;
    this.toCount = res.toCount;
    this.bodyLine = res.bodyLine;
    this.bodyTotal = res.bodyTotal;
  }

  data(dir: Direction, data: Buffer, offset: number, timeSec?: number, timeNsec?: number): void {
    if (this.res === null) this.acquire();
    if (this.midstreamNote) this.sayMidstream(dir, offset);
    if (timeSec !== undefined) this.now = timeSec + (timeNsec ?? 0) / 1e9;
    if (this.state !== 'inspecting') {
      this.ends[dir] = Math.max(this.ends[dir], offset + data.length);
      return;
    }
    let start = 0;
    if (offset < this.ends[dir]) start = Math.min(data.length, this.ends[dir] - offset); // never inspect a byte twice
    if (start >= data.length) return;
    this.segSerial++;
    if (dir === 0) {
      this.cSeg = data;
      this.cSegBase = offset;
      this.clientBytes(data, start, offset);
      this.cSeg = NO_BYTES; // not kept past the call: the capture's buffers are reused
    } else this.serverBytes(data, start, offset);
    this.flushRun();
    if (this.state === 'inspecting') this.ends[dir] = offset + data.length;
    else this.ends[dir] = Math.max(this.ends[dir], offset + data.length);
  }

  gap(dir: Direction, offset: number, length: number, reason: GapReason = 'missing'): void {
    if (this.res === null) this.acquire();
    if (this.midstreamNote) this.sayMidstream(dir, offset);
    if (this.state !== 'inspecting') return;
    this.flushRun();
    this.ends[dir] = Math.max(this.ends[dir], offset + length);
    this.episodeGap(dir, offset, length, reason);
    this.inGap = true;
    if (dir === 0) this.clientGap(offset);
    else {
      this.chunking = -1; // the gap may have held an EHLO reply
      this.serverGap(offset);
    }
    this.flushRun(); // held greeting digits masked by serverGap: out before committed() moves on
    this.inGap = false;
    this.episodeCheck('nothing else had to be resynchronised');
  }

  private sayMidstream(dir: Direction, offset: number): void {
    this.midstreamNote = false;
    this.sink.verdict({
      dir, offset, rule: 'midstream', action: 'note', syslog: [],
      detail: 'connection picked up mid-session (no handshake in the capture; the ASA itself builds no connection without one): no greeting expected; client bytes are judged from the server\'s first complete reply, and replies are paired with commands by their code until they are in step',
    });
  }

  /** A client gap: what is knowable stays (DATA stays DATA, a BDAT chunk is counted down). */
  private clientGap(offset: number): void {
    this.cAtLineStart = false;
    this.cSinceGap = 0;
    if (this.mode === Mode.OPAQUE) {
      this.opaqueRemaining -= this.ends[0] - offset;
      if (this.opaqueRemaining >= 0) {
        // the chunk's length is known: the gap only removed bytes that are never inspected
        if (this.opaqueRemaining === 0) {
          this.mode = Mode.CMD;
          this.cAtLineStart = true;
          this.lineStarted = false;
        }
        this.epKept = 'the gap lay inside a BDAT chunk (never inspected), whose length is known';
        return;
      }
      this.opaqueRemaining = 0;
      this.mode = Mode.CMD;
    }
    if (this.mode === Mode.DATA) {
      this.dataDesync();
      return;
    }
    if (this.enterDataAfterLine) {
      // the 354 came while the DATA line was unfinished: the message starts after the gap somewhere
      this.enterDataAfterLine = false;
      this.enterData();
      this.dataDesync();
      return;
    }
    this.lineStarted = false;
    this.tokLen = 0;
    this.cDesync = true;
    this.clearQueue();
    if (!this.epKept) this.epKept = 'command state kept; client bytes are judged again after the server\'s next reply';
  }

  private dataDesync(): void {
    this.dDesync = true;
    this.dPos = 0;
    this.dCr = false;
    this.dlStarted = false;
    this.dlSkip = false;
    this.fieldState = 0;
    this.holdC = -1;
    if (!this.epKept) this.epKept = 'DATA state kept: the rest of the message is not measured (a line whose middle is missing has an unknown length, so no "gt N" fires on it), only its end (CRLF.CRLF or the server\'s reply) is looked for';
  }

  /**
   * A server gap: the bytes it swallowed held the replies to some prefix of the pending queue
   * (possibly none, possibly all). The queue stays; the replies that follow are paired with it by
   * their code (pairByCode), which says how long that prefix was.
   */
  private serverGap(offset: number): void {
    if (this.sHold > 0) this.flushHold();
    this.kwPhase = false;
    this.sMaskRest = 0;
    if (this.inReply && !this.replyInDesync && this.sPos >= 4 && !this.sSkip && isDigit(this.sPrefix[0]!) && isDigit(this.sPrefix[1]!) && isDigit(this.sPrefix[2]!) && this.sPrefix[3] === SP) {
      // The final line's code was seen before the cut: the reply is known to be complete (the rest
      // is text). If no other command awaits a reply, the gap cannot have hidden one either.
      this.inReply = false;
      const p = this.sPrefix;
      const hadDesync = this.cDesync || this.dDesync;
      this.replyComplete((p[0]! - 0x30) * 100 + (p[1]! - 0x30) * 10 + (p[2]! - 0x30), offset);
      this.sLineStarted = false;
      this.sSkip = true;
      this.sFresh = true;
      if (this.state !== 'inspecting') return;
      if (!hadDesync) this.epHow = '';
      if (this.qLen === 0) {
        if (!this.epKept) this.epKept = `the cut reply's code ${bytesText(p, 0, 3)} was seen, so the reply is complete and no other reply was pending; server lines are read again from the next line start`;
        return;
      }
    }
    const interrupted = this.inReply ? this.replyKind : Pend.OTHER;
    if (!this.greetingDone) {
      // the greeting is the server's first reply: a gap before its end swallowed (part of) it
      this.greetingDone = true;
      this.greetingLost = true;
    }
    let changesClient = modeChanging(interrupted);
    for (let k = 0; k < this.qLen; k++) if (modeChanging(this.q[(this.qHead + k) % this.q.length]! as PendT)) changesClient = true;
    this.byCode = true;
    this.sSkip = true;
    this.sFresh = true;
    this.sDesync = true;
    this.inReply = false;
    this.kwPhase = false;
    this.sMaskRest = 0;
    if (changesClient && this.mode === Mode.CMD && !this.cDesync) {
      // a lost 354/334/220 would change what the client's next bytes are: stop judging them
      this.cDesync = true;
      if (this.epFrom[0] < 0) this.epFrom[0] = this.ends[0];
      this.lineStarted = false;
      this.tokLen = 0;
      this.epKept = 'a reply that changes the client\'s state (to DATA, AUTH or STARTTLS) may be lost: client bytes are not judged until the server\'s next reply';
    }
    if (!this.epKept) this.epKept = 'the gap held replies to some of the pending commands: later replies are paired with them by their code; nothing is masked until a reply is seen whole';
  }

  private clearQueue(): void {
    this.qHead = 0;
    this.qLen = 0;
    this.byCode = true;
  }

  private episodeGap(dir: Direction, offset: number, length: number, reason: GapReason): void {
    if (!this.epActive) {
      this.epActive = true;
      this.epGaps = 0;
      this.epMissing = 0;
      this.epTruncated = 0;
      this.epFrom = [-1, -1];
      this.epFirst = offset;
      this.epDir = dir;
      this.epKept = '';
      this.epHow = '';
    }
    this.epGaps++;
    if (reason === 'truncated') this.epTruncated += length;
    else this.epMissing += length;
    if (this.epFrom[dir] < 0) this.epFrom[dir] = offset;
  }

    /**
   * Close the episode if nothing is desynchronised any more (or `force`); `atDir`/`at`: the byte
   * being processed when it closes (its stream end is not in `ends` yet).
   */
  private episodeCheck(how: string, force = false, atDir: Direction | -1 = -1, at = 0): void {
    if (!this.epActive) return;
    if (this.inGap && !force) {
      if (!this.epHow) this.epHow = how;
      return;
    }
    if (this.epHow) how = this.epHow;
    if (!force && (this.cDesync || this.dDesync || this.sDesync || this.lineSkipping())) {
      this.epHow = '';
      return;
    }
    this.epActive = false;
    const why: string[] = [];
    if (this.epTruncated > 0) why.push(`${this.epTruncated} byte(s) cut from their packets (capture truncated by snaplen)`);
    if (this.epMissing > 0) why.push(`${this.epMissing} byte(s) never captured (segment missing)`);
    const ranges: string[] = [];
    const names = ['client', 'server'];
    for (const d of [0, 1] as const) {
      const to = d === atDir ? Math.max(this.ends[d], at + 1) : this.ends[d];
      if (this.epFrom[d] >= 0) ranges.push(`${names[d]} stream offsets ${this.epFrom[d]}-${to}`);
    }
    const detail = `not inspected: ${ranges.join(', ')} (${this.epGaps} gap(s): ${why.join('; ')}); ${this.epKept}; ${how}`;
    this.sink.verdict({ dir: this.epDir, offset: this.epFirst, rule: 'gap', action: 'note', syslog: [], detail });
  }

  private lineSkipping(): boolean {
    return this.mode === Mode.CMD && this.lineStarted && this.disp === Disp.SKIP;
  }

  end(): void {
    this.episodeCheck('the connection ended before the streams were resynchronised', true);
    if (this.state !== 'inspecting') return;
    // A command line still undecided at connection end is judged like a segment end.
    // (A lone CR has nothing to X.)
    if (this.mode === Mode.CMD && this.lineStarted && this.disp === Disp.PENDING && !this.lineCR) {
      this.decideVerb(this.lineStart + this.tokLen, true);
    }
    if (this.state === 'inspecting' && this.sHold > 0) this.flushHold();
    this.flushRun();
  }

  /**
   * The caller is done with this session (closed and flushed): its buffers go back to the pool.
   * No method may be called afterwards.
   */
  release(): void {
    const res = this.res;
    if (res === null) return;
    this.res = null;
    giveResources(this.plan, res, this.opt.maxFieldBuffer, this.opt.maxPending);
  }

  committed(dir: Direction): number {
    const end = this.ends[dir];
    if (this.state !== 'inspecting') return end;
    if (dir === 0) {
      let c = end;
      if (this.mode === Mode.CMD && this.lineStarted && this.disp === Disp.PENDING) c = Math.min(c, this.lineStart);
      if (this.holdC >= 0) c = Math.min(c, this.holdC);
      return c;
    }
    return this.kwPhase || this.sHold > 0 ? Math.min(end, this.sLineStart) : end;
  }

  // ===================================================================== client

  private clientBytes(data: Buffer, i: number, base: number): void {
    const n = data.length;
    while (i < n && this.state === 'inspecting') {
      if (this.mode === Mode.DATA) {
        i = this.dDesync ? this.dataDesyncBytes(data, i, base) : this.dataBytes(data, i, base);
        continue;
      }
      if (this.cDesync) {
        // not judged: only where lines start is tracked, for the resynchronisation
        this.cAtLineStart = data[n - 1] === LF;
        this.cSinceGap += n - i;
        return;
      }
      if (this.mode === Mode.OPAQUE) {
        const take = Math.min(this.opaqueRemaining, n - i);
        this.opaqueRemaining -= take;
        i += take;
        if (this.opaqueRemaining === 0) this.mode = Mode.CMD;
        continue;
      }
      const b = data[i]!;
      this.cmdByte(b, base + i);
      this.cAtLineStart = b === LF;
      i++;
    }
    // Segment-level judging: a line fragment that began in this segment is judged now.
    if (
      this.state === 'inspecting' &&
      this.opt.judging === 'segment' &&
      this.mode === Mode.CMD &&
      this.lineStarted &&
      this.disp === Disp.PENDING &&
      !this.lineCR // a lone CR has nothing to X: the next segment says whether the line is empty
    ) {
      this.decideVerb(base + n, true);
    }
  }

  private beginLine(o: number): void {
    this.lineStarted = true;
    this.lineStart = o;
    this.tokLen = 0;
    this.argLen = 0;
    this.verb = -1;
    this.addr = Addr.NONE;
    this.firstPipe = -1;
    this.pipeWhere = 0;
    this.specialFired = false;
    this.lineCR = false;
    this.cmdLine.reset();
    if (this.authExpect) {
      this.authExpect = false;
      this.disp = Disp.AUTHDATA;
    } else {
      this.disp = Disp.PENDING;
    }
  }

  private cmdByte(b: number, o: number): void {
    const afterCr = this.cPrevCr;
    this.cPrevCr = b === CR;
    if (!this.lineStarted) this.beginLine(o);
    const isCommand = this.disp !== Disp.AUTHDATA && this.disp !== Disp.SKIP;
    if (this.lineCR && b !== LF && this.disp === Disp.PENDING) {
      // the line's first CR is content, not the end of an empty line: judged (unknown) now
      this.decideVerb(o, false);
      this.lineCR = false;
      if (this.state !== 'inspecting') return;
    }
    if (b === LF) {
      if (this.disp === Disp.PENDING) {
        // PENDING with no token at the LF: the line is LF or CR LF alone
        if (this.tokLen === 0) this.passEmptyLine();
        else this.decideVerb(o, false);
      }
      if (this.state !== 'inspecting') return;
      if (isCommand && this.opt.lengthCountsCrlf) {
        if (!this.cmdLine.advance(1, o, EsmtpSession.cmdLineHit, this)) return;
      }
      if (!afterCr && isCommand && this.opt.bareLfCommand === 'log') this.bareLf(o);
      this.endCmdLine(o);
      return;
    }
    if (b === CR) {
      if (this.disp === Disp.PENDING) {
        if (this.tokLen === 0 && !this.lineCR) this.lineCR = true; // decided by the next byte
        else this.decideVerb(o, false);
      }
      if (this.state !== 'inspecting') return;
      if (isCommand && this.opt.lengthCountsCrlf) {
        if (!this.cmdLine.advance(1, o, EsmtpSession.cmdLineHit, this)) return;
      }
      return;
    }
    if (this.disp === Disp.PENDING) {
      if (b === SP || b === TAB) {
        this.decideVerb(o, false);
        if (this.state !== 'inspecting') return;
      } else {
        this.tok[this.tokLen++] = b;
        if (this.tokLen > MAX_VERB_LEN) {
          this.decideVerb(o + 1, false);
          if (this.state !== 'inspecting') return;
        }
        if (isCommand && !this.cmdLine.advance(1, o, EsmtpSession.cmdLineHit, this)) return;
        return;
      }
    }
    if (isCommand && !this.cmdLine.advance(1, o, EsmtpSession.cmdLineHit, this)) return;
    switch (this.disp) {
      case Disp.X:
        this.addRun(0, o, X, this.xRule, this.xRule === 'unknown-command' ? 'x-substitute' : 'mask');
        // BDAT's argument (chunk size) is still read from the original bytes
        if (this.argLen < this.arg.length) this.arg[this.argLen++] = b;
        break;
      case Disp.PASS:
      case Disp.MASKED: {
        let v = b;
        if (this.addr !== Addr.NONE) {
          v = this.addrByte(b, o);
          if (this.state !== 'inspecting') return;
        }
        if (this.argLen < this.arg.length) this.arg[this.argLen++] = v;
        break;
      }
      default:
        break;
    }
  }

  /** Judge the first token of the line; `end` is the offset just past the token's last byte. */
  private decideVerb(_end: number, atSegmentEnd: boolean): void {
    const verb = this.tokLen >= 4 && this.tokLen <= MAX_VERB_LEN ? lookupVerb(this.tok, 0, this.tokLen) : -1;
    this.verb = verb;
    let xReason: string | null = null;
    if (verb === -1) {
      // the token's text only when a verdict needs it (no string per passing command)
      const tokenText = bytesText(this.tok, 0, Math.min(this.tokLen, MAX_VERB_LEN), 16) + (this.tokLen > MAX_VERB_LEN ? '...' : '');
      xReason = this.lineCR
        ? 'line starts with a CR not followed by LF: not a supported command'
        : atSegmentEnd && this.opt.judging === 'segment'
          ? `"${tokenText}": line fragment is not a complete known verb within its segment`
          : `"${tokenText}": not a supported command`;
    } else if (verb === Verb.STARTTLS && !this.map.parameters.allowTls) {
      xReason = '"STARTTLS": not allowed without allow-tls';
    } else if (verb === Verb.BDAT) {
      xReason = '"BDAT": CHUNKING is not supported';
    }
    if (xReason !== null) {
      this.xLine(xReason);
      return;
    }
    this.disp = Disp.PASS;
    // match cmd verb (policy order), then the verb's own state effects.
    for (const m of this.byKind.get('cmd-verb') ?? []) {
      if (m.criterion.kind !== 'cmd-verb') continue;
      const name = verbName(verb as VerbId);
      const hit = m.criterion.verbs.some((v) => v.toUpperCase() === name) !== m.not;
      if (!hit) continue;
      const r = this.fire(m, 0, this.lineStart, `verb ${name}`);
      if (r === 'drop') return;
      if (r === 'mask' && this.disp === Disp.PASS) {
        this.emitFill(0, this.lineStart, this.tokLen, X, m.text, 'mask');
        this.disp = this.opt.cmdVerbMask === 'line' ? Disp.X : Disp.MASKED;
        this.xRule = m.text;
      }
    }
    if (this.disp !== Disp.PASS) return;
    switch (verb) {
      case Verb.MAIL:
        this.resetTransaction();
        this.addr = Addr.PRE;
        this.senderLen.reset();
        break;
      case Verb.RCPT: {
        this.addr = Addr.PRE;
        const ok = this.rcptCount.advance(1, this.lineStart, (m, off) =>
          this.fireKeep(m, 0, off, `RCPT #${this.rcptCount.value} in this ${this.opt.rcptCountScope}`),
        );
        if (!ok) return;
        for (const m of this.rcptCount.negated) {
          if (this.rcptCount.value <= gtOf(m) && !this.fireKeep(m, 0, this.lineStart, `RCPT #${this.rcptCount.value}`)) return;
        }
        break;
      }
      case Verb.RSET:
        this.resetTransaction();
        break;
      default:
        break;
    }
    this.addrLen = 0;
    this.addrBufLen = 0;
    this.domainLen = -1;
  }

  private xRule = 'unknown-command';

  /**
   * An empty command line (CR LF or LF alone) passes: no verb to judge, nothing to X (X substitution
   * keeps CR and LF; ADDENDUM B-4: the Telnet user's bare CR LF reaches the server unmodified), so
   * no verdict and no `match cmd verb`. It still awaits the server's reply (usually a 500).
   */
  private passEmptyLine(): void {
    this.disp = Disp.PASS;
    this.verb = -1;
    this.addrLen = 0;
    this.addrBufLen = 0;
    this.domainLen = -1;
  }

  /** X the line from its start: the token bytes seen so far now, the rest as it arrives. */
  private xLine(reason: string): void {
    this.disp = Disp.X;
    this.xRule = 'unknown-command';
    this.emitFill(0, this.lineStart, Math.min(this.tokLen, MAX_VERB_LEN + 1), X, 'unknown-command', 'x-substitute');
    this.sink.verdict({ dir: 0, offset: this.lineStart, rule: 'unknown-command', action: 'x-substitute', syslog: [], detail: reason });
  }

  private endCmdLine(o: number): void {
    const disp = this.disp;
    if (disp !== Disp.AUTHDATA && disp !== Disp.SKIP) {
      for (const m of this.cmdLine.negated) {
        if (this.cmdLine.value <= gtOf(m) && !this.fireKeep(m, 0, o, this.cmdLineDetail(m, true))) return;
      }
    }
    if (disp === Disp.PASS && (this.addr === Addr.BRACKET || this.addr === Addr.BARE)) {
      this.endAddress(o);
      if (this.state !== 'inspecting') return;
    }
    if (this.firstPipe >= 0) this.reportPipe();
    if (disp === Disp.SKIP) {
      // the rest of a line interrupted by a gap: not a command, no reply expected for it
      this.lineStarted = false;
      this.episodeCheck('resynchronised at the client\'s next line start after the server\'s reply', false, 0, o);
      return;
    }
    let pend: PendT = Pend.OTHER;
    if (disp === Disp.AUTHDATA) pend = Pend.AUTHDATA;
    else if (disp === Disp.X) {
      if (this.xLineVerbIs(STARTTLS_WORD, Verb.STARTTLS)) {
        pend = Pend.XSTARTTLS;
        this.xTlsAnonymous = false;
      } else if (this.xLineVerbIs(X_ANONYMOUSTLS_WORD, -1)) {
        // Exchange's STARTTLS between its transport servers: a 220 starts TLS just the same
        pend = Pend.XSTARTTLS;
        this.xTlsAnonymous = true;
      }
      else if (this.xLineVerbIs(XEXCH50_WORD, -1)) {
        // Exchange's XEXCH50 <blob size> <n>: the size of the blob a 354 would call for
        pend = Pend.XEXCH50;
        this.xexch50Size = this.xLineNumberAfter(XEXCH50_WORD.length);
      } else if (this.xLineVerbIs(TURN_WORD, -1) || this.xLineVerbIs(ATRN_WORD, -1)) pend = Pend.XTURN;
      else pend = Pend.XED;
    }
    else if (disp === Disp.PASS) {
      switch (this.verb) {
        case Verb.EHLO: pend = Pend.EHLO; break;
        case Verb.HELO: pend = Pend.HELO; break;
        case Verb.MAIL: pend = Pend.MAIL; this.declaredSize = this.parseSize(); break;
        case Verb.RCPT: pend = Pend.RCPT; break;
        case Verb.DATA: pend = Pend.DATA; break;
        case Verb.AUTH: pend = Pend.AUTH; break;
        case Verb.STARTTLS: pend = Pend.STARTTLS; break;
        case Verb.RSET: pend = Pend.RSET; break;
        case Verb.QUIT: pend = Pend.QUIT; break;
        case Verb.VRFY: pend = Pend.VRFY; break;
        default: break;
      }
    }
    // A line in progress when the server's 354 came is message text to the server: no reply for it.
    if (!this.enterDataAfterLine) this.push(pend);
    this.lineStarted = false;
    if (this.byCode && this.sFresh && modeChanging(pend) && this.mode === Mode.CMD && !this.cDesync && !this.enterDataAfterLine) {
      // No server byte since a server gap: the gap's bytes may hold this command's reply too (the
      // flow layer delivers a hole when it is known, before client bytes that came after its
      // start), and a lost 354/334/220 changes what the client's next bytes are.
      this.cDesync = true;
      this.cSinceGap = 0;
      if (this.epActive && this.epFrom[0] < 0) this.epFrom[0] = o + 1;
      if (this.epActive) this.epKept = 'a reply that changes the client\'s state (to DATA, AUTH or STARTTLS) may be lost: client bytes are not judged until the server\'s next reply';
      return;
    }
    // RFC 3030 2: BDAT only after CHUNKING was offered; a server that did not offer it rejects
    // BDAT and reads the chunk as commands, and so does the ASA, which does not know BDAT at all
    // (a BDAT whose verb was split over segments is X'd as a fragment, but the server, which
    // reads the stream, still takes its chunk as data: the same bytes, the same skip)
    if (disp === Disp.X && (this.opt.bdatChunk === 'opaque' || (this.opt.bdatChunk === 'offered' && this.chunking !== 0)) && this.xLineVerbIs(BDAT_WORD, Verb.BDAT)) {
      const size = this.xLineNumberAfter(BDAT_WORD.length);
      if (size > 0) {
        this.mode = Mode.OPAQUE;
        this.opaqueRemaining = size;
      }
    }
    if (this.enterDataAfterLine) {
      this.enterDataAfterLine = false;
      this.enterData();
    }
  }

  /** Byte k of the X'd line as sent: the token bytes seen before the decision, then the original bytes after it; CR past the end. */
  private xLineByte(k: number): number {
    return k < this.tokLen ? this.tok[k]! : k - this.tokLen < this.argLen ? this.arg[k - this.tokLen]! : CR;
  }

  /**
   * Was the X'd line the verb `word` (upper case; `id`: its table entry, -1 if none), judged whole
   * or X'd as a fragment of it (segment judging: `BD` + `AT 700 LAST` in the next segment)?
   */
  private xLineVerbIs(word: string, id: VerbId | -1): boolean {
    if (id !== -1 && this.verb === id) return true;
    if (this.verb !== -1) return false;
    const len = word.length;
    if (this.tokLen + this.argLen < len) return false;
    for (let k = 0; k < len; k++) {
      const b = this.xLineByte(k);
      if ((b >= 0x61 && b <= 0x7a ? b - 0x20 : b) !== word.charCodeAt(k)) return false;
    }
    const after = this.xLineByte(len);
    return after === SP || after === TAB || after === CR;
  }

  /** The decimal number after the first `from` bytes of the X'd line (blanks skipped), or -1. */
  private xLineNumberAfter(from: number): number {
    const total = this.tokLen + this.argLen;
    let k = from;
    while (k < total && (this.xLineByte(k) === SP || this.xLineByte(k) === TAB)) k++;
    let n = 0;
    let digits = 0;
    for (let b = this.xLineByte(k); k < total && b >= 0x30 && b <= 0x39 && digits < 12; b = this.xLineByte(++k)) n = n * 10 + (b - 0x30), digits++;
    return digits > 0 ? n : -1;
  }

  /**
   * A `gt` hit is judged as the limit is crossed, before the line ends: the line is longer than the
   * limit, and only its first value+1 bytes were counted (a 600-byte EHLO line is not "513").
   */
  private cmdLineDetail(m: EsmtpMatch, complete: boolean): string {
    const crlf = this.opt.lengthCountsCrlf ? ' (CR LF counted)' : '';
    if (complete) return `command line length ${this.cmdLine.value}${crlf} at line offset ${this.lineStart}`;
    return `command line longer than ${gtOf(m)} bytes${crlf} (judged when byte ${this.cmdLine.value} arrived, before the line ended) at line offset ${this.lineStart}`;
  }

  private parseSize(): number {
    // SIZE=n among the MAIL FROM parameters (RFC 1870), case-insensitive.
    const a = this.arg;
    for (let i = 0; i + 5 <= this.argLen; i++) {
      if (
        (i === 0 || a[i - 1] === SP) &&
        lower(a[i]!) === 0x73 && lower(a[i + 1]!) === 0x69 && lower(a[i + 2]!) === 0x7a && lower(a[i + 3]!) === 0x65 && a[i + 4] === 0x3d
      ) {
        let n = 0;
        let j = i + 5;
        let digits = 0;
        while (j < this.argLen && a[j]! >= 0x30 && a[j]! <= 0x39 && digits < 15) n = n * 10 + (a[j++]! - 0x30), digits++;
        return digits > 0 ? n : -1;
      }
    }
    return -1;
  }

  private resetTransaction(): void {
    if (this.opt.rcptCountScope === 'transaction') {
      this.rcptCount.reset();
      this.invalidRcpt.reset();
      this.invalidCodes?.clear();
      this.invalidOrder.length = 0;
    }
    this.declaredSize = -1;
  }

  // ------------------------------------------------------------- MAIL / RCPT address

  /** One argument byte of MAIL/RCPT; returns the byte as forwarded (a replaced pipe is a space). */
  private addrByte(b: number, o: number): number {
    switch (this.addr) {
      case Addr.PRE:
        if (b === 0x3a) this.addr = Addr.POSTCOLON;
        else if (b === 0x7c && this.opt.pipeScope === 'argument') return this.pipe(o, false);
        return b;
      case Addr.POSTCOLON:
        if (b === SP || b === TAB) return b;
        this.addrStart = o;
        if (b === 0x3c) {
          this.addr = Addr.BRACKET;
          return b;
        }
        this.addr = Addr.BARE;
        return this.addressChar(b, o);
      case Addr.BRACKET:
        if (b === 0x3e) {
          this.endAddress(o);
          if (this.state === 'inspecting') this.addr = Addr.PARAMS;
          return b;
        }
        return this.addressChar(b, o);
      case Addr.BARE:
        if (b === SP || b === TAB) {
          this.endAddress(o);
          if (this.state === 'inspecting') this.addr = Addr.PARAMS;
          return b;
        }
        return this.addressChar(b, o);
      case Addr.PARAMS:
        if (b === 0x7c && this.opt.pipeScope === 'argument') return this.pipe(o, false);
        return b;
      default:
        return b;
    }
  }

  private addressChar(b: number, o: number): number {
    this.addrLen++;
    if (this.addrLen === 1) this.addrLead = Lead.START;
    const lead = this.addrLead;
    // the next byte's place: an opening quote or a source route's ':' keep the mailbox start ahead
    if (lead === Lead.START) this.addrLead = b === 0x22 ? Lead.QUOTED : b === 0x40 ? Lead.ROUTE : Lead.NONE;
    else if (lead === Lead.QUOTED) this.addrLead = Lead.NONE;
    else if (lead === Lead.ROUTE && b === 0x3a) this.addrLead = Lead.START;
    if (this.verb === Verb.MAIL && this.senderLen.active) {
      const ok = this.senderLen.advance(1, o, EsmtpSession.senderHit, this);
      if (!ok) return b;
    }
    let v = b;
    if (this.specialSet[b] === 1 && this.map.parameters.specialCharacter && !this.specialFired) {
      this.specialFired = true;
      if (!this.specialCharacter(o, b)) return b;
    }
    if (b === 0x7c) v = this.pipe(o, true, lead);
    if (this.addrBufLen < this.addrBuf.length) this.addrBuf[this.addrBufLen++] = v;
    if (v === 0x40) this.domainLen = 0;
    else if (this.domainLen >= 0) {
      if (this.domainLen < MAX_DOMAIN) this.domainBuf[this.domainLen] = v;
      this.domainLen++;
    }
    return v;
  }

  /** A '|' in an address (or argument): signature → 108003 + drop; else → space + 108002. */
  private pipe(o: number, inAddress: boolean, lead: LeadT = Lead.NONE): number {
    const sig = this.opt.pipeSignature;
    const leading = inAddress && (lead === Lead.START || lead === Lead.QUOTED);
    const signature = sig === 'any' || (sig === 'leading' && leading);
    const where = inAddress ? PIPE_IN_ADDRESS : this.addr === Addr.PARAMS ? PIPE_IN_PARAMS : PIPE_BEFORE_ADDRESS;
    if (signature) {
      const address = this.pipeAddressText(o, where);
      const line = syslog108003(this.client, this.server, address, this.opt.syslog108003Wording);
      const verb = verbName(this.verb as VerbId);
      const place = where === PIPE_IN_ADDRESS
        ? leading
          ? `starting the ${verb} ${this.addrLen === 1 ? 'address' : lead === Lead.QUOTED ? 'address after its opening quote' : 'mailbox after its source route'}`
          : `in the ${verb} address`
        : `in ${pipePlace(where, verb)} (pipe-scope=argument; Mail Address: holds the address)`;
      this.terminate(0, o, 'dropped', 'pipe-signature', [line, this.line507003(0, 'dropped')], `'|' ${place} (pipe-signature=${sig})`);
      return 0x7c;
    }
    this.addRun(0, o, SP, 'pipe-in-address', 'replace');
    if (this.firstPipe < 0) this.firstPipe = o;
    this.pipeWhere |= where;
    return SP;
  }

  /**
   * 108003's "Mail Address:" (ASA-ESMTP.md 7.1): the whole address (the argument, for a pipe
   * outside it with pipe-scope=argument) -- what came before the '|', the '|', and the rest up to
   * the address's end ('>' or, bare, a blank) or the line's end. The connection is dropped at the
   * packet carrying the '|', so the ASA never sees bytes of a later segment: an address that goes on
   * in the next segment is logged as far as this segment carries it. Bounded by max-field-buffer
   * (and the syslog's 256 printable characters).
   */
  private pipeAddressText(o: number, where: number): string {
    const seg = this.cSeg;
    const at = o - this.cSegBase;
    // a '|' in an ESMTP parameter: the address is complete; before it: as far as this segment carries it
    if (where === PIPE_IN_PARAMS) return bytesText(this.addrBuf, 0, this.addrBufLen, this.addrBuf.length);
    if (where === PIPE_BEFORE_ADDRESS) return at >= 0 ? this.addressAhead(seg, at + 1) : '';
    const before = bytesText(this.addrBuf, 0, this.addrBufLen, this.addrBuf.length);
    let end = at + 1;
    const limit = Math.min(seg.length, end + Math.max(0, this.addrBuf.length - this.addrBufLen - 1));
    const bare = this.addr === Addr.BARE;
    while (end < limit) {
      const b = seg[end]!;
      if (b === CR || b === LF || b === 0x3e || (bare && (b === SP || b === TAB))) break;
      end++;
    }
    const rest = at >= 0 && at < seg.length ? bytesText(seg, at + 1, end, end - at) : '';
    return `${before}|${rest}`;
  }

  /**
   * The address of a MAIL/RCPT argument from `from` (before its ':') in this segment: after the
   * ':' and blanks, `<…>` or a bare address, as far as the segment carries it (bounded like addrBuf).
   */
  private addressAhead(seg: Buffer, from: number): string {
    let p = from;
    while (p < seg.length && seg[p] !== 0x3a && seg[p] !== CR && seg[p] !== LF) p++;
    if (p >= seg.length || seg[p] !== 0x3a) return '';
    p++;
    while (p < seg.length && (seg[p] === SP || seg[p] === TAB)) p++;
    const bracket = seg[p] === 0x3c;
    if (bracket) p++;
    const start = p;
    const limit = Math.min(seg.length, start + this.addrBuf.length);
    while (p < limit) {
      const b = seg[p]!;
      if (b === CR || b === LF || (bracket ? b === 0x3e : b === SP || b === TAB)) break;
      p++;
    }
    return bytesText(seg, start, p, this.addrBuf.length);
  }

  /**
   * 108002 for the line's replaced pipes. Its data field holds the address (ASA-ESMTP.md 7.1), as
   * forwarded (pipes as spaces), whatever pipe-scope looked at; a pipe outside the address
   * (pipe-scope=argument) is named in the verdict's detail.
   */
  private reportPipe(): void {
    const line = syslog108002(this.client.ip, this.server.ip, bytesText(this.addrBuf, 0, this.addrBufLen));
    const verb = verbName(this.verb as VerbId);
    const places: string[] = [];
    if (this.pipeWhere & PIPE_IN_ADDRESS) places.push(`the ${verb} address`);
    const outside = this.pipeWhere & (PIPE_BEFORE_ADDRESS | PIPE_IN_PARAMS);
    if (outside) places.push(pipePlace(outside, verb));
    this.sink.verdict({
      dir: 0,
      offset: this.firstPipe,
      rule: 'pipe-in-address',
      action: 'replace',
      syslog: [line],
      detail: `'|' replaced by a space in ${places.join(' and in ')}${outside ? ' (pipe-scope=argument; the syslog data field holds the address)' : ''}`,
    });
    this.firstPipe = -1;
    this.pipeWhere = 0;
  }

  /** special-character parameter; returns false when the connection was dropped. */
  private specialCharacter(o: number, b: number): boolean {
    const sc = this.map.parameters.specialCharacter;
    if (!sc) return true;
    this.countParameter('special-character');
    const info = `special-character: Special character 0x${b.toString(16).padStart(2, '0')} found in mail address`;
    if (sc.action === 'drop-connection') {
      const sys = sc.log ? [syslog108004('ESMTP Parameter', 'Dropped connection for', 'Request', this.client, this.server, info)] : [];
      sys.push(this.line507003(0, 'dropped'));
      this.terminate(0, o, 'dropped', 'special-character', sys, info);
      return false;
    }
    this.sink.verdict({ dir: 0, offset: o, rule: 'special-character', action: 'log', syslog: [syslog108005('ESMTP Parameter', 'Request', this.client, this.server, info)], detail: info });
    return true;
  }

  private endAddress(o: number): void {
    if (this.verb === Verb.MAIL) {
      for (const m of this.senderLen.negated) {
        if (this.addrLen <= gtOf(m) && !this.fireKeep(m, 0, o, `sender address length ${this.addrLen}`)) return;
      }
      for (const m of this.byKind.get('sender-address') ?? []) {
        if (m.criterion.kind !== 'sender-address') continue;
        const hit = m.criterion.matcher.test(this.addrBuf, 0, this.addrBufLen) !== m.not;
        if (hit && !this.fireKeep(m, 0, o, `sender address "${bytesText(this.addrBuf, 0, this.addrBufLen, 120)}"`)) return;
      }
    } else if (this.verb === Verb.RCPT) {
      this.mailRelay(o);
    }
  }

  /**
   * `mail-relay DOMAIN`: the recipient's domain (after its last '@') vs the local domain. A
   * recipient without '@' (`<postmaster>`, RFC 5321 4.5.1: must be accepted) is a local mailbox:
   * no action. A domain over 255 bytes (RFC 5321 4.5.3.1.2) is not a valid domain, so it is not
   * the local one either: relay. The domain was tracked as the address streamed through, so an
   * address longer than max-field-buffer is judged on its real domain.
   */
  private mailRelay(o: number): void {
    const mr = this.map.parameters.mailRelay;
    if (!mr || this.addrLen === 0 || this.domainLen < 0) return;
    const kept = Math.min(this.domainLen, MAX_DOMAIN);
    const domain = this.domainBuf.toString('latin1', 0, kept).toLowerCase();
    const local = mr.domain.toLowerCase();
    const tooLong = this.domainLen > MAX_DOMAIN;
    const isLocal = !tooLong && (domain === local || (this.opt.mailRelaySubdomains && domain.endsWith('.' + local)));
    if (isLocal) return;
    this.countParameter('mail-relay');
    const info = 'mail-relay: No Mail Relay allowed';
    const shown = tooLong
      ? `recipient domain of ${this.domainLen} bytes ("${bytesText(this.domainBuf, 0, kept, 60)}"; over RFC 5321's 255, not a valid domain)`
      : `recipient domain "${domain}"`;
    const detail = `${shown} is not the local domain "${mr.domain}"`;
    if (mr.action === 'drop-connection') {
      const sys = [syslog108004('ESMTP Parameter', 'Dropped connection for', 'Request', this.client, this.server, info), this.line507003(0, 'dropped')];
      this.terminate(0, o, 'dropped', 'mail-relay', sys, detail);
      return;
    }
    this.sink.verdict({ dir: 0, offset: o, rule: 'mail-relay', action: 'log', syslog: [syslog108005('ESMTP Parameter', 'Request', this.client, this.server, info)], detail });
  }

  // ------------------------------------------------------------- DATA

  private enterData(): void {
    this.mode = Mode.DATA;
    this.inHeaders = true;
    this.topEntity = true;
    this.dlStarted = false;
    this.dlSkip = false;
    this.dlPendingCr = false;
    this.dlPrevCrlf = true;
    this.dDesync = false;
    this.fieldState = 0;
    this.holdC = -1;
    this.entityBoundary = null;
    this.entityFilenameChecked = false;
    this.boundaries.length = 0;
    this.hdrTotal.reset();
    this.hdrLine.reset();
    this.hdrFieldStart = -1;
    this.hdrFieldOrphan = false;
    this.toCount.reset();
    this.bodyTotal.reset();
    this.maxHdrLine = 0;
    this.maxBodyLine = 0;
    this.msgSize = 0;
  }

  private get lineMeter(): Meter {
    return this.inHeaders ? this.hdrLine : this.bodyLine;
  }
  private get totalMeter(): Meter {
    return this.inHeaders ? this.hdrTotal : this.bodyTotal;
  }

  /** Message bytes from i; returns the index after what was consumed. */
  private dataBytes(data: Buffer, i: number, base: number): number {
    if (!this.dlStarted && !this.dlPendingCr && !this.inHeaders && !this.partHeaders) {
      const j = this.bodyFast(data, i);
      if (j !== i) return j;
    }
    return this.dataLine(data, i, base);
  }

  /**
   * Body lines scanned in place, without per-line work, while nothing can happen on them: no
   * line reaches the first `body line length` threshold, the body total crosses none, no line
   * starts with '.' (stuffing / end of data) or '--' (a MIME boundary, once one is known).
   * lastIndexOf jumps a whole threshold's worth of bytes at a time: if an LF lies within N bytes
   * of a line start, every line in between is at most N bytes long. Stops at a line start (or
   * the segment's trailing partial line) and leaves that line to dataLine(), the exact path; the
   * result is identical to running dataLine() on every line (property-tested).
   */
  private bodyFast(data: Buffer, i: number): number {
    const n = data.length;
    const lm = this.bodyLine;
    const tm = this.bodyTotal;
    lm.reset();
    const room = lm.untilCross(); // a line whose measured length reaches `room` crosses
    const crlfCounted = this.opt.lengthCountsCrlf;
    const perLine = lm.negated.length > 0; // `match not body line length` needs every line's length
    // Bytes of a line, LF included, that can never reach `room`: the line's measured length is at
    // most its span minus the LF (content) or its span (content + CR LF).
    const window = room === Infinity ? n : crlfCounted ? room - 1 : room;
    const bounds = this.boundaries.length > 0;
    let special = this.nextSpecial(data, i, bounds);
    let p = i;
    let size = this.msgSize;
    let maxLine = this.maxBodyLine;
    while (p < n) {
      if (p > special) special = this.nextSpecial(data, p, bounds);
      if (p === special + 1 || (p === i && (data[p] === 0x2e || (bounds && data[p] === 0x2d)))) break;
      if (!perLine) {
        let e = p + window - 1;
        if (e > special) e = special;
        if (e >= n) e = n - 1;
        const q = data.lastIndexOf(LF, e);
        if (q < p) break; // a long or unfinished line: the exact path measures it
        const add = q + 1 - p;
        if (tm.crosses(add)) break;
        tm.value += add;
        size += add;
        p = q + 1;
        continue;
      }
      const lf = data.indexOf(LF, p);
      if (lf < 0) break;
      const ce = lf > p && data[lf - 1] === CR ? lf - 1 : lf;
      const len = ce - p;
      const add = lf + 1 - p;
      if ((crlfCounted ? add : len) >= room || tm.crosses(add)) break;
      tm.value += add;
      size += add;
      if (len > maxLine) maxLine = len;
      p = lf + 1;
    }
    this.msgSize = size;
    this.maxBodyLine = maxLine;
    // p > i: whole lines were consumed; the last one's LF is at p - 1 (a CR before it, inside that line, makes CR LF)
    if (p > i) this.dlPrevCrlf = p - 1 > i && data[p - 2] === CR;
    return p;
  }

  /** Offset of the next LF that is followed by '.' (or by '-' when boundaries are known), or a huge value. */
  private nextSpecial(data: Buffer, from: number, bounds: boolean): number {
    const lo = from > 0 ? from - 1 : 0;
    let a = lfThen(data, lo, 0x2e, LF_DOT);
    if (a < 0) a = Number.MAX_SAFE_INTEGER;
    if (bounds) {
      const b = lfThen(data, lo, 0x2d, LF_DASH);
      if (b >= 0 && b < a) a = b;
    }
    return a;
  }

  /** One message line (or the rest of the segment) through the exact path. */
  private dataLine(data: Buffer, i: number, base: number): number {
    const n = data.length;
    if (!this.dlStarted) {
      this.dlStarted = true;
      this.dlStart = base + i;
      this.dlFirst = true;
      this.dlDot = false;
      this.dlContent = 0;
      this.dlPendingCr = false;
      this.headLen = 0;
      // header-line-length=unfolded: a continuation line goes on measuring its field (content() decides)
      if (!this.inHeaders || this.opt.headerLineLength !== 'unfolded') this.lineMeter.reset();
    }
    if (this.dlFirst) {
      this.dlFirst = false;
      if (data[i] === 0x2e) {
        // dot-stuffing: the leading dot is transparency, not message content (RFC 5321 4.5.2)
        this.dlDot = true;
        return i + 1;
      }
    }
    let heldCr = false;
    if (this.dlPendingCr) {
      this.dlPendingCr = false;
      if (data[i] === LF) heldCr = true;
      // the CR that ended the previous segment was content after all
      else if (!this.dlSkip && !this.content(data, i, i, base, 1)) return n;
    }
    let lf = data.indexOf(LF, i);
    if (lf < 0) lf = n;
    let contentEnd = lf;
    let crs = 0;
    if (lf < n) {
      if (lf > i && data[lf - 1] === CR) (contentEnd = lf - 1), (crs = 1);
      else if (heldCr) crs = 1;
    } else if (lf > i && data[lf - 1] === CR) {
      contentEnd = lf - 1;
      this.dlPendingCr = true;
    }
    if (contentEnd > i && !this.dlSkip) {
      if (!this.content(data, i, contentEnd, base, 0)) return n;
    }
    if (lf === n) return n;
    const prevCrlf = this.dlPrevCrlf;
    this.dlPrevCrlf = crs === 1;
    if (!this.dlSkip && this.dlDot && this.dlContent === 0) {
      if (this.opt.endOfData === 'lf' || (prevCrlf && crs === 1)) {
        // CRLF.CRLF: the terminating dot line is not message content
        this.dlStarted = false;
        this.endMessage(base + lf);
        return lf + 1;
      }
      // a '.' line with a bare LF on either side (<LF>.<LF>, <CR><LF>.<LF>, <LF>.<CR><LF>) does
      // not end the message (end-of-data=crlf): unstuffed, it is an empty line of the message
      this.dlDot = false;
    }
    // terminator: CR (if any) and LF
    if (!this.dlSkip && !this.terminator(base + lf - crs, crs + 1)) return n;
    this.endDataLine(base + lf);
    return lf + 1;
  }

  /**
   * DATA bytes after a gap: nothing is judged; the end of data (a line that is just ".") is looked
   * for once a line start is known again (after an LF seen since the gap).
   */
  private dataDesyncBytes(data: Buffer, i: number, base: number): number {
    const n = data.length;
    const strict = this.opt.endOfData === 'crlf';
    while (i < n) {
      if (this.dPos === 0) {
        // to the next line end; with end-of-data=crlf only a CR LF starts a possible dot line
        const lf = data.indexOf(LF, i);
        if (lf < 0) {
          this.dCr = data[n - 1] === CR;
          return n;
        }
        const crBefore = lf > i ? data[lf - 1] === CR : this.dCr;
        this.dCr = false;
        if (!strict || crBefore) this.dPos = 1;
        i = lf + 1;
        continue;
      }
      const b = data[i]!;
      if (this.dPos === 1) {
        if (b !== 0x2e) {
          this.dPos = 0;
          continue;
        }
        this.dPos = 2;
      } else if (this.dPos === 2) {
        if (b === CR) this.dPos = 3;
        else if (b === LF && !strict) return this.desyncEnd(i, base);
        else {
          this.dPos = 0;
          continue;
        }
      } else {
        // dPos 3: '.' CR seen
        if (b === LF) return this.desyncEnd(i, base);
        this.dPos = 0;
        this.dCr = true;
        continue;
      }
      i++;
    }
    return n;
  }

  /** The end of data found after a DATA gap, at the LF at i. */
  private desyncEnd(i: number, base: number): number {
    this.dDesync = false;
    this.endMessageUninspected();
    this.cAtLineStart = true;
    this.episodeCheck('resynchronised at the end of data (CRLF.CRLF)', false, 0, base + i);
    return i + 1;
  }

  /** The message ended while it was not inspected (after a gap): back to commands, no end checks. */
  private endMessageUninspected(): void {
    this.holdC = -1;
    this.partHeaders = false;
    this.mode = Mode.CMD;
    this.lineStarted = false;
    this.push(Pend.ENDDATA);
    this.resetTransaction();
  }

  /** Content bytes [i, end) of the current line (or `extra` virtual bytes for a held CR). */
  private content(data: Buffer, i: number, end: number, base: number, extra: number): boolean {
    const len = end - i + extra;
    const first = base + i - extra;
    // line head: only MIME boundary detection reads it (body lines, once a boundary is known)
    if (this.headLen < LINE_HEAD && this.boundaries.length > 0 && !this.inHeaders && !this.partHeaders) {
      if (extra) this.head[this.headLen++] = CR;
      const take = Math.min(LINE_HEAD - this.headLen, end - i);
      data.copy(this.head, this.headLen, i, i + take);
      this.headLen += take;
    }
    if (this.inHeaders && this.dlContent === 0 && this.opt.headerLineLength === 'unfolded') {
      // a line not starting with WSP starts a new field (RFC 5322 2.2.3 unfolding)
      const b0 = extra ? CR : data[i]!;
      if (b0 !== SP && b0 !== TAB) {
        this.hdrLine.reset();
        this.hdrFieldStart = this.dlStart;
        this.hdrFieldOrphan = false;
      } else if (this.hdrFieldStart < 0) {
        // the header block starts with a continuation line: it is measured from its own start
        this.hdrFieldStart = this.dlStart;
        this.hdrFieldOrphan = true;
      }
    }
    if (this.inHeaders || this.partHeaders) {
      if (!this.headerContent(data, i, end, base, extra)) return false;
    }
    this.dlContent += len;
    this.msgSize += len;
    if (this.inHeaders) this.maxHdrLine = Math.max(this.maxHdrLine, this.opt.headerLineLength === 'unfolded' ? this.hdrLine.value + len : this.dlContent);
    else this.maxBodyLine = Math.max(this.maxBodyLine, this.dlContent);
    return this.advanceBoth(len, first);
  }

  /** Advance the line and total meters together so their matches fire in stream-offset order. */
  private advanceBoth(len: number, first: number): boolean {
    const lm = this.lineMeter;
    const tm = this.totalMeter;
    let done = 0;
    while (done < len) {
      const step = Math.min(len - done, lm.untilCross(), tm.untilCross());
      const at = first + done;
      if (!lm.advance(step, at, EsmtpSession.dataLineHit, this)) return false;
      if (!tm.advance(step, at, EsmtpSession.dataTotalHit, this)) return false;
      done += step;
    }
    return true;
  }

  /**
   * "2 invalid recipients (450, 550)": the count and the reply codes it counted (with
   * invalid-recipient-replies=4xx-5xx they differ), in reply order; past INVALID_CODES_LISTED each
   * code once with how often ("550 x101").
   */
  private invalidDetail(): string {
    const n = this.invalidRcpt.value;
    const all = [...(this.invalidCodes ?? new Map<number, number>())];
    const counted = all.reduce((sum, [, k]) => sum + k, 0);
    const codes = counted <= INVALID_CODES_LISTED ? this.invalidOrder.map(String) : all.map(([c, k]) => (k > 1 ? `${c} x${k}` : String(c)));
    return `${n} invalid recipient${n === 1 ? '' : 's'} (${codes.join(', ')})`;
  }

  private dataLineDetail(m: EsmtpMatch): string {
    if (this.inHeaders && this.opt.headerLineLength === 'unfolded') {
      return `header field longer than ${gtOf(m)} bytes unfolded (RFC 5322 2.2.3: folding CR LF removed, CR LF not counted), field at stream offset ${this.hdrFieldStart}${this.hdrFieldOrphan ? ' (the header block starts with a continuation line, no field name before it: measured from that line)' : ''}`;
    }
    return `${this.inHeaders ? 'header' : 'body'} line longer than ${gtOf(m)} bytes${this.opt.lengthCountsCrlf ? ' (CR LF counted)' : ''}, line at stream offset ${this.dlStart}`;
  }

  private terminator(first: number, count: number): boolean {
    this.msgSize += count;
    // the empty line ending the header block belongs to neither header nor body length
    const countsTotal = !(this.inHeaders && this.dlContent === 0 && !this.dlDot);
    // an unfolded field's CR LF: those before continuations are removed by unfolding, and whether
    // one is the field's last is known only at the next line, so none is counted
    const countsLine = this.opt.lengthCountsCrlf && !(this.inHeaders && this.opt.headerLineLength === 'unfolded');
    if (countsLine && countsTotal) return this.advanceBoth(count, first);
    if (!countsTotal && !countsLine) return true;
    if (countsLine) {
      return this.lineMeter.advance(count, first, EsmtpSession.dataLineHit, this);
    }
    return this.totalMeter.advance(count, first, EsmtpSession.dataTotalHit, this);
  }

  // part headers are parsed like header fields but measured as body
  private partHeaders = false;

  /** Header-field tracking on content bytes: names, To: count, collected MIME fields. */
  private headerContent(data: Buffer, i: number, end: number, base: number, extra: number): boolean {
    const atLineStart = this.dlContent === 0;
    let j = i;
    if (atLineStart) {
      const b0 = extra ? CR : data[i]!;
      if (b0 === SP || b0 === TAB) {
        // folded continuation: stays with the current field
        if (this.fieldState === 1) this.fieldState = 0;
      } else {
        if (!this.finishField(base + i - extra)) return false;
        this.fieldState = 1;
        this.nameLen = 0;
        this.fieldStart = this.dlStart;
        this.holdC = this.dlStart;
      }
    }
    if (this.fieldState === 1) {
      for (; j < end; j++) {
        const b = data[j]!;
        if (b === 0x3a) {
          j++;
          if (!this.fieldNamed(base + j - 1)) return false;
          break;
        }
        if (this.nameLen >= MAX_HEADER_NAME) {
          this.fieldState = 0;
          this.holdC = -1;
          break;
        }
        this.nameBuf[this.nameLen++] = lower(b);
      }
    }
    if (this.fieldState === 2 && j < end) {
      const take = Math.min(this.fieldBuf.length - this.fieldLen, end - j);
      data.copy(this.fieldBuf, this.fieldLen, j, j + take);
      this.fieldLen += take;
    }
    return true;
  }

  private nameIs(s: string): boolean {
    if (this.nameLen !== s.length) return false;
    for (let k = 0; k < s.length; k++) if (this.nameBuf[k] !== s.charCodeAt(k)) return false;
    return true;
  }

  private fieldNamed(colonOffset: number): boolean {
    this.fieldState = 0;
    this.holdC = -1;
    // RFC 5322 4.5.x obs-optional: white space may stand between the field name and its colon
    while (this.nameLen > 0 && (this.nameBuf[this.nameLen - 1] === SP || this.nameBuf[this.nameLen - 1] === TAB)) this.nameLen--;
    if (this.inHeaders && this.topEntity && this.nameIs('to')) {
      const ok = this.toCount.advance(1, colonOffset, (m, off) => this.fireKeep(m, 0, off, `To: header field #${this.toCount.value}`));
      if (!ok) return false;
    }
    for (let k = 0; k < INTERESTING_FIELDS.length; k++) {
      if (this.nameIs(INTERESTING_FIELDS[k]!)) {
        this.fieldState = 2;
        this.fieldKind = k;
        this.fieldLen = 0;
        this.holdC = this.fieldStart;
        return true;
      }
    }
    return true;
  }

  /** The collected field is complete (a new field, the empty line or end of data started). */
  private finishField(_at: number): boolean {
    if (this.fieldState !== 2) {
      this.fieldState = 0;
      this.holdC = -1;
      return true;
    }
    this.fieldState = 0;
    const text = this.fieldBuf.toString('latin1', 0, this.fieldLen);
    const off = this.fieldStart;
    const kind = INTERESTING_FIELDS[this.fieldKind];
    const f = parseField(text);
    let ok = true;
    if (kind === 'content-type') {
      const mt = mediaType(f);
      const mtBytes = Buffer.from(mt, 'latin1');
      for (const m of this.byKind.get('mime-filetype') ?? []) {
        if (m.criterion.kind !== 'mime-filetype') continue;
        if ((m.criterion.matcher.test(mtBytes, 0, mtBytes.length) !== m.not) && !this.fireKeep(m, 0, off, `MIME type "${mt}"`)) {
          ok = false;
          break;
        }
      }
      const boundary = f.params.get('boundary');
      if (ok && mt.toLowerCase().startsWith('multipart/') && boundary) this.entityBoundary = Buffer.from(boundary, 'latin1');
      const name = f.params.get('name');
      if (ok && name !== undefined) ok = this.checkFilename(name, text, 'name', off, 'Content-Type name');
    } else if (kind === 'content-disposition') {
      const fn = f.params.get('filename');
      if (fn !== undefined) ok = this.checkFilename(fn, text, 'filename', off, 'Content-Disposition filename');
    } else if (kind === 'content-transfer-encoding') {
      const cls = encodingClass(f.value);
      for (const m of this.byKind.get('mime-encoding') ?? []) {
        if (m.criterion.kind !== 'mime-encoding') continue;
        const hit = m.criterion.encodings.some((e) => e.toLowerCase() === cls) !== m.not;
        if (hit && !this.fireKeep(m, 0, off, `Content-Transfer-Encoding ${f.value} (${cls})`)) {
          ok = false;
          break;
        }
      }
    }
    this.holdC = -1;
    return ok;
  }

  /**
   * `mime filename length` on the entity's first file name. `rfc2231Name` is the parameter with
   * RFC 2231 decoded (parseField); mime-filename says what else is (not) decoded.
   */
  private checkFilename(rfc2231Name: string, fieldText: string, param: string, off: number, where: string): boolean {
    if (this.entityFilenameChecked) return true;
    this.entityFilenameChecked = true;
    const ms = this.byKind.get('mime-filename-length');
    if (!ms || ms.length === 0) return true;
    const mode = this.opt.mimeFilename;
    const name = mode === 'decoded' ? decodeEncodedWords(rfc2231Name) : mode === 'raw' ? (parseField(fieldText, true).params.get(param) ?? rfc2231Name) : rfc2231Name;
    let written = -1; // the length as written, said in the detail when decoding changed it
    for (const m of ms) {
      if (m.criterion.kind !== 'mime-filename-length') continue;
      const hit = name.length > m.criterion.gt !== m.not;
      if (!hit) continue;
      if (written < 0) written = mode === 'raw' ? name.length : (parseField(fieldText, true).params.get(param) ?? name).length;
      const how = written !== name.length ? ` (${written} as written; mime-filename=${mode})` : '';
      if (!this.fireKeep(m, 0, off, `${where} of ${name.length} bytes${how}`)) return false;
    }
    return true;
  }

  private endDataLine(lfOffset: number): void {
    const wasSkip = this.dlSkip;
    this.dlStarted = false;
    this.dlSkip = false;
    if (wasSkip) return;
    const content = this.dlContent;
    // CRLF.CRLF: a line that is just the (stuffing) dot ends the message.
    if (this.dlDot && content === 0) {
      this.endMessage(lfOffset);
      return;
    }
    if (this.inHeaders || this.partHeaders) {
      if (content === 0) {
        if (!this.finishField(lfOffset)) return;
        this.holdC = -1;
        if (this.inHeaders) {
          if (!this.endHeaderBlock(lfOffset)) return;
          this.inHeaders = false;
        }
        this.partHeaders = false;
        if (this.entityBoundary && this.boundaries.length < MAX_BOUNDARIES) this.boundaries.push(this.entityBoundary);
        this.entityBoundary = null;
      }
      return;
    }
    // body line: a MIME boundary?
    if (this.boundaries.length > 0 && this.headLen >= 2 && this.head[0] === 0x2d && this.head[1] === 0x2d) {
      for (let k = this.boundaries.length - 1; k >= 0; k--) {
        const bnd = this.boundaries[k]!;
        const close = this.isBoundary(bnd);
        if (close === 0) continue;
        this.boundaries.length = close === 2 ? k : k + 1;
        if (close === 1) {
          this.partHeaders = true;
          this.topEntity = false;
          this.entityBoundary = null;
          this.entityFilenameChecked = false;
        }
        break;
      }
    }
  }

  /** 0 no, 1 delimiter, 2 close-delimiter ("--b--"), trailing whitespace allowed. */
  private isBoundary(bnd: Buffer): 0 | 1 | 2 {
    const h = this.head;
    const L = bnd.length;
    if (this.headLen < 2 + L || this.dlContent > LINE_HEAD) return 0;
    if (h.compare(bnd, 0, L, 2, 2 + L) !== 0) return 0;
    let p = 2 + L;
    let close = false;
    if (p + 1 < this.headLen && h[p] === 0x2d && h[p + 1] === 0x2d) (close = true), (p += 2);
    for (; p < this.headLen; p++) if (h[p] !== SP && h[p] !== TAB) return 0;
    return close ? 2 : 1;
  }

  private endHeaderBlock(o: number): boolean {
    for (const m of this.hdrTotal.negated) if (this.hdrTotal.value <= gtOf(m) && !this.fireKeep(m, 0, o, `header length ${this.hdrTotal.value}`)) return false;
    for (const m of this.hdrLine.negated) if (this.maxHdrLine <= gtOf(m) && !this.fireKeep(m, 0, o, `longest header line ${this.maxHdrLine}`)) return false;
    for (const m of this.toCount.negated) if (this.toCount.value <= gtOf(m) && !this.fireKeep(m, 0, o, `${this.toCount.value} To: fields`)) return false;
    return true;
  }

  private endMessage(o: number): void {
    if (!this.finishField(o)) return;
    if (this.inHeaders && !this.endHeaderBlock(o)) return;
    for (const m of this.bodyTotal.negated) if (this.bodyTotal.value <= gtOf(m) && !this.fireKeep(m, 0, o, `body length ${this.bodyTotal.value}`)) return;
    for (const m of this.bodyLine.negated) if (this.maxBodyLine <= gtOf(m) && !this.fireKeep(m, 0, o, `longest body line ${this.maxBodyLine}`)) return;
    // message size without the final ".\r\n"
    if (this.opt.sizeCheck && this.declaredSize >= 0 && this.msgSize > this.declaredSize) {
      this.sink.verdict({
        dir: 0, offset: o, rule: 'size-violation', action: 'log',
        syslog: [syslog108006(this.client, this.server, this.declaredSize, this.msgSize)],
        detail: `message of ${this.msgSize} bytes exceeds the declared SIZE=${this.declaredSize}`,
      });
    }
    this.holdC = -1;
    this.partHeaders = false;
    this.mode = Mode.CMD;
    this.lineStarted = false;
    this.push(Pend.ENDDATA);
    this.resetTransaction();
  }

  // ===================================================================== server

  private serverBytes(data: Buffer, i: number, base: number): void {
    const n = data.length;
    if (this.sFresh) {
      // right after a gap: a segment that starts with a reply code starts a line (servers write
      // whole replies); otherwise the line's start was lost and we skip to its end
      this.sFresh = false;
      if (this.sSkip && startsReplyLine(data, i)) {
        this.sSkip = false;
        this.sLineStarted = false;
      }
    } else if (this.sLineStarted && endsOverlongLine(this.opt, base + i - this.sLineStart, data, i)) {
      this.endLongLine(base + i);
    }
    for (; i < n && this.state === 'inspecting'; i++) this.serverByte(data[i]!, base + i);
  }

  /**
   * An over-long line still without its LF when the server's next segment starts with a reply
   * code: servers write replies whole, so the line ended with its segment (RFC 5321 4.5.3.1.5:
   * 512 octets; the rest of the line is accepted, not the next reply).
   */
  private endLongLine(o: number): void {
    const len = o - this.sLineStart;
    if (this.kwPhase) this.decideKeyword(o);
    if (this.state !== 'inspecting') return;
    this.note(1, this.sLineStart, 'server-anomaly', longLineDetail(len, this.opt.replyLineLimit));
    this.endServerLine(o);
  }

  private serverByte(b: number, o: number): void {
    if (!this.sLineStarted) {
      this.sLineStarted = true;
      this.sLineStart = o;
      this.sPos = 0;
      this.sMaskRest = 0;
      this.kwPhase = false;
      this.sHold = 0;
      if (!this.inReply && !this.sSkip) {
        this.inReply = true;
        this.replyLine = 0;
        this.replyCode = -1;
        this.replyInDesync = this.sDesync;
        this.replyKind = this.sDesync ? Pend.OTHER : this.greetingDone ? this.peek() : Pend.GREETING;
        if (this.replyKind === Pend.GREETING && this.map.parameters.maskBanner) {
          this.countParameter('mask-banner');
          this.sink.verdict({ dir: 1, offset: o, rule: 'mask-banner', action: 'mask', syslog: [], detail: `server greeting masked (banner-mask=${this.opt.bannerMask})` });
        }
      } else if (this.inReply) this.replyLine++;
    }
    if (b === LF) {
      if (this.kwPhase) this.decideKeyword(o);
      if (this.state !== 'inspecting') return;
      this.endServerLine(o);
      return;
    }
    if (this.sSkip) return;
    const pos = this.sPos++;
    if (pos < 4) {
      this.sPrefix[pos] = b;
      if (pos === 3 && this.inReply && !this.lineCode(b)) return;
    }
    if (this.replyKind === Pend.GREETING) {
      if (this.map.parameters.maskBanner && b !== CR) {
        if (this.sHold === pos && pos < 3 && this.replyLine > 0 && this.replyCode >= 0 && this.opt.replyCodeChange === 'split' && isDigit(b)) {
          this.sHold++; // may be the code of the next reply: decided at the line's 4th byte
          return;
        }
        if (this.sHold > 0) this.flushHold();
        const keep = (this.replyLine === 0 && pos < 4) || (this.opt.bannerMask === 'B' && (b === 0x32 || b === 0x30));
        if (!keep) this.addRun(1, o, STAR, 'mask-banner', 'mask');
      }
      return;
    }
    if (this.replyKind !== Pend.EHLO || this.replyLine === 0 || this.sPrefix[0] !== 0x32) return;
    if (pos === 4) {
      this.kwPhase = true;
      this.kwStart = o;
      this.kwLen = 0;
    }
    if (this.kwPhase) {
      if (b === SP || b === 0x3d || b === CR) {
        this.decideKeyword(o);
        if (this.state !== 'inspecting') return;
      } else {
        this.kw[this.kwLen++] = b;
        if (this.kwLen > MAX_KEYWORD) this.decideKeyword(o + 1);
        return;
      }
    }
    if (this.sMaskRest === 2 && (b === SP || b === 0x3d || b === CR)) this.sMaskRest = 0;
    if (this.sMaskRest !== 0 && b !== CR) this.addRun(1, o, X, this.sMaskRule, 'mask');
  }

  /**
   * The 4th byte of a reply line: the first line's code is remembered; a later line with another
   * code (RFC 5321 4.2.1: one code per reply) starts the next reply. Returns false if that ended
   * the inspection.
   */
  private lineCode(b: number): boolean {
    const code = replyCodeAt(this.sPrefix, 0);
    if (this.replyLine === 0) {
      this.replyCode = code;
      // The client bytes this reply answers were never captured (a client gap, or a capture of the
      // server's side only): the queue is empty, yet the ASA saw the command. A multi-line 250
      // answers EHLO (RFC 5321 4.1.1.1; pairTargets), so its keywords are masked as the ASA masks them.
      // Only while no EHLO/HELO was answered: after one, a multi-line 250 answers EXPN (a mailing
      // list's members, one per line) far more likely than a second EHLO, and masking its lines
      // as keywords (`250-XXXXXXXX…`) is an edit no ASA makes.
      const lostCommand = this.cDesync && this.qLen === 0 && !this.helloAnswered;
      if ((this.byCode || lostCommand) && !this.replyInDesync && this.replyKind !== Pend.GREETING) {
        // the queue's head is a guess: EHLO keywords are looked for only in a multi-line 250 that
        // an EHLO awaits (pairByCode pairs it with that EHLO when it completes) or that answers a lost command
        const ehlo = code === 250 && b === 0x2d && (lostCommand || this.queued(Pend.EHLO));
        this.replyKind = ehlo ? Pend.EHLO : this.replyKind === Pend.EHLO ? Pend.OTHER : this.replyKind;
      }
      return true;
    }
    return startsNextReply(this.opt, this.replyCode, code, b) ? this.splitReply(code) : true;
  }

  /** The reply in progress ended without a final line; the current line (code `code`) starts the next. */
  private splitReply(code: number): boolean {
    const prev = this.replyCode;
    this.note(1, this.sLineStart, 'server-anomaly', codeChangeDetail(prev, code));
    this.sHold = 0; // held greeting digits belong to the new reply: not masked
    this.inReply = false;
    this.replyComplete(prev, this.sLineStart);
    if (this.state !== 'inspecting') return false;
    this.inReply = true;
    this.replyLine = 0;
    this.replyCode = code;
    this.replyInDesync = this.sDesync;
    this.replyKind = this.sDesync ? Pend.OTHER : this.greetingDone ? this.peek() : Pend.GREETING;
    return true;
  }

  /** Masks the greeting continuation digits held back by serverByte (they were not a new code). */
  private flushHold(): void {
    const n = this.sHold;
    this.sHold = 0;
    for (let k = 0; k < n; k++) {
      const c = this.sPrefix[k]!;
      if (!(this.opt.bannerMask === 'B' && (c === 0x32 || c === 0x30))) this.addRun(1, this.sLineStart + k, STAR, 'mask-banner', 'mask');
    }
  }

  private decideKeyword(_o: number): void {
    this.kwPhase = false;
    if (isEhloKeyword(this.kw, 0, this.kwLen, 'CHUNKING')) this.ehloChunking = true;
    const cls = classifyEhloKeyword(this.kw, 0, Math.min(this.kwLen, MAX_KEYWORD));
    if (cls === STARTTLS_CLASS) {
      if (!this.map.parameters.allowTls && this.kwLen === 8) {
        this.sink.edit({ dir: 1, offset: this.kwStart, bytes: Buffer.from('XXXXXXXA', 'latin1'), rule: 'allow-tls', action: 'mask' });
        this.sink.verdict({ dir: 1, offset: this.kwStart, rule: 'allow-tls', action: 'mask', syslog: [], detail: 'EHLO keyword STARTTLS -> XXXXXXXA (no allow-tls)' });
      }
      return;
    }
    let masked: EsmtpMatch | null = null;
    for (const m of this.byKind.get('ehlo-reply-parameter') ?? []) {
      if (m.criterion.kind !== 'ehlo-reply-parameter') continue;
      const params = this.ehloParams.get(m) ?? m.criterion.parameters.map(normaliseEhloParameter);
      const hit = params.includes(cls) !== m.not;
      if (!hit) continue;
      // the keyword's text only when a line fires (no string per passing keyword)
      const keywordText = bytesText(this.kw, 0, Math.min(this.kwLen, MAX_KEYWORD), 40);
      const r = this.fire(m, 1, this.kwStart, `EHLO keyword ${keywordText} (${cls})`);
      if (r === 'drop') return;
      if (r === 'mask' && !masked) masked = m;
    }
    if (!masked) return;
    this.emitFill(1, this.kwStart, this.kwLen, X, masked.text, 'mask');
    this.sMaskRule = masked.text;
    this.sMaskRest = this.opt.ehloMask === 'line' ? 1 : this.kwLen > MAX_KEYWORD ? 2 : 0;
  }

  private endServerLine(o: number): void {
    this.sLineStarted = false;
    this.sMaskRest = 0;
    if (this.sSkip) {
      this.sSkip = false;
      return;
    }
    if (!this.inReply) return;
    const p = this.sPrefix;
    const len = this.sPos;
    // a 3-byte line ("334" LF) with a new code also starts the next reply
    if (len === 3 && this.replyLine > 0 && !this.lineCode(LF)) return;
    if (this.sHold > 0) this.flushHold();
    const digits = len >= 3 && p[0]! >= 0x30 && p[0]! <= 0x39 && p[1]! >= 0x30 && p[1]! <= 0x39 && p[2]! >= 0x30 && p[2]! <= 0x39;
    if (!digits) {
      // Not a reply line ("unexpected transition by the SMTP server", B-5: no action).
      if (this.replyKind !== Pend.GREETING || !this.map.parameters.maskBanner) {
        if (this.replyLine === 0) this.inReply = false;
        if (this.opt.unexpectedTransition === 'log') this.unexpectedTransition(this.sLineStart, NO_REPLY_CODE_DETAIL);
        else this.note(1, this.sLineStart, 'server-anomaly', NO_REPLY_CODE_DETAIL);
        return;
      }
    }
    const last = len < 4 || (len >= 4 && p[3] === SP) || (len === 4 && p[3] === CR) || !digits;
    if (!last) return;
    this.inReply = false;
    const code = digits ? (p[0]! - 0x30) * 100 + (p[1]! - 0x30) * 10 + (p[2]! - 0x30) : 0;
    this.replyComplete(code, o);
  }

  private replyComplete(code: number, o: number): void {
    let kind = this.replyKind;
    const resync = this.replyInDesync;
    this.replyInDesync = false;
    this.pairGuessed = false;
    if (resync) this.sDesync = false; // the first reply seen whole after a server gap
    // after a gap the capture, not the server, lost the command a reply answers: not a transition
    if (this.opt.unexpectedTransition === 'log' && kind !== Pend.GREETING && !resync && !this.byCode && !this.cDesync && !this.dDesync) {
      if (this.qLen === 0) this.unexpectedTransition(o, `server reply ${code} while no command awaited a reply`);
      else if (code === 354 && kind !== Pend.DATA && kind !== Pend.XEXCH50) this.unexpectedTransition(o, 'server reply 354 (start mail input) to a command other than DATA: ignored, the state stays command');
    }
    if (kind === Pend.GREETING && !resync) {
      this.greetingDone = true;
      this.chunking = 0; // nothing offered before an EHLO reply
    }
    else if (this.byCode) kind = this.pairByCode(code, this.replyLine > 0);
    else if (this.qLen > 0) this.pop();
    if (this.mode === Mode.DATA && this.dDesync && kind !== Pend.GREETING) {
      // After a gap inside DATA, a server reply means the message ended (Zeek's resync rule);
      // the client waited for it, so its next byte starts a command line.
      this.dDesync = false;
      this.endMessageUninspected();
      this.clearQueue();
      this.cAtLineStart = true;
      this.episodeCheck(`resynchronised at the server's ${code} reply, taken as the end of the message`, false, 1, o);
      return;
    }
    if (this.cDesync) {
      this.cDesync = false;
      // Nothing sent since the gap: the server answered the line the gap cut, so it had ended.
      if (this.cAtLineStart || this.cSinceGap === 0) this.lineStarted = false;
      else {
        // the client's line in progress lost its start: skip to its end
        this.lineStarted = true;
        this.lineStart = this.ends[0];
        this.disp = Disp.SKIP;
        this.tokLen = 0;
        this.verb = -1;
      }
    }
    const chunkingSeen = this.ehloChunking;
    this.ehloChunking = false;
    switch (kind) {
      case Pend.EHLO:
        if (code >= 200 && code <= 299 && !this.pairGuessed) this.chunking = chunkingSeen ? 1 : 0;
        if (code >= 200 && code <= 299) this.helloAnswered = true;
        break;
      case Pend.HELO:
        // HELO: no service extensions (RFC 5321 4.1.1.1), so no CHUNKING
        if (code >= 200 && code <= 299 && !this.pairGuessed) this.chunking = 0;
        if (code >= 200 && code <= 299) this.helloAnswered = true;
        break;
      case Pend.DATA:
        if (code === 354) {
          this.dropAfterData(o);
          if (this.mode === Mode.CMD && !this.lineStarted) this.enterData();
          else if (this.mode === Mode.CMD && this.disp === Disp.SKIP) {
            // the message starts somewhere after the interrupted line: look only for its end
            this.enterData();
            this.dataDesync();
          } else if (this.mode === Mode.CMD) this.enterDataAfterLine = true;
        }
        break;
      case Pend.AUTH:
      case Pend.AUTHDATA:
        if (code === 334) this.saslResponseNext();
        break;
      case Pend.STARTTLS:
        if (code === 220 && this.map.parameters.allowTls) {
          this.countParameter('allow-tls');
          const sys = this.map.parameters.allowTls.log ? [syslog108007(this.client, this.server)] : [];
          this.sink.verdict({ dir: 1, offset: o, rule: 'allow-tls', action: 'passthrough', syslog: sys, detail: 'server answered 220 to STARTTLS: the rest of the connection passes uninspected' });
          this.flushRun();
          this.episodeCheck('inspection ended (TLS started)', true);
          this.state = 'passthrough';
        }
        break;
      case Pend.XSTARTTLS:
        if (code >= 200 && code <= 299 && this.opt.starttlsDivergence === 'stop') {
          this.flushRun();
          this.episodeCheck('inspection ended (TLS started)', true);
          this.sink.verdict({
            dir: 1, offset: o, rule: 'starttls-divergence', action: 'note', syslog: [],
            detail: this.xTlsAnonymous
              ? `server accepted X-ANONYMOUSTLS (${code}), Exchange's STARTTLS, that the ASA X's (a private extension; allow-tls does not cover it): through the ASA the client gets a 5xx instead and continues in plaintext or gives up; the TLS that follows in the capture is not inspected`
              : `server accepted STARTTLS (${code}) that the ASA would have X'd (no allow-tls): through the ASA the client gets a 5xx instead and continues in plaintext or gives up; the TLS that follows in the capture is not inspected`,
          });
          this.state = 'diverged';
        }
        break;
      case Pend.XTURN:
        if (code >= 200 && code <= 299 && this.opt.turnDivergence === 'stop' && !this.pairGuessed) {
          this.flushRun();
          this.episodeCheck('inspection ended (roles reversed)', true);
          this.sink.verdict({
            dir: 1, offset: o, rule: 'x-divergence', action: 'note', syslog: [],
            detail: `server answered ${code} to TURN/ATRN, which the ASA X's: the roles reverse (RFC 821 TURN, RFC 2645 ATRN) and the server sends mail to the client over this connection; through the ASA the server answers 5xx and nothing reverses, so the rest of the capture is not inspected`,
          });
          this.state = 'diverged';
        } else this.xedAccepted(code, o);
        break;
      case Pend.XEXCH50:
        this.xedAccepted(code, o);
        if (code === 354) this.skipXexch50Blob(o);
        break;
      case Pend.XED:
        this.xedAccepted(code, o);
        // A 334 to an X'd line (Exchange's X-EXPS, an AUTH split inside its verb): the server is in
        // a SASL exchange and reads the client's next line as its response, a line that through
        // the ASA (X's, a 5xx) is never sent; judged as a command, a Kerberos token of 1800 bytes
        // was X'd and dropped the connection (cmd line length gt 512). It is an AUTH line, as
        // after any 334.
        if (code === 334 && !this.pairGuessed) this.saslResponseNext();
        break;
      case Pend.RCPT:
        if (code >= 500 && code <= 599 || (code >= 400 && code <= 499 && this.opt.invalidRecipientReplies === '4xx-5xx')) {
          const codes = (this.invalidCodes ??= new Map());
          codes.set(code, (codes.get(code) ?? 0) + 1);
          if (this.invalidOrder.length < INVALID_CODES_LISTED) this.invalidOrder.push(code);
          this.invalidRcpt.advance(1, o, (m, off) => this.fireKeep(m, 1, off, this.invalidDetail()));
          if (this.state !== 'inspecting') return;
          for (const m of this.invalidRcpt.negated) {
            if (this.invalidRcpt.value <= gtOf(m) && !this.fireKeep(m, 1, o, this.invalidDetail())) return;
          }
        }
        break;
      default:
        break;
    }
    if (this.state === 'inspecting') this.episodeCheck(`resynchronised at the server's ${code} reply`, false, 1, o);
  }

  /**
   * After a 334 the server reads the client's next line as a SASL response (RFC 4954 4). If the
   * client has sent nothing since the command, that is the next line to come: not judged. If it
   * pipelined lines after it (or began one), the response is the first of them, already judged as a
   * command when it came, as the ASA saw it before the 334 (like lines pipelined after DATA); it
   * answers the 334 and becomes the exchange's line, and no later line is exempt. Before, the
   * exemption went to the next line to *begin*: after `AUTH LOGIN` + `NOOP` pipelined, a 700-byte
   * unknown command sent later passed un-X'd and unmeasured though the server read it as a command.
   */
  private saslResponseNext(): void {
    if (this.qLen > 0) this.q[this.qHead] = Pend.AUTHDATA;
    else if (!this.lineStarted) this.authExpect = true;
  }

  /**
   * The server received X's through the ASA and would reject them; a success reply here (a
   * Telnet-typed EHLO answered 250 with its keywords, say) is a path the ASA does not allow. Said
   * once per connection; inspection goes on.
   */
  private xedAccepted(code: number, o: number): void {
    if (code < 200 || code > 399 || this.xedAcceptedNoted || this.pairGuessed) return;
    this.xedAcceptedNoted = true;
    this.sink.verdict({
      dir: 1, offset: o, rule: 'x-divergence', action: 'note', syslog: [],
      detail: `server answered ${code} to a command the ASA X'd: through the ASA the server gets X's and answers 5xx, so this reply (and what depends on it, e.g. EHLO keywords it offers) is not what the client would see`,
    });
  }

  /**
   * A 354 to an X'd XEXCH50 (Exchange: "354 Send binary data"): the client's next bytes are the
   * binary blob the command announced, exactly its size, with no line structure (Snort 3's smtp
   * inspector frames it the same way). Through the ASA the server got X's and no blob is ever
   * sent, so judging it as command lines would report what cannot happen: X's over binary bytes
   * and, at 513 bytes without LF, a `cmd line length gt 512` drop. Skipped only when the client
   * sent nothing after the XEXCH50 line (it waits for the 354, as Exchange does).
   */
  private skipXexch50Blob(o: number): void {
    const size = this.xexch50Size;
    this.xexch50Size = -1;
    if (this.opt.xexch50Blob !== 'skipped' || size <= 0 || this.pairGuessed || this.cDesync) return;
    if (this.mode !== Mode.CMD || this.lineStarted || this.qLen > 0) return;
    this.mode = Mode.OPAQUE;
    this.opaqueRemaining = size;
    this.note(1, o, 'xexch50-blob', `server answered 354 to XEXCH50 (X'd: through the ASA it would answer 5xx and no blob follows): the ${size}-byte blob the command announced passes uninspected (xexch50-blob=skipped)`);
  }

  /**
   * Which pending command a reply answers while the queue's alignment is uncertain (byCode): the
   * replies lost in a server gap answered a prefix of the queue, so a reply whose code answers one
   * kind of command only (pairTargets) answers the first such command queued, and every command
   * before it was answered in the gap; they all leave the queue and alignment is back. A reply
   * with an ambiguous code (2xx/4xx/5xx) is paired with the queue's head, by guess.
   * A distinctive code with no such command queued answers one the capture lost (a client gap):
   * it is read by its code alone (kindByCode), or is the rest of a lost greeting (220).
   */
  private pairByCode(code: number, multiLine: boolean): PendT {
    const targets = pairTargets(code, multiLine);
    if (targets !== 0) {
      for (let k = 0; k < this.qLen; k++) {
        const e = this.q[(this.qHead + k) % this.q.length]! as PendT;
        if ((targets & bit(e)) === 0) continue;
        this.qHead = (this.qHead + k + 1) % this.q.length;
        this.qLen -= k + 1;
        this.byCode = false;
        this.greetingLost = false;
        return e;
      }
      if (code === 220 && this.greetingLost) {
        this.greetingLost = false;
        return Pend.OTHER;
      }
      if (code === 354 || code === 334 || code === 220) return this.kindByCode(code);
    }
    this.greetingLost = false;
    if (this.qLen === 0) return Pend.OTHER;
    const head = this.peek();
    this.pop();
    if (this.qLen === 0) this.byCode = false; // nothing left that the gap may have answered
    this.pairGuessed = true;
    return head;
  }

  /**
   * A reply answering a command the capture lost is read by its code: only these codes change the
   * client's state, and each answers one command only (RFC 5321 / 4954 / 3207).
   */
  private kindByCode(code: number): PendT {
    if (code === 354) return Pend.DATA;
    if (code === 334) return Pend.AUTH;
    if (code === 220) return this.map.parameters.allowTls ? Pend.STARTTLS : Pend.XSTARTTLS;
    return Pend.OTHER;
  }

  // ===================================================================== queue

  /**
   * The server's 354 to DATA: lines the client sent after DATA and before this reply (a client
   * breaking RFC 2920 3.1, which makes DATA the last command of a pipelined group) were judged as
   * commands (ADDENDUM B-pipelining), but the server reads them as message text, so it answers
   * none of them: they leave the queue, and the server's next reply answers the end of data.
   * (Had DATA been refused, they stay: the server answers each as a command.)
   */
  private dropAfterData(o: number): void {
    const lines = this.qLen + (this.mode === Mode.CMD && this.lineStarted ? 1 : 0);
    if (lines === 0) return;
    this.qHead = 0;
    this.qLen = 0;
    this.note(1, o, 'pipelining-after-data', `${lines} client line(s) sent after DATA before the server's 354 (RFC 2920 3.1: DATA ends a pipelined group) were judged as commands, but the server takes them as message text and answers none of them`);
  }

  private push(k: PendT): void {
    const cap = this.q.length;
    if (this.qLen === cap) {
      this.qHead = (this.qHead + 1) % cap;
      this.qLen--;
      this.note(0, this.lineStart, 'pipelining-limit', `more than ${cap} commands await a reply; the oldest is forgotten`);
    }
    this.q[(this.qHead + this.qLen) % cap] = k;
    this.qLen++;
  }

  private queued(k: PendT): boolean {
    for (let i = 0; i < this.qLen; i++) if (this.q[(this.qHead + i) % this.q.length] === k) return true;
    return false;
  }

  private peek(): PendT {
    return this.qLen > 0 ? (this.q[this.qHead]! as PendT) : Pend.OTHER;
  }

  private pop(): void {
    if (this.qLen === 0) return;
    this.qHead = (this.qHead + 1) % this.q.length;
    this.qLen--;
  }

  // ===================================================================== actions

  /** fire() for criteria whose only possible effect is log/drop; returns false if the session ended. */
  private fireKeep(m: EsmtpMatch, dir: Direction, offset: number, detail: string): boolean {
    this.fire(m, dir, offset, detail);
    return this.state === 'inspecting';
  }

  /**
   * Apply one matched policy line: syslog in the documented order (108004 before the 507003 of
   * the drop/reset), counters once per packet, and the session state change for drop/reset.
   */
  private fire(m: EsmtpMatch, dir: Direction, offset: number, detail: string): 'drop' | 'mask' | 'none' {
    if (this.matchCounted[m.classId] !== this.segSerial) {
      this.matchCounted[m.classId] = this.segSerial;
      this.counters.countMatch(this.ctx.policyMap, this.ctx.className, this.map, m.classId);
    }
    const rr: ReqResp = dir === 0 ? 'Request' : 'Response';
    const [src, dst] = dir === 0 ? [this.client, this.server] : [this.server, this.client];
    const info = matchedClass(m.classId, m.criterionText, m.not);
    const a = m.actions;
    switch (a.primary) {
      case 'drop-connection': {
        const sys = a.log ? [syslog108004('ESMTP Classification', 'Dropped connection for', rr, src, dst, info)] : [];
        sys.push(this.line507003(dir, 'dropped'));
        this.terminate(dir, offset, 'dropped', m.text, sys, detail);
        return 'drop';
      }
      case 'reset': {
        const sys = a.log ? [syslog108004('ESMTP Classification', 'Reset connection for', rr, src, dst, info)] : [];
        sys.push(this.line507003(dir, 'reset'));
        this.terminate(dir, offset, 'reset', m.text, sys, detail);
        return 'drop';
      }
      case 'mask': {
        const sys = a.log ? [syslog108004('ESMTP Classification', 'Masked header flags for', rr, src, dst, info)] : [];
        this.sink.verdict({ dir, offset, rule: m.text, action: 'mask', syslog: sys, detail });
        return 'mask';
      }
      default:
        break;
    }
    if (a.log) {
      this.sink.verdict({ dir, offset, rule: m.text, action: 'log', syslog: [syslog108005('ESMTP Classification', rr, src, dst, info)], detail });
    }
    if (a.rateLimit !== null && !this.rateLimit(m, a.rateLimit, dir, offset, detail)) return 'drop';
    if (!a.log && a.rateLimit === null) {
      this.sink.verdict({ dir, offset, rule: m.text, action: 'note', syslog: [], detail: `${detail}; the match line has no action (${actionText(m) || 'none'})` });
    }
    return 'none';
  }

  /** `rate-limit N`: false when the event exceeded the rate and the connection was cut. */
  private rateLimit(m: EsmtpMatch, rate: number, dir: Direction, offset: number, detail: string): boolean {
    if (Number.isNaN(this.now)) {
      this.sink.verdict({ dir, offset, rule: m.text, action: 'rate-limit', syslog: [], detail: `${detail}; rate-limit ${rate} not enforced (no capture time given to the engine)` });
      return true;
    }
    if (this.counters.takeRateToken(this.ctx.policyMap, this.ctx.className, this.map, m.classId, rate, this.now)) return true;
    const what = `${detail}; rate-limit ${rate} exceeded (more than ${rate} matching event(s) per second in class ${this.ctx.className})`;
    if (this.opt.rateLimitExceeded === 'log') {
      this.sink.verdict({ dir, offset, rule: m.text, action: 'rate-limit', syslog: [], detail: `${what}: the ASA would drop this message; reported only (rate-limit-exceeded=log)` });
      return true;
    }
    this.terminate(dir, offset, 'dropped', m.text, [], `${what}: the ASA drops this message; its retransmission is not in the capture, so the connection is cut here (rate-limit-exceeded=drop-connection; no ASA syslog is documented for it)`);
    return false;
  }

  private line507003(dir: Direction, kind: 'dropped' | 'reset'): string {
    const [src, dst] = dir === 0 ? [this.client, this.server] : [this.server, this.client];
    return syslog507003(src, dst, kind === 'reset' ? 'inspector drop reset' : 'inspector disconnected, dropped packet', this.opt.syslog507003Level);
  }

  private terminate(dir: Direction, offset: number, st: 'dropped' | 'reset', rule: string, syslog: string[], detail: string): void {
    this.flushRun();
    this.episodeCheck('inspection ended before the streams were resynchronised', true);
    this.sink.verdict({ dir, offset, rule, action: st === 'reset' ? 'reset' : 'drop-connection', syslog, detail });
    this.state = st;
    this.dropOffset = offset;
    this.dropDirection = dir;
  }

  private countParameter(name: ParameterName): void {
    this.counters.countParameter(this.ctx.policyMap, this.ctx.className, this.map, name);
  }

  /**
   * unexpected-transition=log: the server did what no pending command allows ("unexpected
   * transition by the SMTP server", ASA-ESMTP.md 2.2). No syslog is documented for it, so the
   * verdict has none; bounded with the notes.
   */
  /**
   * bare-lf-command=log: a command line ended by LF without CR ("incorrect command termination",
   * ASA-ESMTP.md 2.2). The line was judged and forwarded as any other; no syslog is documented, so
   * the verdict has none; bounded with the notes.
   */
  private bareLf(o: number): void {
    if (this.notes >= 16) return;
    this.notes++;
    const what = this.verb >= 0 ? `${verbName(this.verb as VerbId)} command line` : this.tokLen === 0 ? 'empty command line' : 'command line';
    this.sink.verdict({ dir: 0, offset: this.lineStart, rule: 'bare-lf-command', action: 'log', syslog: [], detail: `${what} ended by a bare LF, not CR LF (incorrect command termination; forwarded unchanged)` });
  }

  private unexpectedTransition(offset: number, detail: string): void {
    if (this.notes >= 16) return;
    this.notes++;
    this.sink.verdict({ dir: 1, offset, rule: 'unexpected-transition', action: 'log', syslog: [], detail });
  }

  private note(dir: Direction, offset: number, rule: string, detail: string): void {
    // bounded: a hostile stream must not flood the verdict log
    if (this.notes >= 16) return;
    this.notes++;
    this.sink.verdict({ dir, offset, rule, action: 'note', syslog: [], detail });
  }

  // ===================================================================== edits

  private addRun(dir: Direction, o: number, fill: number, rule: string, action: VerdictAction): void {
    if (this.runStart >= 0 && this.runDir === dir && this.runFill === fill && this.runRule === rule && this.runStart + this.runLen === o) {
      this.runLen++;
      return;
    }
    this.flushRun();
    this.runDir = dir;
    this.runStart = o;
    this.runLen = 1;
    this.runFill = fill;
    this.runRule = rule;
    this.runAction = action;
  }

  private flushRun(): void {
    if (this.runStart < 0) return;
    const e: Edit = { dir: this.runDir, offset: this.runStart, bytes: fillBytes(this.runFill, this.runLen), rule: this.runRule, action: this.runAction };
    this.runStart = -1;
    this.runLen = 0;
    this.sink.edit(e);
  }

  private emitFill(dir: Direction, offset: number, len: number, fill: number, rule: string, action: VerdictAction): void {
    if (len <= 0) return;
    this.flushRun();
    this.sink.edit({ dir, offset, bytes: fillBytes(fill, len), rule, action });
  }
}
