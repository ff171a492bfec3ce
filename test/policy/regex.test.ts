import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CompiledRegex, RegexSetMatcher, RegexSyntaxError, parseRegex, type RegexNode } from '../../src/policy/regex.js';

const b = (s: string) => Buffer.from(s, 'latin1');
const t = (pattern: string, input: string) => new CompiledRegex(pattern).test(b(input));

describe('ASA regex syntax (ASA-ESMTP.md §3.4)', () => {
  it('literals match anywhere (unanchored), case-sensitively', () => {
    expect(t('cat', 'concatenate')).toBe(true);
    expect(t('cat', 'CAT')).toBe(false);
    expect(t('[cC][aA][tT]', 'xCaT')).toBe(true);
  });
  it('^ anchors at the start of the tested range, $ at its end', () => {
    expect(t('^abc', 'abcd')).toBe(true);
    expect(t('^abc', 'xabc')).toBe(false);
    expect(t('abc$', 'xabc')).toBe(true);
    expect(t('abc$', 'abcx')).toBe(false);
    const r = new CompiledRegex('^bc$');
    expect(r.test(b('abcd'), 1, 3)).toBe(true);
    expect(r.test(b('abcd'), 0, 3)).toBe(false);
  });
  it('classes, negation, ranges with literal dash first/last, . matches any byte', () => {
    expect(t('[a-c]x', 'bx')).toBe(true);
    expect(t('[a-c]x', 'dx')).toBe(false);
    expect(t('[^a-c]x', 'dx')).toBe(true);
    expect(t('[-a]', '-')).toBe(true);
    expect(t('[a-]', '-')).toBe(true);
    expect(t('[]a]', ']')).toBe(true);
    expect(t('a.c', 'a\nc')).toBe(true);
  });
  it('escapes: \\r \\n \\t \\f \\xNN \\NNN and escaped metacharacters', () => {
    expect(t('a\\r\\n', 'a\r\n')).toBe(true);
    expect(t('\\t\\f', '\t\f')).toBe(true);
    expect(t('\\x41\\102', 'AB')).toBe(true);
    expect(t('a\\.b', 'a.b')).toBe(true);
    expect(t('a\\.b', 'axb')).toBe(false);
    expect(t('\\"x\\"', '"x"')).toBe(true);
  });
  it('quotes are delimiters that keep spaces; they match nothing themselves', () => {
    expect(t('" test"', 'a test')).toBe(true);
    expect(t('" test"', 'atest')).toBe(false);
    expect(t('"\\.gif"', 'x.gif')).toBe(true);
  });
  it('alternation, groups and quantifiers including {n}, {n,}, {n,m}', () => {
    expect(t('ab(xy){3}z', 'abxyxyxyz')).toBe(true);
    expect(t('^ab(xy){3}z', 'abxyxyz')).toBe(false);
    expect(t('ab(xy){2,}z', 'abxyxyxyxyz')).toBe(true);
    expect(t('^a{2,3}$', 'aaaa')).toBe(false);
    expect(t('^a{2,3}$', 'aaa')).toBe(true);
    expect(t('^(cat|dog)s?$', 'dogs')).toBe(true);
    expect(t('^(cat|dog)s?$', 'cow')).toBe(false);
    expect(t('x{', 'x{')).toBe(true); // a { that is no quantifier is literal
  });
  it('reports syntax errors with the character index', () => {
    const at = (p: string) => {
      try {
        parseRegex(p);
      } catch (e) {
        expect(e).toBeInstanceOf(RegexSyntaxError);
        return (e as RegexSyntaxError).index;
      }
      return -1;
    };
    expect(at('ab(c')).toBe(2);
    expect(at('abc)')).toBe(3);
    expect(at('*a')).toBe(0);
    expect(at('[abc')).toBe(0);
    expect(at('a\\x4')).toBe(1);
    expect(at('a\\12')).toBe(1);
    expect(at('"abc')).toBe(0);
    expect(at('[z-a]')).toBe(2);
    expect(at('a{300}')).toBe(1);
  });
  it('a regex class is the OR of its members', () => {
    const m = new RegexSetMatcher('class X', [new CompiledRegex('^exe'), new CompiledRegex('zip$')]);
    expect(m.test(b('exe.1'))).toBe(true);
    expect(m.test(b('a.zip'))).toBe(true);
    expect(m.test(b('a.txt'))).toBe(false);
    expect(m.source).toBe('class X');
  });
});

describe('linear time on catastrophic patterns', () => {
  const line = Buffer.alloc(100_000, 'a'.charCodeAt(0));
  for (const p of ['(a*)*b', '(a|aa)+$x', '(a+)+b', '^(a|a?)+c', '(.*a){20}b']) {
    it(`${p} on a 100 KB line does work proportional to length × states`, () => {
      const r = new CompiledRegex(p);
      expect(r.test(line)).toBe(false);
      // each input byte visits each NFA state at most a few times (closure + step)
      expect(r.lastSteps).toBeLessThanOrEqual((line.length + 1) * r.stateCount * 3);
    });
  }
});

// ---- property test against a naive backtracking reference ---------------------------------

/** Obviously-correct reference: the set of end positions reachable from `i`. */
function ends(n: RegexNode, s: Uint8Array, i: number, from: number, to: number): Set<number> {
  switch (n.t) {
    case 'set':
      return i < to && n.set[s[i] as number] ? new Set([i + 1]) : new Set();
    case 'bol':
      return i === from ? new Set([i]) : new Set();
    case 'eol':
      return i === to ? new Set([i]) : new Set();
    case 'cat': {
      let cur = new Set([i]);
      for (const item of n.items) {
        const next = new Set<number>();
        for (const p of cur) for (const e of ends(item, s, p, from, to)) next.add(e);
        cur = next;
      }
      return cur;
    }
    case 'alt': {
      const out = new Set<number>();
      for (const item of n.items) for (const e of ends(item, s, i, from, to)) out.add(e);
      return out;
    }
    case 'rep': {
      const out = new Set<number>();
      let cur = new Set([i]);
      const seen = new Set<string>();
      for (let k = 0; cur.size > 0 && k <= Math.min(n.max, to - i + n.min + 1); k++) {
        if (k >= n.min) for (const p of cur) out.add(p);
        const next = new Set<number>();
        for (const p of cur) for (const e of ends(n.node, s, p, from, to)) next.add(e);
        const key = `${k >= n.min}:${[...next].sort().join(',')}`;
        if (k >= n.min && seen.has(key)) break;
        seen.add(key);
        cur = next;
      }
      return out;
    }
  }
}

function refTest(pattern: string, s: Uint8Array): boolean {
  const ast = parseRegex(pattern);
  for (let i = 0; i <= s.length; i++) if (ends(ast, s, i, 0, s.length).size > 0) return true;
  return false;
}

const atom = fc.oneof(fc.constantFrom('a', 'b', 'c', '.', '[ab]', '[^a]', '^', '$', '\\x61'));
const patternArb: fc.Arbitrary<string> = fc.letrec<{ re: string }>((tie) => ({
  re: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    atom,
    fc.tuple(tie('re'), tie('re')).map(([x, y]) => x + y),
    fc.tuple(tie('re'), tie('re')).map(([x, y]) => `(${x}|${y})`),
    fc.tuple(tie('re'), fc.constantFrom('*', '+', '?', '{2}', '{0,2}', '{1,}')).map(([x, q]) => `(${x})${q}`),
  ),
})).re;

describe('NFA agrees with a naive backtracking reference', () => {
  it('on random small patterns and inputs over {a,b,c}', () => {
    fc.assert(
      fc.property(patternArb, fc.stringMatching(/^[abc]{0,8}$/), (p, input) => {
        const s = Buffer.from(input, 'latin1');
        expect(new CompiledRegex(p).test(s)).toBe(refTest(p, s));
      }),
      { numRuns: 600 },
    );
  });
});
