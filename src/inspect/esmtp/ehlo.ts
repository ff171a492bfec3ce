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
  // Compared as bytes against the known names of this length (no string per keyword).
  const candidates = BY_LENGTH[len];
  if (candidates === undefined) return 'others';
  for (const [word, cls] of candidates) {
    let k = 0;
    for (; k < len; k++) {
      const b = buf[start + k]!;
      if ((b >= 0x61 && b <= 0x7a ? b - 0x20 : b) !== word.charCodeAt(k)) break;
    }
    if (k === len) return cls;
  }
  return 'others';
}

/** Upper-case wire keywords (STARTTLS included) with their class, grouped by length. */
const BY_LENGTH: (readonly (readonly [string, string])[] | undefined)[] = (() => {
  const out: [string, string][][] = [];
  const all: [string, string][] = [['STARTTLS', STARTTLS_CLASS], ...EHLO_KNOWN_KEYWORDS];
  for (const [word, cls] of all) (out[word.length] ??= []).push([word, cls]);
  return out;
})();

/** Whether keyword bytes [start, end) are `word` (upper case), compared case-insensitively as bytes. */
export function isEhloKeyword(buf: Uint8Array, start: number, end: number, word: string): boolean {
  if (end - start !== word.length) return false;
  for (let k = 0; k < word.length; k++) {
    const b = buf[start + k]!;
    if ((b >= 0x61 && b <= 0x7a ? b - 0x20 : b) !== word.charCodeAt(k)) return false;
  }
  return true;
}
