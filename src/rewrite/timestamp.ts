/**
 * Timestamps for packets the pipeline adds (RSTs of a reset action): "just after" a given packet,
 * one tick of the capture's own resolution later, expressed both as wall time and as the raw
 * stored form writers copy (pcap: seconds + fraction; pcapng: a 64-bit count of ticks).
 */
import type { CaptureFormat } from '../capture/types.js';

export interface TimestampFields {
  tsSec: number;
  tsNsec: number;
  tsRawHigh: number;
  tsRawLow: number;
}

export interface TimeResolution {
  format: CaptureFormat;
  base: 10 | 2;
  exponent: number;
  tsOffsetSeconds: number;
}

export const MICROSECOND_PCAP: TimeResolution = { format: 'pcap', base: 10, exponent: 6, tsOffsetSeconds: 0 };

function ticksPerSecond(res: TimeResolution): bigint {
  return BigInt(res.base) ** BigInt(res.exponent);
}

/** `steps` ticks of `res` after `src`'s wall time, written into `out` (which may be `src`). */
export function timestampAfter(src: TimestampFields, steps: number, res: TimeResolution, out: TimestampFields): void {
  const tps = ticksPerSecond(res);
  if (res.format === 'pcap') {
    let high = BigInt(src.tsRawHigh);
    let low = BigInt(src.tsRawLow) + BigInt(steps);
    high += low / tps;
    low %= tps;
    out.tsRawHigh = Number(high & 0xffffffffn);
    out.tsRawLow = Number(low);
    out.tsSec = Number(high);
    out.tsNsec = Number((low * 1_000_000_000n) / tps);
    return;
  }
  // From the wall time, not the raw count: `src` may come from another interface (the other
  // direction of a merged capture) whose resolution or offset differs from `res`. Flooring to a
  // coarser resolution still lands after `src` once a step is added.
  const sinceOffset = BigInt(Math.trunc(src.tsSec)) - BigInt(Math.trunc(res.tsOffsetSeconds));
  const ticks = sinceOffset * tps + (BigInt(src.tsNsec) * tps) / 1_000_000_000n + BigInt(steps);
  const count = ticks < 0n ? 0n : ticks;
  out.tsRawHigh = Number((count >> 32n) & 0xffffffffn);
  out.tsRawLow = Number(count & 0xffffffffn);
  out.tsSec = Number(count / tps) + res.tsOffsetSeconds;
  out.tsNsec = Number(((count % tps) * 1_000_000_000n) / tps);
}
