/**
 * epb_hash (pack_hash in the obsolete Packet Block; option code 3) on a packet whose bytes were
 * edited. The option is a digest of the packet's bytes (pcapng draft, draft-ietf-opsawg-pcapng
 * §4.3.1: "The hash covers only the packet"), so kept unchanged on an edited packet it would state a
 * digest the written bytes no longer have, and a reader that checks it (or merges/dedups captures
 * by it) would take the packet as damaged or as another packet. MD-5 (algorithm 3) and SHA-1 (4)
 * are recomputed over the bytes written (same length: the block keeps its size). The others cannot
 * be recomputed faithfully: 2s complement and XOR have no defined size in the draft, CRC32's byte
 * order is not stated, and Toeplitz needs the NIC's secret key; an edited packet loses them.
 * Unedited packets keep every hash as read (not even checked: we do not correct the input).
 */
import { createHash } from 'node:crypto';
import { u16 } from './bytes.js';
import { pad4 } from './pcapng-reader.js';

export const EPB_HASH = 3;

const DIGESTS: ReadonlyMap<number, { name: string; size: number }> = new Map([
  [3, { name: 'md5', size: 16 }],
  [4, { name: 'sha1', size: 20 }],
]);

/** Whether an epb_hash option value (algorithm octet + digest) can be recomputed here. */
export function hashRecomputable(buf: Buffer, value: number, len: number): boolean {
  if (len < 1) return false;
  const d = DIGESTS.get(buf[value]!);
  return d !== undefined && len === 1 + d.size;
}

/** What the options buf[start, end) (byte order `le`) hold in epb_hash options: bit 1 recomputable, bit 2 not. */
export function hashKinds(buf: Buffer, start: number, end: number, le: boolean): number {
  let kinds = 0;
  let q = start;
  while (q + 4 <= end) {
    const code = u16(buf, q, le);
    const olen = u16(buf, q + 2, le);
    if (code === 0 || q + 4 + olen > end) break;
    if (code === EPB_HASH) kinds |= hashRecomputable(buf, q + 4, olen) ? 1 : 2;
    q += 4 + pad4(olen);
  }
  return kinds;
}

/** Writes over the recomputable hash whose value is at buf[value, value + len) the digest of data[from, from + n). */
export function recomputeHash(buf: Buffer, value: number, len: number, data: Buffer, from: number, n: number): void {
  const d = DIGESTS.get(buf[value]!);
  if (d === undefined || len !== 1 + d.size) return;
  createHash(d.name).update(data.subarray(from, from + n)).digest().copy(buf, value + 1);
}

/** Recomputes every recomputable epb_hash among the options buf[start, end) over data[from, from + n). */
export function recomputeHashes(buf: Buffer, start: number, end: number, le: boolean, data: Buffer, from: number, n: number): void {
  let q = start;
  while (q + 4 <= end) {
    const code = u16(buf, q, le);
    const olen = u16(buf, q + 2, le);
    if (code === 0 || q + 4 + olen > end) break;
    if (code === EPB_HASH) recomputeHash(buf, q + 4, olen, data, from, n);
    q += 4 + pad4(olen);
  }
}
