/**
 * A length/count measured against every `gt N` of one criterion kind. `advance` reports each
 * threshold crossed together with the stream offset of the byte that made the value N+1, so a
 * match fires exactly once per measured unit, at a position independent of segmentation.
 */
import type { EsmtpMatch } from '../../policy/types.js';

/**
 * The thresholds of one criterion kind of one policy-map, computed once and shared by every
 * session's Meter (a session then costs two numbers per meter, not arrays and sets).
 */
export class MeterSpec {
  /** Distinct thresholds of the non-`not` matches, ascending, with their matches. */
  readonly thresholds: number[];
  readonly groups: EsmtpMatch[][];
  /** `match not … gt N`: evaluated at the end of the unit. */
  readonly negated: EsmtpMatch[];

  constructor(matches: readonly EsmtpMatch[], gtOf: (m: EsmtpMatch) => number) {
    const positive = matches.filter((m) => !m.not);
    this.thresholds = [...new Set(positive.map(gtOf))].sort((a, b) => a - b);
    this.groups = this.thresholds.map((t) => positive.filter((m) => gtOf(m) === t));
    this.negated = matches.filter((m) => m.not);
  }
}

export class Meter {
  value = 0;
  private ptr = 0;
  private readonly thresholds: number[];
  private readonly groups: EsmtpMatch[][];
  /** `match not … gt N`: evaluated at the end of the unit. */
  readonly negated: EsmtpMatch[];

  /** From a shared spec, or (matches, gtOf) for a one-off meter. */
  constructor(spec: MeterSpec | readonly EsmtpMatch[], gtOfFn?: (m: EsmtpMatch) => number) {
    const sp = spec instanceof MeterSpec ? spec : new MeterSpec(spec, gtOfFn ?? gtOf);
    this.thresholds = sp.thresholds;
    this.groups = sp.groups;
    this.negated = sp.negated;
  }

  get active(): boolean {
    return this.thresholds.length > 0 || this.negated.length > 0;
  }

  reset(): void {
    this.value = 0;
    this.ptr = 0;
  }

  /**
   * Add `delta`; the k-th added unit sits at stream offset `firstOffset + k`. Calls `hit` for
   * each crossed threshold (in ascending order); stops early when `hit` returns false. `ctx` is
   * passed on to `hit` (so callers can use one static function instead of a closure each).
   */
  advance<C = undefined>(delta: number, firstOffset: number, hit: (m: EsmtpMatch, offset: number, ctx: C) => boolean, ctx?: C): boolean {
    const old = this.value;
    this.value += delta;
    while (this.ptr < this.thresholds.length) {
      const t = this.thresholds[this.ptr]!;
      if (this.value <= t) break;
      this.ptr++;
      const off = firstOffset + Math.max(0, t - old);
      for (const m of this.groups[this.ptr - 1]!) if (!hit(m, off, ctx as C)) return false;
    }
    return true;
  }

  /** Units that can be added before the next threshold is crossed by the last of them (Infinity if none). */
  untilCross(): number {
    const t = this.thresholds[this.ptr];
    return t === undefined ? Infinity : t + 1 - this.value;
  }

  /** Quick check: will adding `delta` cross a threshold? (lets hot loops skip the call). */
  crosses(delta: number): boolean {
    const t = this.thresholds[this.ptr];
    return t !== undefined && this.value + delta > t;
  }
}

export function gtOf(m: EsmtpMatch): number {
  return 'gt' in m.criterion ? m.criterion.gt : 0;
}
