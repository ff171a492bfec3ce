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

/** The epb_hash options among the options buf[start, end) (byte order `le`): each value's offset and length. */
function* hashOptions(buf: Buffer, start: number, end: number, le: boolean): Generator<{ value: number; len: number }> {
  let q = start;
  while (q + 4 <= end) {
    const code = u16(buf, q, le);
    const olen = u16(buf, q + 2, le);
    if (code === 0 || q + 4 + olen > end) break;
    if (code === EPB_HASH) yield { value: q + 4, len: olen };
    q += 4 + pad4(olen);
  }
}

/** What the options buf[start, end) (byte order `le`) hold in epb_hash options: bit 1 recomputable, bit 2 not. */
export function hashKinds(buf: Buffer, start: number, end: number, le: boolean): number {
  let kinds = 0;
  for (const h of hashOptions(buf, start, end, le)) kinds |= hashRecomputable(buf, h.value, h.len) ? 1 : 2;
  return kinds;
}

/**
 * The digests of one packet's bytes, each computed once however many epb_hash options of the
 * packet ask for it: a block may carry thousands of identical hash options (64 KiB of options),
 * and hashing the packet once per option made an edited packet cost options x packet bytes
 * (2,000 packets of 1.4 KB with 2,000 MD-5 options each: 11.5 s instead of 0.4 s).
 */
export class PacketDigests {
  private readonly done = new Map<number, Buffer>();

  /** The digest of data[from, from + n) by algorithm `alg` (a DIGESTS key). */
  of(alg: number, name: string, data: Buffer, from: number, n: number): Buffer {
    let d = this.done.get(alg);
    if (d === undefined) {
      d = createHash(name).update(data.subarray(from, from + n)).digest();
      this.done.set(alg, d);
    }
    return d;
  }
}

/**
 * Writes over the recomputable hash whose value is at buf[value, value + len) the digest of
 * data[from, from + n); `digests` shares the digests among the hash options of one packet.
 */
export function recomputeHash(buf: Buffer, value: number, len: number, data: Buffer, from: number, n: number, digests: PacketDigests): void {
  const alg = buf[value]!;
  const d = DIGESTS.get(alg);
  if (d === undefined || len !== 1 + d.size) return;
  digests.of(alg, d.name, data, from, n).copy(buf, value + 1);
}

/** Recomputes every recomputable epb_hash among the options buf[start, end) over data[from, from + n). */
export function recomputeHashes(buf: Buffer, start: number, end: number, le: boolean, data: Buffer, from: number, n: number): void {
  const digests = new PacketDigests();
  for (const h of hashOptions(buf, start, end, le)) recomputeHash(buf, h.value, h.len, data, from, n, digests);
}
