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
}

export interface SourceLine {
  line: number;
  /** The raw line without its end-of-line characters. */
  raw: string;
  tokens: Token[];
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

/** Lines of a text, tokenised. Rejects NUL and other control bytes with their position. */
export function lexPolicy(text: string, file: string): SourceLine[] {
  const out: SourceLine[] = [];
  const raws = text.split(/\r\n|\n|\r/);
  raws.forEach((raw, k) => {
    const line = k + 1;
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
    out.push({ line, raw, tokens: tokenizeLine(raw, line) });
  });
  return out;
}

/** The raw text from token `t` to the end of the line, trailing blanks trimmed. */
export function rest(line: SourceLine, t: Token): string {
  return line.raw.slice(t.col - 1).replace(/[ \t]+$/, '');
}
