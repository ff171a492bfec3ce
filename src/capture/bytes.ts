/** Unsigned integer reads in either byte order, without bounds checks (callers check lengths once). */

export function u16(b: Buffer, i: number, le: boolean): number {
  return le ? b[i]! | (b[i + 1]! << 8) : (b[i]! << 8) | b[i + 1]!;
}

export function u32(b: Buffer, i: number, le: boolean): number {
  return le
    ? (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0
    : ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
}

export function i32(b: Buffer, i: number, le: boolean): number {
  return u32(b, i, le) | 0;
}

/** Signed 64-bit value as a Number (exact up to 2^53; larger magnitudes lose low bits). */
export function i64(b: Buffer, i: number, le: boolean): number {
  return Number(le ? b.readBigInt64LE(i) : b.readBigInt64BE(i));
}

export function hex(b: Buffer, start: number, end: number): string {
  return b.subarray(start, Math.min(end, b.length)).toString('hex');
}
