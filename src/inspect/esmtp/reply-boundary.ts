/**
 * Where a server reply line and a reply end, beyond "at the LF" and "at `NNN `": the rules of the
 * engine options `reply-line-limit`, `long-reply-line` and `reply-code-change`
 * (native-notes/engine-options.md, "Reply boundaries"). One copy, used by the engine
 * (esmtp/session.ts) and by diagnose's transcript (src/diagnose/transcript.ts), so both pair the
 * same replies with the same commands. Also the wording of the engine's `server-anomaly` notes and
 * the reader that tells them apart (diagnose turns each into a caveat that says what happened).
 */
import type { EngineOptions } from '../options.js';

export type ReplyBoundaryOptions = Pick<EngineOptions, 'replyLineLimit' | 'longReplyLine' | 'replyCodeChange'>;

const SP = 0x20;
const DASH = 0x2d;
const CR = 0x0d;
const LF = 0x0a;

export function isDigit(b: number): boolean {
  return b >= 0x30 && b <= 0x39;
}

/** The byte after a reply code that makes it one: SP (final line), '-' (more lines), CR or LF (a bare code). */
export function isReplyCodeEnd(b: number): boolean {
  return b === SP || b === DASH || b === CR || b === LF;
}

/** The 3-digit code at `i` (e.g. 250), or -1. */
export function replyCodeAt(p: Uint8Array, i: number): number {
  const a = p[i] ?? 0;
  const b = p[i + 1] ?? 0;
  const c = p[i + 2] ?? 0;
  return isDigit(a) && isDigit(b) && isDigit(c) ? (a - 0x30) * 100 + (b - 0x30) * 10 + (c - 0x30) : -1;
}

/** Does a reply line start at data[i]: `DDD` + SP, '-', CR or LF (all four bytes in this segment)? */
export function startsReplyLine(data: Uint8Array, i: number): boolean {
  if (i + 3 >= data.length) return false;
  return replyCodeAt(data, i) >= 0 && isReplyCodeEnd(data[i + 3]!);
}

/**
 * `long-reply-line=segment`: a server line of `lineLen` octets so far, still without its LF, ends
 * where the server's next segment (data, from i) starts, if it is over the limit and that segment
 * starts with a reply code. Call at the start of each server segment while a line is open.
 */
export function endsOverlongLine(opt: ReplyBoundaryOptions, lineLen: number, data: Uint8Array, i: number): boolean {
  return opt.longReplyLine === 'segment' && lineLen >= opt.replyLineLimit && startsReplyLine(data, i);
}

/**
 * `reply-code-change=split`: a later line of a multi-line reply whose code (`code`, followed by
 * `sep`) differs from the reply's first code starts the next reply. -1 codes never split.
 */
export function startsNextReply(opt: ReplyBoundaryOptions, replyCode: number, code: number, sep: number): boolean {
  return opt.replyCodeChange === 'split' && code >= 0 && replyCode >= 0 && code !== replyCode && isReplyCodeEnd(sep);
}

// --- the engine's server-anomaly notes -------------------------------------------------------

export type ServerAnomaly =
  | { kind: 'no-reply-code' }
  | { kind: 'long-line'; length: number; limit: number }
  | { kind: 'code-change'; replyCode: number; nextCode: number };

export const NO_REPLY_CODE_DETAIL = 'server line without a reply code ignored';

export function longLineDetail(len: number, limit: number): string {
  return `server line of ${len} bytes without LF, over the ${limit}-octet reply line limit: taken as ended with its segment, as the next segment starts with a reply code (long-reply-line=segment)`;
}

export function codeChangeDetail(prev: number, code: number): string {
  return `multi-line ${prev} reply ended without a final line: the next line's code ${code} starts a new reply (RFC 5321 4.2.1: every line of a reply has the same code; reply-code-change=split)`;
}

const LONG_LINE_RE = /^server line of (\d+) bytes without LF, over the (\d+)-octet reply line limit/;
const CODE_CHANGE_RE = /^multi-line (\d{3}) reply ended without a final line: the next line's code (\d{3}) starts a new reply/;

/** Which rule wrote a `server-anomaly` note and its numbers, from its detail; null for a wording this file did not write. */
export function readServerAnomaly(detail: string): ServerAnomaly | null {
  if (detail === NO_REPLY_CODE_DETAIL) return { kind: 'no-reply-code' };
  let m = LONG_LINE_RE.exec(detail);
  if (m) return { kind: 'long-line', length: Number(m[1]), limit: Number(m[2]) };
  m = CODE_CHANGE_RE.exec(detail);
  if (m) return { kind: 'code-change', replyCode: Number(m[1]), nextCode: Number(m[2]) };
  return null;
}
