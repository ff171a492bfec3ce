/** A cursor over one line's tokens that throws PolicyErrors pointing at the offending column. */
import { PolicyError, type ErrorCode } from '../errors.js';
import type { SourceLine, Token } from './lexer.js';
import type { Pos } from './model.js';

export class Cursor {
  i = 0;
  constructor(
    readonly sl: SourceLine,
    readonly file: string,
  ) {}

  peek(offset = 0): Token | undefined {
    return this.sl.tokens[this.i + offset];
  }

  atEnd(): boolean {
    return this.i >= this.sl.tokens.length;
  }

  next(): Token | undefined {
    const t = this.sl.tokens[this.i];
    if (t) this.i++;
    return t;
  }

  /** Column just past the last token: where "end of line" errors point. */
  endCol(): number {
    return this.sl.raw.replace(/[ \t]+$/, '').length + 1;
  }

  pos(t: Token): Pos {
    return t.at ? { line: t.at.line, col: t.at.col } : { line: this.sl.line, col: t.col };
  }

  error(code: ErrorCode, message: string, t?: Token): PolicyError {
    // a token of a joined wrapped tail points into the tail's own line; so does "end of line" after one
    const last = this.sl.tokens[this.sl.tokens.length - 1];
    const where = t ? this.pos(t) : last?.at ? { line: last.at.line, col: last.at.col + last.text.length } : { line: this.sl.line, col: this.endCol() };
    return new PolicyError(code, message, { file: this.file, line: where.line, column: where.col });
  }

  /** "expected X, got "y"" at token t (or at end of line). */
  fail(expected: string, t: Token | undefined = this.peek(), code: ErrorCode = 'E_POLICY_SYNTAX'): never {
    const got = t ? `got "${t.text}"` : 'got end of line';
    throw this.error(code, `expected ${expected}, ${got}`, t);
  }

  /** Any word. */
  word(what: string): Token {
    const t = this.peek();
    if (!t) this.fail(what);
    this.i++;
    return t;
  }

  /** One of the given keywords (case-insensitive); returns the lower-case keyword. */
  keyword(...kws: string[]): string {
    const t = this.peek();
    const expected = kws.length === 1 ? `"${kws[0]}"` : `one of ${kws.map((k) => `"${k}"`).join(', ')}`;
    if (!t || !kws.includes(t.lower)) this.fail(expected, t);
    this.i++;
    return t.lower;
  }

  /** Consumes the keyword if it is next. */
  accept(kw: string): boolean {
    const t = this.peek();
    if (t && t.lower === kw) {
      this.i++;
      return true;
    }
    return false;
  }

  integer(what: string, min: number, max: number): number {
    const t = this.peek();
    if (!t || !/^\d+$/.test(t.text)) this.fail(`${what} (a number ${min}-${max})`, t);
    const n = Number(t.text);
    if (n < min || n > max) throw this.error('E_POLICY_VALUE', `${what} must be ${min}-${max}, got ${t.text}`, t);
    this.i++;
    return n;
  }

  end(what = 'end of line'): void {
    const t = this.peek();
    if (t) this.fail(what, t);
  }
}
