/** `rate-limit N`: a token bucket per class and match line (burst N, N per second of capture time). */
import { describe, expect, it } from 'vitest';
import { run, C, S, at, mapFrom, opts, latin1, CTX } from './helpers.js';
import { createEsmtpSession } from '../../src/inspect/esmtp/session.js';
import { EsmtpCounters } from '../../src/inspect/counters.js';
import { defaultEngineOptions } from '../../src/inspect/options.js';
import type { Verdict } from '../../src/inspect/types.js';

const map = (extra = '') => mapFrom(`policy-map type inspect esmtp M
 parameters
  no mask-banner
 match cmd verb NOOP
  rate-limit 3${extra}
`);
const T0 = 1_700_000_000;
const noops = (k: number, sec: number, nsec = 0) => Array.from({ length: k }, () => at(C('NOOP\r\n'), sec, nsec));

describe('rate-limit N', () => {
  it('N events within one second pass; event N+1 cuts the connection at its line (default drop-connection)', () => {
    const ok = run(map(), [at(S('220 x\r\n'), T0), ...noops(3, T0, 500_000_000)]);
    expect(ok.session.state).toBe('inspecting');
    expect(ok.verdicts).toEqual([]);
    const r = run(map(), [at(S('220 x\r\n'), T0), ...noops(4, T0, 500_000_000)]);
    expect(r.session.state).toBe('dropped');
    expect(r.session.dropOffset).toBe(18); // the 4th NOOP
    const v = r.verdicts.at(-1)!;
    expect(v.rule).toBe('match cmd verb NOOP');
    expect(v.action).toBe('drop-connection');
    expect(v.syslog).toEqual([]);
    expect(v.detail).toMatch(/rate-limit 3 exceeded .*the ASA drops this message.*rate-limit-exceeded=drop-connection/);
  });

  it('the bucket refills at N per second of capture time (never wall time)', () => {
    const base = [at(S('220 x\r\n'), T0), ...noops(3, T0), ...noops(3, T0 + 1)];
    expect(run(map(), base).session.state).toBe('inspecting');
    // 0.3 s later only 0.9 of a token is back: refused; 0.34 s later 1.02 tokens: passes
    expect(run(map(), [...base, ...noops(1, T0 + 1, 300_000_000)]).session.state).toBe('dropped');
    expect(run(map(), [...base, ...noops(1, T0 + 1, 340_000_000)]).session.state).toBe('inspecting');
  });

  it('a fraction of a second refills a fraction of N', () => {
    // 3 at t0, then at t0+0.34 one token (3 * 0.34 = 1.02) is back: one passes, the next is refused
    const r = run(map(), [at(S('220 x\r\n'), T0), ...noops(3, T0), ...noops(2, T0, 340_000_000)], opts({ rateLimitExceeded: 'log' }));
    const rl = r.verdicts.filter((v) => v.action === 'rate-limit');
    expect(rl).toHaveLength(1);
    expect(rl[0]!.offset).toBe(4 * 6); // the 5th NOOP
    expect(rl[0]!.detail).toMatch(/would drop this message; reported only \(rate-limit-exceeded=log\)/);
    expect(r.session.state).toBe('inspecting');
    expect(latin1(r.out[0])).toBe('NOOP\r\n'.repeat(5));
  });

  it('log + rate-limit: every event logs (108005), the excess one also gets the rate-limit consequence', () => {
    const r = run(map('\n  log'), [at(S('220 x\r\n'), T0), ...noops(4, T0)]);
    expect(r.verdicts.filter((v) => v.action === 'log')).toHaveLength(4);
    expect(r.verdicts.at(-1)!.action).toBe('drop-connection');
  });

  it('the bucket is per class: connections of the same class share it (ASA policing)', () => {
    const counters = new EsmtpCounters();
    const m = map();
    const verdicts: Verdict[] = [];
    const sink = { edit: () => {}, verdict: (v: Verdict) => verdicts.push(v) };
    const a = createEsmtpSession(m, CTX, defaultEngineOptions(), sink, counters);
    const b = createEsmtpSession(m, CTX, defaultEngineOptions(), sink, counters);
    const noop = Buffer.from('NOOP\r\n');
    a.data(0, noop, 0, T0, 0);
    a.data(0, noop, 6, T0, 0);
    b.data(0, noop, 0, T0, 1);
    expect(b.state).toBe('inspecting');
    b.data(0, noop, 6, T0, 2);
    expect(b.state).toBe('dropped');
    expect(a.state).toBe('inspecting');
  });

  it('without capture time it is reported, not enforced', () => {
    const r = run(map(), [S('220 x\r\n'), ...Array.from({ length: 5 }, () => C('NOOP\r\n'))]);
    expect(r.session.state).toBe('inspecting');
    expect(r.verdicts).toHaveLength(5);
    expect(r.verdicts[0]!.detail).toMatch(/not enforced \(no capture time given to the engine\)/);
  });
});
