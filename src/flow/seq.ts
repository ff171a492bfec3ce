/**
 * Wrap-safe 32-bit TCP sequence arithmetic (RFC 1982 serial numbers). Raw sequence numbers are
 * never compared with `<`: two values are ordered by their signed 32-bit difference, which is
 * right as long as they are less than 2^31 apart (always true inside a TCP window).
 */

/** a - b as a signed 32-bit number: > 0 when a is after b. */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/** a + n as an unsigned 32-bit sequence number (n may be negative). */
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

export function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

export function seqLe(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}

export function seqGt(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

export function seqGe(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}

/** The later of two sequence numbers. */
export function seqMax(a: number, b: number): number {
  return ((a - b) | 0) >= 0 ? a : b;
}

/** The earlier of two sequence numbers. */
export function seqMin(a: number, b: number): number {
  return ((a - b) | 0) <= 0 ? a : b;
}
