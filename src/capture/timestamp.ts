/**
 * Timestamps as stored (a 64-bit count of units, split high/low, in a per-interface resolution)
 * to wall clock (seconds + nanoseconds) and back.
 *
 * The common resolutions 10^-0 .. 10^-9 (µs and ns above all) are converted with exact integer
 * arithmetic on doubles (every intermediate stays below 2^53), so the per-packet path never
 * allocates. Exotic resolutions (10^-10 and finer, any 2^-n) go through BigInt.
 */

const TWO_32 = 4294967296;
const TWO_16 = 65536;

/** Output slot for a wall-clock conversion (CaptureRecord satisfies it). */
export interface WallTime {
  tsSec: number;
  tsNsec: number;
}

/** Output slot for a stored-count conversion. */
export interface RawTime {
  high: number;
  low: number;
}

export class TsConverter {
  readonly base: 10 | 2;
  readonly exponent: number;
  readonly offsetSeconds: number;
  /** True for 10^-n with n <= 9: exact double arithmetic, no BigInt. */
  readonly fast: boolean;
  /** Units per second (fast path only). */
  private readonly unitsPerSecond: number;
  /** Nanoseconds per unit (fast path only). */
  private readonly nsPerUnit: number;
  /** Units per second as a BigInt (slow path). */
  private readonly bigUnits: bigint;

  constructor(base: 10 | 2, exponent: number, offsetSeconds = 0) {
    this.base = base;
    this.exponent = exponent;
    this.offsetSeconds = offsetSeconds;
    this.fast = base === 10 && exponent <= 9;
    this.unitsPerSecond = this.fast ? 10 ** exponent : 0;
    this.nsPerUnit = this.fast ? 10 ** (9 - exponent) : 0;
    this.bigUnits = base === 10 ? 10n ** BigInt(exponent) : 1n << BigInt(exponent);
  }

  /** Converts the stored count (high, low) into `out.tsSec`/`out.tsNsec`, with if_tsoffset applied. */
  toWall(high: number, low: number, out: WallTime): void {
    if (this.fast) {
      // Long division of the 64-bit count by D in base 2^16 digits: each step's dividend < D * 2^16 < 2^53.
      const d = this.unitsPerSecond;
      const q1 = Math.floor(high / d);
      const r1 = high - q1 * d;
      const n2 = r1 * TWO_16 + (low >>> 16);
      const q2 = Math.floor(n2 / d);
      const r2 = n2 - q2 * d;
      const n3 = r2 * TWO_16 + (low & 0xffff);
      const q3 = Math.floor(n3 / d);
      const r3 = n3 - q3 * d;
      out.tsSec = q1 * TWO_32 + q2 * TWO_16 + q3 + this.offsetSeconds;
      out.tsNsec = r3 * this.nsPerUnit;
      return;
    }
    const total = (BigInt(high) << 32n) | BigInt(low);
    const sec = total / this.bigUnits;
    const rem = total - sec * this.bigUnits;
    out.tsSec = Number(sec) + this.offsetSeconds;
    out.tsNsec = Number((rem * 1_000_000_000n) / this.bigUnits);
  }

  /**
   * Converts wall time into the stored count (if_tsoffset removed). Sub-unit nanoseconds are
   * truncated; counts that would be negative become 0 (a stored count is unsigned).
   */
  fromWall(tsSec: number, tsNsec: number, out: RawTime): void {
    const s = tsSec - this.offsetSeconds;
    if (this.fast && s >= 0 && s < TWO_32 && Number.isInteger(s)) {
      const d = this.unitsPerSecond;
      const units = Math.floor(tsNsec / this.nsPerUnit);
      // count = s*d + units, assembled from 16-bit pieces so nothing exceeds 2^53.
      const sh = Math.floor(s / TWO_16);
      const sl = s - sh * TWO_16;
      const a = sh * d;
      const ah = Math.floor(a / TWO_16);
      const al = a - ah * TWO_16;
      const t = al * TWO_16 + sl * d + units;
      const carry = Math.floor(t / TWO_32);
      out.high = ah + carry;
      out.low = t - carry * TWO_32;
      return;
    }
    let total = BigInt(Math.trunc(s)) * this.bigUnits + (BigInt(Math.trunc(tsNsec)) * this.bigUnits) / 1_000_000_000n;
    if (total < 0n) total = 0n;
    total &= 0xffff_ffff_ffff_ffffn;
    out.high = Number(total >> 32n);
    out.low = Number(total & 0xffff_ffffn);
  }

  /** Decimal digits of sub-second precision this resolution carries (for ISO 8601 output), at most 9. */
  get fractionDigits(): number {
    return resolutionFractionDigits(this.base, this.exponent);
  }
}

/**
 * Decimal digits of sub-second precision a base^-exponent resolution carries, at most 9. A 2^-n tick
 * is not a whole number of any coarser decimal unit (2^-10 s = 0.0009765625 s), so 2^-n prints all
 * 9 nanosecond digits, as tshark does (frame.time_epoch): fewer would show times tshark does not.
 */
export function resolutionFractionDigits(base: 10 | 2, exponent: number): number {
  const digits = base === 10 ? exponent : exponent > 0 ? 9 : 0;
  return Math.max(0, Math.min(9, digits));
}

/** The finest resolution among `interfaces` as fraction digits; null when there is none (unknown precision). */
export function finestFractionDigits(interfaces: readonly { tsResolutionBase: 10 | 2; tsResolutionExponent: number }[]): number | null {
  let best: number | null = null;
  for (const i of interfaces) {
    const d = resolutionFractionDigits(i.tsResolutionBase, i.tsResolutionExponent);
    if (best === null || d > best) best = d;
  }
  return best;
}
