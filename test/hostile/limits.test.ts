/**
 * Small versions of the bench section "hostile" (the same generators, src/bench/sections/hostile.ts):
 * lines that never end, huge header blocks, many RCPTs, pipelining floods and a SYN flood. Memory
 * is asserted flat by heap-after-GC growth that does not scale with the input (the engine keeps
 * no stats of its own) and by the flow table's own counters; the right rule fires exactly once.
 */
import { describe, expect, it } from 'vitest';
import { defaultEngineOptions } from '../../src/inspect/options.js';
import { longBodyLine, longCommandLine, longHeaderLine, manyHeaders, manyRcpts, mapWith, pipelineFlood, synFlood, type AttackResult } from '../../src/bench/sections/hostile.js';

const MB = 1024 * 1024;
/** Growth allowed whatever the input size (JIT feedback, small fixed buffers, GC noise). */
const FLAT = 2 * MB;

function only(r: AttackResult, rule: string): void {
  const fired = Object.entries(r.rules).filter(([k]) => k !== 'mask-banner' && k !== 'pipelining-limit');
  expect(fired, JSON.stringify(r.details)).toEqual([[rule, 1]]);
}

describe('lines that never end', () => {
  it('a command line without LF: cmd line length fires once (drop), memory flat from 2 MB to 16 MB', () => {
    const small = longCommandLine(2 * MB);
    const big = longCommandLine(16 * MB);
    only(big, 'match cmd line length gt 512');
    expect(big.state).toBe('dropped');
    expect(big.heapGrowthBytes).toBeLessThan(FLAT);
    expect(Math.abs(big.heapGrowthBytes - small.heapGrowthBytes)).toBeLessThan(FLAT);
  });

  it('with `log` only the session goes on reading the same line: the rule still fires once', () => {
    const r = longCommandLine(16 * MB, mapWith(' match cmd line length gt 512\n  log\n'));
    only(r, 'match cmd line length gt 512');
    expect(r.state).toBe('inspecting');
    expect(r.heapGrowthBytes).toBeLessThan(FLAT);
  });

  it('a header line of 16 MB: header line length fires once (drop); with log, once and flat', () => {
    const d = longHeaderLine(16 * MB);
    only(d, 'match header line length gt 998');
    expect(d.state).toBe('dropped');
    const l = longHeaderLine(16 * MB, mapWith(' match header line length gt 998\n  log\n'));
    only(l, 'match header line length gt 998');
    expect(l.heapGrowthBytes).toBeLessThan(FLAT);
  });

  it('a body line of 16 MB: body line length (log in the default map) fires once, the message completes', () => {
    const r = longBodyLine(16 * MB);
    only(r, 'match body line length gt 998');
    expect(r.state).toBe('inspecting');
    expect(r.heapGrowthBytes).toBeLessThan(FLAT);
  });
});

describe('huge header blocks', () => {
  it('16 MB of headers in 100-byte lines: header length fires once, memory flat', () => {
    const map = mapWith(' match header length gt 1000000\n  log\n match header line length gt 998\n  log\n');
    const small = manyHeaders(2 * MB, map);
    const big = manyHeaders(16 * MB, map);
    only(big, 'match header length gt 1000000');
    expect(big.heapGrowthBytes).toBeLessThan(FLAT);
    expect(Math.abs(big.heapGrowthBytes - small.heapGrowthBytes)).toBeLessThan(FLAT);
  });
});

describe('many RCPTs', () => {
  it('default map: the 101st RCPT drops the connection, once', () => {
    const r = manyRcpts(20_000);
    only(r, 'match cmd RCPT count gt 100');
    expect(r.details.some((d) => d.includes('RCPT #101 '))).toBe(true);
    expect(r.state).toBe('dropped');
  });

  it('a raised limit (gt 50000, log): counting goes on to 200k in constant memory and fires once at #50001', () => {
    const map = mapWith(' match cmd RCPT count gt 50000\n  log\n');
    const small = manyRcpts(20_000, map);
    expect(Object.keys(small.rules).filter((k) => k.startsWith('match'))).toEqual([]);
    const big = manyRcpts(200_000, map);
    only(big, 'match cmd RCPT count gt 50000');
    expect(big.details.some((d) => d.includes('RCPT #50001 '))).toBe(true);
    expect(big.state).toBe('inspecting');
    expect(big.heapGrowthBytes).toBeLessThan(FLAT);
  });

  it('per-connection scope counts across transactions too', () => {
    const r = manyRcpts(300, mapWith(' match cmd RCPT count gt 250\n  log\n'), { ...defaultEngineOptions(), rcptCountScope: 'connection' });
    only(r, 'match cmd RCPT count gt 250');
  });
});

describe('pipelining floods', () => {
  it('100k NOOPs in one segment: the pending queue stays bounded (a note, not growth), nothing edited', () => {
    const small = pipelineFlood(10_000);
    const big = pipelineFlood(100_000);
    expect(big.state).toBe('inspecting');
    expect(big.edits).toBe(1); // the banner mask only
    expect(big.rules['pipelining-limit']).toBeGreaterThan(0);
    // Notes are rate-limited, not one per forgotten command.
    expect(big.rules['pipelining-limit']).toBeLessThan(100);
    expect(big.heapGrowthBytes - small.heapGrowthBytes).toBeLessThan(FLAT);
  });

  it("100k unknown verbs in one segment: every one X'd (100k verdicts, 4 bytes each), nothing else", () => {
    const r = pipelineFlood(100_000, 'XYZW');
    expect(r.rules['unknown-command']).toBe(100_000);
    expect(r.editBytes).toBe(100_000 * 4 + 29); // + the masked banner
    expect(r.state).toBe('inspecting');
  });
});

describe('SYN flood', () => {
  it('50k half-open connections over 100 s of capture time: the 30 s half-open timeout bounds the table', () => {
    const r = synFlood(50_000, 100);
    // 500 SYNs/s x 30 s: at most ~15,000 at once, every older one timed out and counted.
    expect(r.peakOpen).toBeLessThanOrEqual(15_001);
    expect(r.peakOpen).toBeGreaterThan(14_000);
    expect(r.halfOpenTimeouts).toBe(50_000 - r.size);
    expect(r.embryonic).toBe(r.size);
    expect(r.memoryInUse).toBe(0);
    expect(r.evicted).toBe(0);
  });

  it('50k SYNs within one second against a 10k table: the oldest half-open ones are evicted and counted', () => {
    const r = synFlood(50_000, 1, { maxConnections: 10_000 });
    expect(r.size).toBe(10_000);
    expect(r.connectionLimitHits).toBe(40_000);
    expect(r.evicted).toBe(40_000);
    expect(r.halfOpenTimeouts).toBe(0);
  });
});
