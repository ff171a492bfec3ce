/**
 * Policy regexes match attacker bytes: a catastrophic-backtracking pattern from a policy's `regex`
 * lines, used by `match sender-address regex` and `match mime filetype regex`, on a long attacker
 * line in a real session through the engine. The regex engine's own operation counter
 * (CompiledRegex.lastSteps) shows the work grows linearly with the input, never a timer.
 */
import { describe, expect, it } from 'vitest';
import { CompiledRegex } from '../../src/policy/regex.js';
import type { ByteMatcher, EsmtpMap, EsmtpMatch } from '../../src/policy/types.js';
import { compilePolicyText } from '../../src/policy/load.js';
import { defaultEngineOptions } from '../../src/inspect/options.js';
import { runEngine } from '../../src/bench/fuzz-targets/smtp-engine.js';

/**
 * The policy's matcher, wrapped: every test() the engine makes goes to the compiled policy
 * matcher (the answer used) and to a CompiledRegex of the same pattern, whose operation counter
 * (state visits) is summed over the session.
 */
class CountingMatcher implements ByteMatcher {
  steps = 0;
  calls = 0;
  readonly source: string;
  private readonly counter: CompiledRegex;
  constructor(
    private readonly inner: ByteMatcher,
    pattern: string,
  ) {
    this.source = inner.source;
    this.counter = new CompiledRegex(pattern);
  }
  test(bytes: Uint8Array, start = 0, end = bytes.length): boolean {
    this.calls++;
    const answer = this.inner.test(bytes, start, end);
    expect(this.counter.test(bytes, start, end)).toBe(answer);
    this.steps += this.counter.lastSteps;
    return answer;
  }
}

function counted(map: EsmtpMap, pattern: string): { map: EsmtpMap; counter: CountingMatcher } {
  let counter: CountingMatcher | null = null;
  const matches = map.matches.map((m): EsmtpMatch => {
    if (m.criterion.kind !== 'sender-address' && m.criterion.kind !== 'mime-filetype') return m;
    counter = new CountingMatcher(m.criterion.matcher, pattern);
    return { ...m, criterion: { kind: m.criterion.kind, matcher: counter } };
  });
  if (!counter) throw new Error('no regex criterion');
  return { map: { ...map, matches }, counter };
}

const piece = (dir: 0 | 1, s: string) => ({ dir, bytes: Buffer.from(s, 'latin1'), gap: 0 });
/** 1 MiB fields: the whole attacker line reaches the matcher (the default keeps 4 KiB). */
const OPTIONS = { ...defaultEngineOptions(), maxFieldBuffer: 1 << 20 };

function senderSession(pattern: string, n: number): number {
  const { map, counter } = counted(mapWithRegex(pattern, 'sender-address regex evil'), pattern);
  const run = runEngine(map, OPTIONS, [
    piece(1, '220 mx.example.test ESMTP\r\n'),
    piece(0, 'EHLO c.example.test\r\n'),
    piece(1, '250 mx.example.test\r\n'),
    piece(0, `MAIL FROM:<${'a'.repeat(n)}>\r\n`),
    piece(1, '250 2.1.0 Ok\r\n'),
  ]);
  expect(run.state).toBe('inspecting');
  expect(counter.calls).toBe(1);
  return counter.steps;
}

function mimeSession(pattern: string, n: number): number {
  const { map, counter } = counted(mapWithRegex(pattern, 'mime filetype regex evil'), pattern);
  const run = runEngine(map, OPTIONS, [
    piece(1, '220 mx.example.test ESMTP\r\n'),
    piece(0, 'EHLO c.example.test\r\n'),
    piece(1, '250 mx.example.test\r\n'),
    piece(0, 'MAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n'),
    piece(1, '250 Ok\r\n250 Ok\r\n354 go ahead\r\n'),
    piece(0, `From: a@example.test\r\nContent-Type: text/${'a'.repeat(n)}\r\n\r\nbody\r\n.\r\n`),
    piece(1, '250 queued\r\n'),
  ]);
  expect(run.state).toBe('inspecting');
  expect(counter.calls).toBe(1);
  return counter.steps;
}

describe('catastrophic-backtracking patterns stay linear in the engine', () => {
  for (const pattern of ['(a|aa)*b', '(a*)*b']) {
    it(`sender-address regex "${pattern}" on a MAIL FROM of 5k..80k 'a's: steps grow linearly`, () => {
      const s5 = senderSession(pattern, 5_000);
      const s20 = senderSession(pattern, 20_000);
      const s80 = senderSession(pattern, 80_000);
      expect(s5).toBeGreaterThan(5_000); // the matcher really ran over the address
      const states = new CompiledRegex(pattern).stateCount;
      // bounded by (input length + 1) x (2 x NFA states) whatever the pattern
      expect(s80).toBeLessThanOrEqual(80_002 * 2 * states);
      // linear: 16x the input costs ~16x the steps (a backtracker would be exponential)
      expect(s80 / s5).toBeGreaterThan(12);
      expect(s80 / s5).toBeLessThan(20);
      expect(s80 / s20).toBeLessThan(5);
    });

    it(`mime filetype regex "${pattern}" on a 5k..80k Content-Type: steps grow linearly`, () => {
      const s5 = mimeSession(pattern, 5_000);
      const s80 = mimeSession(pattern, 80_000);
      expect(s5).toBeGreaterThan(5_000);
      expect(s80 / s5).toBeGreaterThan(12);
      expect(s80 / s5).toBeLessThan(20);
    });
  }

  it('with the default 4 KiB field buffer a 1 MB address costs no more than a 4 KiB one', () => {
    const pattern = '(a|aa)*b';
    const run = (n: number): number => {
      const { map, counter } = counted(mapWithRegex(pattern, 'sender-address regex evil'), pattern);
      runEngine(map, defaultEngineOptions(), [
        piece(1, '220 mx ESMTP\r\n'),
        piece(0, 'EHLO c\r\n'),
        piece(1, '250 mx\r\n'),
        piece(0, `MAIL FROM:<${'a'.repeat(n)}>\r\n`),
      ]);
      return counter.steps;
    };
    const small = run(4096);
    expect(small).toBeGreaterThan(4096);
    expect(run(1 << 20)).toBeLessThanOrEqual(small);
  });

  it('the pattern still matches when it should (the engine fires the rule)', () => {
    const m = mapWithRegex('(a|aa)*b', 'sender-address regex evil');
    const r = runEngine(m, OPTIONS, [
      piece(1, '220 mx ESMTP\r\n'),
      piece(0, 'EHLO c\r\n'),
      piece(1, '250 mx\r\n'),
      piece(0, `MAIL FROM:<${'a'.repeat(10_000)}b@example.test>\r\n`),
    ]);
    expect(r.state).toBe('dropped');
  });
});

function mapWithRegex(pattern: string, criterion: string): EsmtpMap {
  return mapWithText(`regex evil "${pattern}"\n`, ` match ${criterion}\n  drop-connection log\n`);
}

function mapWithText(top: string, lines: string): EsmtpMap {
  const m = compilePolicyText(`${top}policy-map type inspect esmtp RX\n${lines}`, 'regex-test').esmtpMaps.get('RX');
  if (!m) throw new Error('no map');
  return m;
}
