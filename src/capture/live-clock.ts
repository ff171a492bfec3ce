/**
 * Arrival timestamps for live capture. `cap` does not pass libpcap's per-packet timestamp to
 * JavaScript, so each record is stamped when its callback runs: a monotonic nanosecond clock
 * (process.hrtime) anchored once to the wall clock (Date.now(), millisecond precision). Stamps are
 * monotonic and ns-resolution, but include the kernel-to-callback delay and share the anchor's
 * millisecond offset from true wall time; a later NTP step of the system clock is not followed.
 */
export class ArrivalClock {
  private readonly anchorNs: bigint;

  constructor(nowMs: number = Date.now(), hr: bigint = process.hrtime.bigint()) {
    this.anchorNs = BigInt(nowMs) * 1_000_000n - hr;
  }

  /** Writes seconds + nanoseconds since the epoch of "now" into `out`. */
  stamp(out: { tsSec: number; tsNsec: number }): void {
    const ns = this.anchorNs + process.hrtime.bigint();
    out.tsSec = Number(ns / 1_000_000_000n);
    out.tsNsec = Number(ns % 1_000_000_000n);
  }
}

/**
 * Copies records out of cap's one shared buffer into large slabs: one allocation per slab instead
 * of per packet, and a slab is never overwritten, so a copy stays valid as long as anyone holds it.
 */
export class SlabCopier {
  private slab: Buffer;
  private used = 0;

  constructor(private readonly slabSize = 4 * 1024 * 1024) {
    this.slab = Buffer.allocUnsafe(slabSize);
  }

  copy(src: Buffer, length: number): Buffer {
    if (this.used + length > this.slab.length) {
      this.slab = Buffer.allocUnsafe(Math.max(this.slabSize, length));
      this.used = 0;
    }
    const out = this.slab.subarray(this.used, this.used + length);
    src.copy(out, 0, 0, length);
    // Keep records 8-byte aligned so typed-array views over them stay cheap.
    this.used += (length + 7) & ~7;
    return out;
  }
}
