/**
 * ASA `regex` syntax (ASA-ESMTP.md §3.4) compiled to a Thompson NFA over bytes and run by
 * state-set simulation: time is O(input length × NFA size) whatever the pattern, so attacker
 * bytes can never trigger backtracking blow-ups. JS RegExp is never used on traffic.
 *
 * Supported: literals, `.`, `[...]`/`[^...]` with ranges (dash literal first/last), `^` (start of
 * the tested range), `$` (end of the tested range; not in Cisco's list, see
 * native-notes/policy-language.md), `\` escapes incl. \r \n \t \f \xNN \NNN, `"..."` quoting
 * (zero-width delimiters that keep spaces), `|`, `*`, `+`, `?`, `(...)`, `{n}`, `{n,}`, `{n,m}`.
 * Matching is case-sensitive, as on the ASA (case-insensitivity is written `[cC][aA]...`).
 */
import type { ByteMatcher } from './types.js';

export type RegexNode =
  | { t: 'set'; set: Uint8Array } // 256 entries, 1 = byte allowed
  | { t: 'cat'; items: RegexNode[] }
  | { t: 'alt'; items: RegexNode[] }
  | { t: 'rep'; node: RegexNode; min: number; max: number } // max = Infinity for unbounded
  | { t: 'bol' }
  | { t: 'eol' };

/** A syntax problem at a 0-based character index of the pattern (the caller adds line/column). */
export class RegexSyntaxError extends Error {
  constructor(
    message: string,
    readonly index: number,
  ) {
    super(message);
    this.name = 'RegexSyntaxError';
  }
}

export const REGEX_LIMITS = {
  /** `regex NAME` names (ASA: ≤ 40). */
  nameMax: 40,
  /** Pattern characters as written (ASA: ≤ 100). */
  patternMax: 100,
  /** Largest bound in `{n,m}`: keeps the expanded NFA small. */
  repeatMax: 255,
  /** NFA states after expansion of bounded repeats. */
  statesMax: 20_000,
} as const;

function setOf(bytes: number[]): Uint8Array {
  const s = new Uint8Array(256);
  for (const b of bytes) s[b] = 1;
  return s;
}

/** Bytes of one source character (UTF-8 for anything beyond ASCII). */
function charBytes(ch: string): number[] {
  return [...Buffer.from(ch, 'utf8')];
}

function literal(ch: string): RegexNode {
  const bytes = charBytes(ch);
  if (bytes.length === 1) return { t: 'set', set: setOf(bytes) };
  return { t: 'cat', items: bytes.map((b) => ({ t: 'set', set: setOf([b]) }) as RegexNode) };
}

const HEX = /^[0-9A-Fa-f]{2}$/;
const OCT = /^[0-7]{3}$/;

/** Parses an ASA regex into an AST. Throws RegexSyntaxError with the character index. */
export function parseRegex(pattern: string): RegexNode {
  let i = 0;
  let inQuote = false;
  let quoteStart = -1;

  const peek = (): string | undefined => pattern[i];

  // Skips `"` delimiters: they only protect spaces, they match nothing.
  const skipQuotes = (): void => {
    while (pattern[i] === '"') {
      inQuote = !inQuote;
      if (inQuote) quoteStart = i;
      i++;
    }
  };

  /** One escape after `\` at index i (pointing after the backslash); returns the byte. */
  const escape = (): number[] => {
    const at = i - 1;
    const c = pattern[i];
    if (c === undefined) throw new RegexSyntaxError('a character after "\\"', at);
    i++;
    switch (c) {
      case 'r':
        return [0x0d];
      case 'n':
        return [0x0a];
      case 't':
        return [0x09];
      case 'f':
        return [0x0c];
      case 'x': {
        const h = pattern.slice(i, i + 2);
        if (!HEX.test(h)) throw new RegexSyntaxError('exactly two hex digits after "\\x"', at);
        i += 2;
        return [parseInt(h, 16)];
      }
      default:
        if (c >= '0' && c <= '7') {
          const o = pattern.slice(i - 1, i + 2);
          if (!OCT.test(o)) throw new RegexSyntaxError('exactly three octal digits after "\\"', at);
          const v = parseInt(o, 8);
          if (v > 255) throw new RegexSyntaxError('an octal escape up to \\377', at);
          i += 2;
          return [v];
        }
        return charBytes(c); // escaped metacharacter or any other character: itself
    }
  };

  const parseClass = (): RegexNode => {
    const open = i;
    i++; // [
    const set = new Uint8Array(256);
    let negate = false;
    if (peek() === '^') {
      negate = true;
      i++;
    }
    let first = true;
    const item = (): number | null => {
      const c = pattern[i];
      if (c === undefined) return null;
      if (c === '\\') {
        i++;
        const b = escape();
        if (b.length !== 1) throw new RegexSyntaxError('a single-byte character in a class', i - 1);
        return b[0] ?? null;
      }
      const b = charBytes(c);
      if (b.length !== 1) throw new RegexSyntaxError('ASCII characters in a [...] class', i);
      i++;
      return b[0] ?? null;
    };
    for (;;) {
      const c = peek();
      if (c === undefined) throw new RegexSyntaxError('"]" to close the class', open);
      if (c === ']' && !first) {
        i++;
        break;
      }
      first = false;
      const lo = item();
      if (lo === null) throw new RegexSyntaxError('"]" to close the class', open);
      if (peek() === '-' && pattern[i + 1] !== undefined && pattern[i + 1] !== ']') {
        const dash = i;
        i++;
        const hi = item();
        if (hi === null) throw new RegexSyntaxError('"]" to close the class', open);
        if (hi < lo) throw new RegexSyntaxError('a range whose end is not below its start', dash);
        for (let b = lo; b <= hi; b++) set[b] = 1;
      } else {
        set[lo] = 1;
      }
    }
    if (negate) for (let b = 0; b < 256; b++) set[b] = set[b] ? 0 : 1;
    return { t: 'set', set };
  };

  const parseAtom = (): RegexNode | null => {
    skipQuotes();
    const c = peek();
    if (c === undefined || c === '|' || c === ')') return null;
    switch (c) {
      case '(': {
        const open = i;
        i++;
        const inner = parseAlt();
        skipQuotes();
        if (peek() !== ')') throw new RegexSyntaxError('")" to close the group', open);
        i++;
        return inner;
      }
      case '[':
        return parseClass();
      case '.':
        i++;
        return { t: 'set', set: new Uint8Array(256).fill(1) };
      case '^':
        i++;
        return { t: 'bol' };
      case '$':
        i++;
        return { t: 'eol' };
      case '\\':
        i++;
        return { t: 'cat', items: escape().map((b) => ({ t: 'set', set: setOf([b]) }) as RegexNode) };
      case '*':
      case '+':
      case '?':
        throw new RegexSyntaxError(`something to repeat before "${c}"`, i);
      default:
        i++;
        return literal(c);
    }
  };

  const QUANT = /^\{(\d{1,4})(,(\d{0,4}))?\}/;

  const parseRepeat = (): RegexNode | null => {
    let atom = parseAtom();
    if (atom === null) return null;
    for (;;) {
      const c = peek();
      if (c === '*') atom = { t: 'rep', node: atom, min: 0, max: Infinity };
      else if (c === '+') atom = { t: 'rep', node: atom, min: 1, max: Infinity };
      else if (c === '?') atom = { t: 'rep', node: atom, min: 0, max: 1 };
      else if (c === '{') {
        const m = QUANT.exec(pattern.slice(i));
        if (!m) return atom; // a "{" that is not a quantifier is a literal, parsed as the next atom
        const min = Number(m[1]);
        const max = m[2] === undefined ? min : m[3] === '' || m[3] === undefined ? Infinity : Number(m[3]);
        if (min > REGEX_LIMITS.repeatMax || (max !== Infinity && max > REGEX_LIMITS.repeatMax))
          throw new RegexSyntaxError(`repeat counts up to ${REGEX_LIMITS.repeatMax}`, i);
        if (max < min) throw new RegexSyntaxError('{n,m} with m >= n', i);
        atom = { t: 'rep', node: atom, min, max };
        i += m[0].length;
        continue;
      } else return atom;
      i++;
    }
  };

  function parseCat(): RegexNode {
    const items: RegexNode[] = [];
    for (;;) {
      const r = parseRepeat();
      if (r === null) break;
      items.push(r);
    }
    return items.length === 1 && items[0] ? items[0] : { t: 'cat', items };
  }

  function parseAlt(): RegexNode {
    const items = [parseCat()];
    while (peek() === '|') {
      i++;
      items.push(parseCat());
    }
    return items.length === 1 && items[0] ? items[0] : { t: 'alt', items };
  }

  const ast = parseAlt();
  skipQuotes();
  if (i < pattern.length) throw new RegexSyntaxError('")" only after a matching "("', i);
  if (inQuote) throw new RegexSyntaxError('a closing \'"\'', quoteStart);
  return ast;
}

// ---- Thompson NFA -----------------------------------------------------------------------

const K_SET = 0;
const K_SPLIT = 1;
const K_MATCH = 2;
const K_BOL = 3;
const K_EOL = 4;

/** The NFA as flat typed arrays: kind, byte-set index, two successors. */
class NfaBuilder {
  kind: number[] = [];
  setIdx: number[] = [];
  out1: number[] = [];
  out2: number[] = [];
  sets: Uint8Array[] = [];

  add(kind: number, set: Uint8Array | null): number {
    if (this.kind.length >= REGEX_LIMITS.statesMax) throw new RegexSyntaxError('a smaller pattern (too many states after expanding repeats)', 0);
    this.kind.push(kind);
    if (set) {
      this.sets.push(set);
      this.setIdx.push(this.sets.length - 1);
    } else this.setIdx.push(-1);
    this.out1.push(-1);
    this.out2.push(-1);
    return this.kind.length - 1;
  }
}

/** A fragment: entry state and the list of dangling exits (state, which out: 1|2). */
interface Frag {
  start: number;
  exits: Array<[number, 1 | 2]>;
}

function compileNode(b: NfaBuilder, n: RegexNode): Frag {
  switch (n.t) {
    case 'set': {
      const s = b.add(K_SET, n.set);
      return { start: s, exits: [[s, 1]] };
    }
    case 'bol':
    case 'eol': {
      const s = b.add(n.t === 'bol' ? K_BOL : K_EOL, null);
      return { start: s, exits: [[s, 1]] };
    }
    case 'cat': {
      if (n.items.length === 0) {
        const s = b.add(K_SPLIT, null); // epsilon: a split with one used exit
        return { start: s, exits: [[s, 1]] };
      }
      let first: Frag | null = null;
      let prev: Frag | null = null;
      for (const item of n.items) {
        const f = compileNode(b, item);
        if (prev) patch(b, prev.exits, f.start);
        else first = f;
        prev = f;
      }
      return { start: (first as Frag).start, exits: (prev as Frag).exits };
    }
    case 'alt': {
      const frags = n.items.map((x) => compileNode(b, x));
      // chain of splits
      let start = (frags[frags.length - 1] as Frag).start;
      for (let k = frags.length - 2; k >= 0; k--) {
        const s = b.add(K_SPLIT, null);
        b.out1[s] = (frags[k] as Frag).start;
        b.out2[s] = start;
        start = s;
      }
      return { start, exits: frags.flatMap((f) => f.exits) };
    }
    case 'rep': {
      const { min, max } = n;
      const parts: Frag[] = [];
      for (let k = 0; k < min; k++) parts.push(compileNode(b, n.node));
      if (max === Infinity) {
        // x* loop
        const s = b.add(K_SPLIT, null);
        const body = compileNode(b, n.node);
        b.out1[s] = body.start;
        patch(b, body.exits, s);
        parts.push({ start: s, exits: [[s, 2]] });
      } else {
        // (x(x(x)?)?)? for the optional copies
        const optional = max - min;
        const splits: number[] = [];
        let tailExits: Array<[number, 1 | 2]> = [];
        let entry = -1;
        let prevExits: Array<[number, 1 | 2]> | null = null;
        for (let k = 0; k < optional; k++) {
          const s = b.add(K_SPLIT, null);
          const body = compileNode(b, n.node);
          b.out1[s] = body.start;
          splits.push(s);
          if (prevExits) patch(b, prevExits, s);
          else entry = s;
          prevExits = body.exits;
          tailExits.push([s, 2]);
        }
        if (prevExits) {
          tailExits = tailExits.concat(prevExits);
          parts.push({ start: entry, exits: tailExits });
        }
      }
      if (parts.length === 0) {
        const s = b.add(K_SPLIT, null);
        return { start: s, exits: [[s, 1]] };
      }
      for (let k = 1; k < parts.length; k++) patch(b, (parts[k - 1] as Frag).exits, (parts[k] as Frag).start);
      return { start: (parts[0] as Frag).start, exits: (parts[parts.length - 1] as Frag).exits };
    }
  }
}

function patch(b: NfaBuilder, exits: Array<[number, 1 | 2]>, to: number): void {
  for (const [s, which] of exits) {
    if (which === 1) b.out1[s] = to;
    else b.out2[s] = to;
  }
}

/** A compiled pattern: a linear-time matcher over bytes. */
export class CompiledRegex {
  private readonly kind: Uint8Array;
  private readonly setIdx: Int32Array;
  private readonly out1: Int32Array;
  private readonly out2: Int32Array;
  private readonly sets: Uint8Array[];
  private readonly start: number;
  private readonly mark: Uint32Array;
  private gen = 0;
  private cur: Int32Array;
  private next: Int32Array;
  private readonly stack: Int32Array;
  /** State visits of the last test(): a work measure that tests use instead of timing. */
  lastSteps = 0;

  constructor(readonly pattern: string) {
    const ast = parseRegex(pattern);
    const b = new NfaBuilder();
    const f = compileNode(b, ast);
    const m = b.add(K_MATCH, null);
    patch(b, f.exits, m);
    this.start = f.start;
    const n = b.kind.length;
    this.kind = Uint8Array.from(b.kind);
    this.setIdx = Int32Array.from(b.setIdx);
    this.out1 = Int32Array.from(b.out1);
    this.out2 = Int32Array.from(b.out2);
    this.sets = b.sets;
    this.mark = new Uint32Array(n);
    this.cur = new Int32Array(n);
    this.next = new Int32Array(n);
    this.stack = new Int32Array(n * 2 + 2);
  }

  get stateCount(): number {
    return this.kind.length;
  }

  /**
   * Adds the epsilon closure of `s` at position pos to `list` (length in/out via return).
   * Returns -1 if the match state was reached.
   */
  private addClosure(list: Int32Array, len: number, s: number, pos: number, from: number, to: number): number {
    const stack = this.stack;
    let sp = 0;
    stack[sp++] = s;
    let matched = false;
    while (sp > 0) {
      const st = stack[--sp] as number;
      if (st < 0 || this.mark[st] === this.gen) continue;
      this.mark[st] = this.gen;
      this.lastSteps++;
      switch (this.kind[st]) {
        case K_SET:
          list[len++] = st;
          break;
        case K_SPLIT:
          // push out2 first so out1 is explored first (order does not change the yes/no answer)
          stack[sp++] = this.out2[st] as number;
          stack[sp++] = this.out1[st] as number;
          break;
        case K_BOL:
          if (pos === from) stack[sp++] = this.out1[st] as number;
          break;
        case K_EOL:
          if (pos === to) stack[sp++] = this.out1[st] as number;
          break;
        case K_MATCH:
          matched = true;
          break;
      }
    }
    return matched ? -1 : len;
  }

  private bumpGen(): void {
    this.gen++;
    if (this.gen === 0xffffffff) {
      this.mark.fill(0);
      this.gen = 1;
    }
  }

  /** True if the pattern matches anywhere in bytes[start, end). */
  test(bytes: Uint8Array, start = 0, end = bytes.length): boolean {
    this.lastSteps = 0;
    let cur = this.cur;
    let next = this.next;
    this.bumpGen();
    let curLen = this.addClosure(cur, 0, this.start, start, start, end);
    if (curLen < 0) return true;
    for (let pos = start; pos < end; pos++) {
      const byte = bytes[pos] as number;
      this.bumpGen();
      let nextLen = 0;
      for (let k = 0; k < curLen; k++) {
        const st = cur[k] as number;
        this.lastSteps++;
        const set = this.sets[this.setIdx[st] as number] as Uint8Array;
        if (set[byte]) {
          nextLen = this.addClosure(next, nextLen, this.out1[st] as number, pos + 1, start, end);
          if (nextLen < 0) return true;
        }
      }
      // unanchored search: a new attempt may start at every position
      nextLen = this.addClosure(next, nextLen, this.start, pos + 1, start, end);
      if (nextLen < 0) return true;
      const t = cur;
      cur = next;
      next = t;
      curLen = nextLen;
    }
    this.cur = cur;
    this.next = next;
    return false;
  }
}

/** OR of several compiled regexes (`class-map type regex match-any`). */
export class RegexSetMatcher implements ByteMatcher {
  constructor(
    readonly source: string,
    private readonly members: readonly CompiledRegex[],
  ) {}

  test(bytes: Uint8Array, start = 0, end = bytes.length): boolean {
    for (const r of this.members) if (r.test(bytes, start, end)) return true;
    return false;
  }
}
