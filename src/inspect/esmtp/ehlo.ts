/**
 * EHLO reply keyword classes for `match ehlo-reply-parameter` (ADDENDUM B-2). The known list is
 * UNVERIFIED (recalled, not confirmed by a Cisco page); every other keyword is `others`.
 * STARTTLS is governed by `allow-tls`, never by ehlo-reply-parameter (D: XXXXXXXA on default map).
 */

/** Keyword as it appears on the wire (upper-cased) → the ASA parameter name. */
export const EHLO_KNOWN_KEYWORDS: ReadonlyMap<string, string> = new Map([
  ['8BITMIME', '8bitmime'],
  ['AUTH', 'auth'],
  ['BINARYMIME', 'binarymime'],
  ['CHECKPOINT', 'checkpoint'],
  ['DSN', 'dsn'],
  ['ENHANCEDSTATUSCODES', 'ecode'],
  ['ETRN', 'etrn'],
  ['PIPELINING', 'pipelining'],
  ['SIZE', 'size'],
  ['VRFY', 'vrfy'],
]);

/** Aliases accepted in `match ehlo-reply-parameter NAME`. */
const PARAM_ALIASES: ReadonlyMap<string, string> = new Map([
  ['checkpnt', 'checkpoint'],
  ['enhancedstatuscodes', 'ecode'],
]);

export function normaliseEhloParameter(name: string): string {
  const l = name.toLowerCase();
  return PARAM_ALIASES.get(l) ?? l;
}

export const STARTTLS_CLASS = 'starttls';

/** Classify keyword bytes [start, end) (already upper/lower mixed): parameter name, 'starttls' or 'others'. */
export function classifyEhloKeyword(buf: Uint8Array, start: number, end: number): string {
  const len = end - start;
  if (len <= 0 || len > 19) return 'others';
  let s = '';
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    s += String.fromCharCode(b >= 0x61 && b <= 0x7a ? b - 0x20 : b);
  }
  if (s === 'STARTTLS') return STARTTLS_CLASS;
  return EHLO_KNOWN_KEYWORDS.get(s) ?? 'others';
}
