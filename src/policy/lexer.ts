/**
 * Splits a policy text into lines of tokens with exact 1-based columns. Tokens are separated by
 * blanks; a `"..."` run stays inside its token (descriptions and regexes keep their quotes and
 * take the raw rest of the line, see `rest()`).
 */
import { PolicyError } from '../errors.js';

export interface Token {
  /** The token text as written. */
  text: string;
  /** Lower-case text, for keyword comparison (the ASA CLI is case-insensitive for keywords). */
  lower: string;
  /** 1-based column of the first character. */
  col: number;
  /**
   * Where the token is in the file when that is not (line, col) of its line: a wrapped
   * access-list tail joined to the line before it (parser.ts joinWrappedAces).
   */
  at?: { line: number; col: number };
}

export interface SourceLine {
  line: number;
  /** The raw line without its end-of-line characters. */
  raw: string;
  tokens: Token[];
  /**
   * The ASA CLI prompt the line started with in a pasted terminal session (`asa(config-pmap)# `),
   * blanked in `raw` so the columns stay those of the file: `exec` for `asa# ` / `asa> ` (the line
   * is an exec command), `config` for `asa(config)# ` (typed in global configuration mode),
   * `sub` for a sub-mode prompt (`asa(config-pmap-c)# `). Absent for a line without a prompt.
   */
  prompt?: 'exec' | 'config' | 'sub';
}

/**
 * An ASA CLI prompt at the start of a line copied from a terminal session: the hostname (letters,
 * digits, `-`, `_`, `.`), then `/context` and `/pri/act`-style failover parts, then `(config)` or
 * `(config-MODE)` and `#`, or `#` / `>` alone in exec mode (the blank after it is lost in some
 * copies: `FW(config-if)#write memory`).
 * Cisco's configuration guides write every example this way (`hostname(config-pmap-p)# mask-banner`).
 * No configuration line starts like this: a command word never holds `#`, `>` or `(`.
 */
const CLI_PROMPT = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}(?:\/[A-Za-z0-9_.-]+){0,3}(?:(\(config(-[a-z0-9-]+)?\))#|[#>])/;

/** The prompt a session line starts with, or null; `length` is its length in characters. */
export function cliPrompt(raw: string): { kind: 'exec' | 'config' | 'sub'; length: number } | null {
  const m = CLI_PROMPT.exec(raw);
  if (!m) return null;
  return { kind: m[1] === undefined ? 'exec' : m[2] === undefined ? 'config' : 'sub', length: m[0].length };
}

/** A line written indented, a sub-command by its layout (a line after a CLI prompt never is). */
export function isIndented(sl: SourceLine): boolean {
  return sl.prompt === undefined && (sl.raw.startsWith(' ') || sl.raw.startsWith('\t'));
}

export function tokenizeLine(raw: string, line: number): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = raw.length;
  while (i < n) {
    while (i < n && (raw[i] === ' ' || raw[i] === '\t')) i++;
    if (i >= n) break;
    const start = i;
    let quoted = false;
    while (i < n && (quoted || (raw[i] !== ' ' && raw[i] !== '\t'))) {
      if (raw[i] === '"') quoted = !quoted;
      i++;
    }
    const text = raw.slice(start, i);
    tokens.push({ text, lower: text.toLowerCase(), col: start + 1 });
  }
  void line;
  return tokens;
}

/** The ASA pager prompt a `show running-config` carries when `pager lines N` was in effect. */
export const PAGER_PROMPT = '<--- More --->';
/** Up to one blank per prompt column right after the prompt: what the ASA prints to erase it. */
const PAGER_ERASE = new RegExp(`^ {1,${PAGER_PROMPT.length}}`);

/**
 * What a terminal shows for one captured line: the pager prompt removed, then CR (back to column
 * 1) and BS (one column left) applied as overwrites, so `<--- More --->` erased by CR or BS plus
 * spaces leaves the configuration line that was printed over it.
 */
export function renderTerminalLine(raw: string): { text: string; pager: boolean } {
  const pager = raw.includes(PAGER_PROMPT);
  // the blanks that erased the prompt (one per prompt column) go with it when the terminal's CR/BS
  // was lost in the copy, so the next line keeps only its own indentation
  const s = pager ? raw.split(PAGER_PROMPT).map((part, k) => (k === 0 ? part : part.replace(PAGER_ERASE, ''))).join('') : raw;
  if (!s.includes('\r') && !s.includes('\b')) return { text: s, pager };
  const buf: string[] = [];
  let col = 0;
  for (const ch of s) {
    if (ch === '\r') col = 0;
    else if (ch === '\b') col = Math.max(0, col - 1);
    else buf[col++] = ch;
  }
  return { text: Array.from(buf, (c) => c ?? ' ').join(''), pager };
}

/**
 * Unicode blanks a copy from a web page, PDF, word processor or e-mail leaves in a configuration
 * (Cisco's HTML guides indent their examples with U+00A0): no-break space, the U+2000–U+200A
 * spaces, narrow no-break, medium mathematical and ideographic space. Read as blanks, one for one
 * (a column stays a column); otherwise `\u00a0match` is one unknown word and the line is lost.
 */
const UNICODE_BLANKS = /[\u00a0\u2000-\u200a\u202f\u205f\u3000]/g;
/**
 * Invisible characters the same copies leave inside or next to words: zero-width space, (non-)
 * joiners, word joiner, a byte-order mark in mid-text (files concatenated), soft hyphen (PDF line
 * breaks). Removed: what the admin sees is the word without them. Kept, `\u200ballow-tls` was an
 * error that printed `got "allow-tls"`, a word that looks exactly like the one expected. (Columns
 * after one on its line are one less than the file's.)
 */
const INVISIBLE = /[\u200b-\u200d\u2060\ufeff\u00ad]/g;

/** The line with its Unicode blanks as ASCII blanks and its invisible characters removed, and whether it had any. */
export function asciiBlanks(raw: string): { text: string; changed: boolean } {
  UNICODE_BLANKS.lastIndex = 0;
  INVISIBLE.lastIndex = 0;
  const blanks = UNICODE_BLANKS.test(raw);
  const invisible = INVISIBLE.test(raw);
  if (!blanks && !invisible) return { text: raw, changed: false };
  let text = blanks ? raw.replace(UNICODE_BLANKS, ' ') : raw;
  if (invisible) text = text.replace(INVISIBLE, '');
  return { text, changed: true };
}

export interface LexResult {
  lines: SourceLine[];
  /** Lines that carried a pager prompt (removed), for the note `policy check` prints. */
  pagerLines: number[];
  /** Lines whose Unicode blanks (U+00A0 …) were read as blanks, for a note. */
  unicodeBlankLines: number[];
}

/**
 * Lines of a text, tokenised. Lines end at LF or CR LF (at CR alone only in a text without LF);
 * a CR or BS inside a line is a terminal overwrite (see renderTerminalLine). Rejects NUL and other
 * control bytes with their position.
 */
export function lexPolicy(text: string, file: string): SourceLine[] {
  return lexPolicyText(text, file).lines;
}

export function lexPolicyText(text: string, file: string): LexResult {
  const out: SourceLine[] = [];
  const pagerLines: number[] = [];
  const unicodeBlankLines: number[] = [];
  const raws = text.includes('\n') ? text.split(/\r?\n/) : text.split('\r');
  raws.forEach((captured, k) => {
    const line = k + 1;
    const rendered = renderTerminalLine(captured);
    if (rendered.pager) pagerLines.push(line);
    const { text: raw, changed } = asciiBlanks(rendered.text);
    if (changed) unicodeBlankLines.push(line);
    for (let c = 0; c < raw.length; c++) {
      const code = raw.charCodeAt(c);
      if ((code < 0x20 && code !== 0x09) || code === 0x7f) {
        throw new PolicyError('E_POLICY_SYNTAX', `unexpected control character 0x${code.toString(16).padStart(2, '0')}; expected printable text`, {
          file,
          line,
          column: c + 1,
        });
      }
    }
    // a pasted session line: the prompt is blanked (columns stay the file's) and remembered
    const p = cliPrompt(raw);
    if (p) {
      const blanked = ' '.repeat(p.length) + raw.slice(p.length);
      out.push({ line, raw: blanked, tokens: tokenizeLine(blanked, line), prompt: p.kind });
    } else out.push({ line, raw, tokens: tokenizeLine(raw, line) });
  });
  return { lines: out, pagerLines, unicodeBlankLines };
}

/** The raw text from token `t` to the end of the line, trailing blanks trimmed. */
export function rest(line: SourceLine, t: Token): string {
  return line.raw.slice(t.col - 1).replace(/[ \t]+$/, '');
}
