/**
 * MIME header field parsing for `match mime …`: Content-Type (media type, boundary, name),
 * Content-Disposition (filename, incl. RFC 2231 `filename*=` and `filename*0*=` continuations),
 * Content-Transfer-Encoding. Works on the unfolded field value of one header (latin1 text):
 * fields are few per message, so this is off the per-byte hot path.
 */

export interface ParsedField {
  /** The value before the first ';' (trimmed), as written. */
  value: string;
  /** Parameters, lower-cased names, RFC 2231 sections assembled and percent-decoded. */
  params: Map<string, string>;
}

/**
 * Split on ';' outside quoted strings and comments (comments dropped). Kept text is taken as
 * slices of runs, not appended char by char.
 */
function splitParams(s: string): string[] {
  const parts: string[] = [];
  let cur = '';
  let run = 0; // start of the current run of kept characters
  let inQuote = false;
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (inQuote) {
      if (c === 0x5c && i + 1 < s.length) i++; // backslash: it and the next char kept
      else if (c === 0x22) inQuote = false;
    } else if (c === 0x22) {
      inQuote = true;
    } else if (c === 0x28 || (c === 0x29 && depth > 0) || depth > 0) {
      // a comment's parentheses and content: dropped
      if (c === 0x28) depth++;
      else if (c === 0x29) depth--;
      if (i > run) cur += s.slice(run, i);
      run = i + 1;
    } else if (c === 0x3b) {
      if (i > run) cur += s.slice(run, i);
      parts.push(cur);
      cur = '';
      run = i + 1;
    }
  }
  if (s.length > run) cur += s.slice(run);
  parts.push(cur);
  return parts;
}

function unquote(v: string): string {
  const t = v.trim();
  if (t.length >= 2 && t.startsWith('"')) {
    const end = t.endsWith('"') ? t.length - 1 : t.length;
    return t.slice(1, end).replace(/\\(.)/g, '$1');
  }
  if (t.startsWith('"')) return t.slice(1).replace(/\\(.)/g, '$1');
  return t;
}

/** %XX decoding to a latin1 string (one char per octet, so .length counts octets). */
function percentDecode(s: string): string {
  return s.replace(/%([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/**
 * Parse one field. `asWritten`: RFC 2231 sections are still assembled in order, but neither
 * percent-decoded nor stripped of their charset'language' prefix (mime-filename=raw).
 */
export function parseField(raw: string, asWritten = false): ParsedField {
  const parts = splitParams(raw);
  const value = (parts[0] ?? '').trim();
  // Common case: no RFC 2231 section or extended name (no '*' in any name): the first value of
  // each name wins, as the general path below decides too, without its regex and sections.
  let plain = true;
  for (let i = 1; i < parts.length && plain; i++) {
    const p = parts[i]!;
    const eq = p.indexOf('=');
    if (eq >= 0 && p.lastIndexOf('*', eq) >= 0) plain = false;
  }
  if (plain) {
    const params = new Map<string, string>();
    for (let i = 1; i < parts.length; i++) {
      const p = parts[i]!;
      const eq = p.indexOf('=');
      if (eq < 0) continue;
      const key = p.slice(0, eq).trim().toLowerCase();
      if (key === '' || params.has(key)) continue;
      params.set(key, unquote(p.slice(eq + 1)));
    }
    return { value, params };
  }
  const sections = new Map<string, { n: number; ext: boolean; v: string }[]>();
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i]!;
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    const key = p.slice(0, eq).trim().toLowerCase();
    const val = p.slice(eq + 1);
    const m = /^([^*]+)(?:\*(\d+))?(\*)?$/.exec(key);
    if (!m) continue;
    const base = m[1]!;
    const n = m[2] === undefined ? -1 : Number(m[2]);
    const ext = m[3] !== undefined;
    let list = sections.get(base);
    if (!list) sections.set(base, (list = []));
    list.push({ n, ext, v: ext ? val.trim() : unquote(val) });
  }
  const params = new Map<string, string>();
  for (const [base, list] of sections) {
    // RFC 2231: a numbered/extended form wins over a plain one when both are present.
    const numbered = list.filter((s) => s.n >= 0).sort((a, b) => a.n - b.n);
    const single = list.find((s) => s.n < 0 && s.ext) ?? list.find((s) => s.n < 0);
    const chosen = numbered.length > 0 ? numbered : single ? [single] : [];
    let out = '';
    chosen.forEach((s, idx) => {
      if (!s.ext) {
        out += s.v;
        return;
      }
      let v = s.v;
      if (asWritten) {
        out += v;
        return;
      }
      if (idx === 0) {
        // charset'language'value
        const q1 = v.indexOf("'");
        const q2 = q1 >= 0 ? v.indexOf("'", q1 + 1) : -1;
        if (q2 >= 0) v = v.slice(q2 + 1);
      }
      out += percentDecode(unquote(v));
    });
    params.set(base, out);
  }
  return { value, params };
}

/** Media type as written ("type/subtype"), or '' when the value has none. */
export function mediaType(f: ParsedField): string {
  // Up to the first whitespace (what split(/\s+/)[0] gives; the value is latin1 and trimmed).
  const v = f.value;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if ((c >= 0x09 && c <= 0x0d) || c === 0x20 || c === 0xa0 || c > 0xff) {
      return c > 0xff ? (v.split(/\s+/)[0] ?? '') : v.slice(0, i);
    }
  }
  return v;
}

export const KNOWN_ENCODINGS = ['7bit', '8bit', 'base64', 'binary', 'quoted-printable'] as const;

/** `mime encoding` class of a Content-Transfer-Encoding value. */
export function encodingClass(value: string): string {
  const v = value.trim().toLowerCase();
  return (KNOWN_ENCODINGS as readonly string[]).includes(v) ? v : 'others';
}

/** RFC 2047 encoded word: =?charset[*language]?B|Q?text?= (text without '?' or white space). */
const ENCODED_WORD = /=\?[^?\s]+\?([BbQq])\?([^?\s]*)\?=/g;
/** White space between two adjacent encoded words is not displayed (RFC 2047 6.2). */
const BETWEEN_WORDS = /(\?=)[ \t\r\n]+(?==\?[^?\s]+\?[BbQq]\?)/g;

/**
 * Decodes RFC 2047 encoded words in a (latin1) parameter value into their octets, one latin1
 * char per octet, so `.length` counts octets in the word's charset. Mailers write file names
 * this way (nodemailer's Content-Type `name`, Outlook's `filename`), quoted and folded, though
 * RFC 2047 5 does not allow it in a quoted string. Text that is not an encoded word is kept.
 */
export function decodeEncodedWords(s: string): string {
  if (s.indexOf('=?') < 0) return s;
  return s.replace(BETWEEN_WORDS, '$1').replace(ENCODED_WORD, (_m, enc: string, text: string) => {
    if (enc === 'B' || enc === 'b') return Buffer.from(text, 'base64').toString('latin1');
    // Q: '_' is a space, =XX an octet (RFC 2047 4.2)
    return text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_q, h: string) => String.fromCharCode(parseInt(h, 16)));
  });
}
